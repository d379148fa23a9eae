"""The history as people tell it: editing sessions per author.

The log holds one entry per message, and every keystroke is a message, so a long document's log
has hundreds of thousands of entries (a paper typed over weeks: 260,000). Nobody reads that; they
read "Ann, 10:42, +312 −40 characters". A session is a run of consecutive entries by one person
where no pause between two of them reaches two minutes.

Grouping happens on the server, where the log is: the database sums consecutive entries of one
person into runs (``read_edit_runs``: a window query over the entries' authors, times and lengths,
never their payloads), chunk by chunk from the newest, and this module joins the runs that a
chunk boundary cut in two, stopping as soon as the page is full. The browser gets twenty
summaries, never the log. The joining (:class:`SessionGrouper`) is free of I/O, so it is tested on
its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from docstream.storage.base import DocumentStore, EditRun

#: A pause this long (or longer) between two entries of one person starts a new session.
SESSION_GAP = timedelta(minutes=2)
#: Entries read per query: the first chunk is small (a page of short sessions needs little),
#: the next ones double, so a session of 100,000 keystrokes takes a handful of queries and a page
#: never reads much more than twice the entries it covers.
FIRST_CHUNK = 2_000
MAX_CHUNK = 64_000


@dataclass(slots=True)
class EditSession:
    """One person's run of edits; ``deleted`` counts only messages that only deleted (a message
    that replaced text is logged with the length of what it inserted)."""

    author: str
    user_name: str
    first_seq: int
    last_seq: int
    started_at: datetime
    ended_at: datetime
    inserted: int = 0
    deleted: int = 0
    edits: int = 0

    def add(self, run: EditRun) -> None:
        """Take in a run older than everything in the session so far."""
        self.first_seq = run.first_seq
        self.started_at = run.started_at
        self.edits += run.edits
        self.inserted += run.inserted
        self.deleted += run.deleted


class SessionGrouper:
    """Runs newest first in, sessions newest first out."""

    def __init__(self, gap: timedelta = SESSION_GAP) -> None:
        self.gap = gap
        self.done: list[EditSession] = []
        self.open: EditSession | None = None

    def feed(self, run: EditRun) -> None:
        current = self.open
        if (
            current is not None
            and current.author == run.user_id
            and current.started_at - run.ended_at < self.gap
        ):
            current.add(run)
            return
        if current is not None:
            self.done.append(current)
        self.open = EditSession(
            author=run.user_id,
            user_name=run.user_name,
            first_seq=run.first_seq,
            last_seq=run.last_seq,
            started_at=run.started_at,
            ended_at=run.ended_at,
        )
        self.open.add(run)

    def finish(self) -> list[EditSession]:
        """Every session, the open one too (the log has no older entries)."""
        if self.open is not None:
            self.done.append(self.open)
            self.open = None
        return self.done


async def read_sessions(
    store: DocumentStore, doc_id: str, before_seq: int | None, floor: int, limit: int
) -> tuple[list[EditSession], int | None]:
    """Up to ``limit`` sessions of the entries with ``floor < seq < before_seq``, newest first,
    and the ``before_seq`` of the next page (None: no older sessions)."""
    grouper = SessionGrouper()
    gap = SESSION_GAP.total_seconds()
    cursor, chunk = before_seq, FIRST_CHUNK
    while True:
        runs = await store.read_edit_runs(doc_id, cursor, floor, chunk, gap)
        for run in runs:
            grouper.feed(run)
            if len(grouper.done) > limit:
                # The (limit+1)th session closed: the page is full and there is more.
                page = grouper.done[:limit]
                return page, page[-1].first_seq
        if not runs or runs[-1].first_seq <= floor + 1:
            break  # the oldest entry (or the caller's floor) is reached
        cursor = runs[-1].first_seq
        chunk = min(chunk * 2, MAX_CHUNK)
    sessions = grouper.finish()
    if len(sessions) > limit:
        return sessions[:limit], sessions[limit - 1].first_seq
    return sessions, None
