"""Application services: what the routes call. They receive stores and settings, never build
them."""
