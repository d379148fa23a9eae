"""DocStream: a self-hostable real-time collaborative plain-text editor."""

__version__ = "0.1.0"
