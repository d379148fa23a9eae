"""The wire protocol (docs/protocol.md §5): frames as tagged msgspec Structs, the error and
close-code table, and the two sans-I/O sessions (``session.ClientSession``,
``server.ServerSession``)."""
