"""The HTTP and WebSocket edge: Litestar app factory, routes, middleware and error mapping."""
