"""The wire protocol (PROTOCOL.md §2): frames as tagged msgspec Structs and a sans-I/O session."""
