"""One module-level encoder and one decoder per direction.

``decode_client_frame`` turns any bytes or text into a ``ClientFrame`` or raises a
``ProtocolError`` / ``TooLargeError`` with a message a client author can act on; it never lets a
``msgspec`` or ``UnicodeDecodeError`` escape, nor the ``RecursionError`` msgspec raises for JSON
nested deeper than it recurses (an unknown field may hold any JSON, and msgspec walks it to skip
it): a frame nested thousands deep is a ``bad_message`` like any other.
"""

from __future__ import annotations

import msgspec

from docstream.errors import ProtocolError, TooLargeError
from docstream.protocol.messages import ClientFrame, ServerFrame

_client_decoder = msgspec.json.Decoder(ClientFrame)
_server_decoder = msgspec.json.Decoder(ServerFrame)
encoder = msgspec.json.Encoder()


def encode(frame: msgspec.Struct) -> bytes:
    return encoder.encode(frame)


def utf8_size(text: str, limit: int) -> int:
    """The size of ``text`` in UTF-8 bytes, as far as comparing it with ``limit`` needs: a text
    of at most ``limit // 4`` characters is within it whatever it holds (encoding it to count
    would copy every frame), a longer one is measured (up to 4 bytes per character)."""
    if len(text) <= limit // 4:
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def decode_client_frame(data: bytes | str, max_bytes: int) -> ClientFrame:
    size = utf8_size(data, max_bytes) if isinstance(data, str) else len(data)
    if size > max_bytes:
        raise TooLargeError(f"frame of {size} bytes exceeds the limit of {max_bytes}")
    try:
        frame: ClientFrame = _client_decoder.decode(data)
        return frame
    except msgspec.ValidationError as exc:
        raise ProtocolError(f"invalid frame: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ProtocolError(f"malformed JSON: {exc}") from None
    except RecursionError:
        # msgspec recurses into what it skips (an unknown field): deep nesting exhausts the stack.
        raise ProtocolError("malformed JSON: nested too deeply") from None


def decode_server_frame(data: bytes | str) -> ServerFrame:
    try:
        frame: ServerFrame = _server_decoder.decode(data)
        return frame
    except msgspec.DecodeError as exc:
        raise ProtocolError(f"invalid server frame: {exc}") from None
