"""Every document's current text as files (``docstream export --all DIR [--format md|txt|html]``).

One folder per owner e-mail, one ``<title>.md`` per document (``.txt``: the same text; ``.html``:
the text rendered as a standalone, sanitised page, see services/rendering.py): names are made
safe for every
common file system (no path separators, control or reserved characters, no reserved Windows
names, not too long) and unique within their folder regardless of case (``Notes (2).md``). The
reverse of ``docstream import``.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from pathlib import Path

from docstream.collab import slices
from docstream.collab.loader import load_document
from docstream.errors import ConfigurationError
from docstream.services.rendering import render_page
from docstream.storage.base import DocumentStore

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)
MAX_NAME = 120


def safe_name(title: str, taken: set[str]) -> str:
    """A file name stem for ``title``, not in ``taken`` (lower-cased stems; updated)."""
    name = _UNSAFE.sub("_", title).strip().strip(".").strip() or "Untitled"
    name = name[:MAX_NAME].rstrip(" .") or "Untitled"
    if name.lower() in _RESERVED:
        name = f"_{name}"
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{name} ({n})"
    taken.add(candidate.lower())
    return candidate


def _empty_or_new(directory: Path) -> bool:
    return not directory.exists() or (directory.is_dir() and not any(directory.iterdir()))


def _write(path: Path, text: str) -> None:
    """A new file only this user can read (never overwriting one)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        out.write(text)


@dataclass(frozen=True, slots=True)
class Exported:
    path: Path
    doc_id: str
    chars: int


FORMATS = ("md", "txt", "html")


async def export_all(
    store: DocumentStore, directory: Path, owner_email: str | None = None, fmt: str = "md"
) -> list[Exported]:
    """Write the documents (all, or those ``owner_email`` owns) under ``directory``."""
    if fmt not in FORMATS:
        raise ConfigurationError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if not await asyncio.to_thread(_empty_or_new, directory):
        raise ConfigurationError(f"{directory} is not an empty folder; export into a new one")
    owner_id = None
    if owner_email is not None:
        owner = await store.get_user_by_email(owner_email.strip().lower())
        if owner is None:
            raise ConfigurationError(f"there is no account with the e-mail {owner_email}")
        owner_id = owner.id
    emails: dict[str, str] = {}
    folders: dict[str, set[str]] = {}
    done = []
    for doc_id, title, doc_owner in await store.all_document_titles():
        if owner_id is not None and doc_owner != owner_id:
            continue
        if doc_owner not in emails:
            user = await store.get_user(doc_owner)
            emails[doc_owner] = safe_name(user.email if user else doc_owner, set())
        folder = directory / emails[doc_owner]
        taken = folders.setdefault(emails[doc_owner], set())
        doc, _seq = await load_document(store, doc_id)
        try:
            text = doc.text
        finally:
            await slices.release(doc)
        path = folder / f"{safe_name(title, taken)}.{fmt}"
        body = await asyncio.to_thread(render_page, title, text) if fmt == "html" else text
        await asyncio.to_thread(_write, path, body)
        done.append(Exported(path, doc_id, len(text)))
    return done
