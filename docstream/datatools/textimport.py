"""Plain text and Markdown files into new documents (``docstream import``, ``POST
/documents/import``).

The rules, the same from the command line and the web:

* ``.txt`` and ``.md`` files only (any case). The title is the first level-one Markdown heading
  (``# Title``) of a ``.md`` file, else the file name without its extension.
* The bytes must be UTF-8 (a leading byte-order mark is dropped) without NUL, and the text at most
  ``max_document_chars`` code points. Line ends become ``\\n``.
* The text becomes a normal CRDT insert of a server-side replica (``imp_...``, bound to the
  owner) in the ops log, so the server opens an imported document like any other; the document
  and its log are created in one transaction (``DocumentStore.create_document_with_log``), so a
  refused or interrupted import leaves nothing behind.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import PurePath

from docstream.collab.loader import encode_payload
from docstream.crdt import Document, Insert
from docstream.crdt.ops import MAX_INSERT_LENGTH
from docstream.errors import DocStreamError, InvalidInputError, QuotaExceededError, TooLargeError
from docstream.services.documents import MAX_TITLE, validate_title
from docstream.storage.base import DocumentRecord, DocumentStore, NewLogEntry

SUFFIXES = (".txt", ".md")
_HEADING = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
#: What one log entry of an import holds at most (the history shows one entry per piece).
PIECE = MAX_INSERT_LENGTH


@dataclass(frozen=True, slots=True)
class Limits:
    max_chars: int
    max_owned: int | None = None


def _title(name: str, text: str) -> str:
    path = PurePath(name)
    candidates = []
    if path.suffix.lower() == ".md" and (match := _HEADING.search(text)):
        candidates.append(match[1].strip()[:MAX_TITLE])
    candidates.append(path.stem[:MAX_TITLE])
    error: DocStreamError | None = None
    for candidate in candidates:
        try:
            return validate_title(candidate)
        except InvalidInputError as exc:
            error = error or exc
    assert error is not None
    raise error


def decode(name: str, data: bytes, max_chars: int) -> tuple[str, str]:
    """``(title, text)`` of a file, or ``InvalidInputError`` / ``TooLargeError`` saying why not."""
    if PurePath(name).suffix.lower() not in SUFFIXES:
        raise InvalidInputError("not a .txt or .md file")
    if len(data) > 4 * max_chars + 3:
        raise TooLargeError(f"longer than the limit of {max_chars} characters")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"not UTF-8 text (invalid byte at offset {exc.start})") from None
    if "\x00" in text:
        raise InvalidInputError("contains a NUL character (a binary file?)")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > max_chars:
        raise TooLargeError(f"{len(text)} characters, more than the limit of {max_chars}")
    return _title(name, text), text


def log_entries(user_id: str, replica: str, text: str) -> list[NewLogEntry]:
    """``text`` typed into an empty document by ``replica``, as log entries of one insert each."""
    doc = Document(replica=replica)
    entries = []
    for start in range(0, len(text), PIECE):
        piece = text[start : start + PIECE]
        ops = doc.insert(len(doc), piece)
        spans = [
            (first := int(op.id.rpartition(":")[2]), first + len(op.text) - 1)
            for op in ops
            if isinstance(op, Insert)
        ]
        entries.append(
            NewLogEntry(
                user_id=user_id,
                replica=replica,
                payload=encode_payload(ops),
                counter_lo=min(lo for lo, _ in spans),
                counter_hi=max(hi for _, hi in spans),
                kind="insert",
                position=start,
                length=len(piece),
                preview=piece[:100],
            )
        )
    return entries


async def import_file(
    store: DocumentStore, owner_id: str, name: str, data: bytes, limits: Limits
) -> DocumentRecord:
    """Create one document from a file, all or nothing; raises the reason it was refused."""
    title, text = decode(name, data, limits.max_chars)
    if limits.max_owned is not None:
        owned = await store.count_owned_documents(owner_id)
        if owned >= limits.max_owned:
            raise QuotaExceededError(
                f"the owner has {owned} documents, the most allowed is {limits.max_owned}"
            )
    replica = "imp_" + secrets.token_urlsafe(12)
    return await store.create_document_with_log(
        owner_id, title, log_entries(owner_id, replica, text)
    )
