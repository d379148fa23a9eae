"""Fan-out between server processes: one ``Broker`` interface, in-process and Redis backends."""

from docstream.pubsub.base import Broker, Handler

__all__ = ["Broker", "Handler"]
