"""What the title index holds, by document and by owner: the bookkeeping behind per-owner fairness.

Pure (no I/O): the writer asks the ledger to :meth:`~TitleLedger.plan` a batch of changes (the trie
mutations, with the owner's oldest titles pushed out once their entries, one per word, pass
``titles_max_per_owner``), writes the
mutations, and only once they are durable :meth:`~TitleLedger.commit`\\ s the plan. A failed write
leaves the ledger as it was (the next reconciliation rebuilds it from the database).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from docstream.services.typeahead.title_entries import DropTitle, SetTitle, entries_for
from docstream.typeahead.durable import Mutation
from docstream.typeahead.wal import Op


@dataclass(slots=True)
class Plan:
    """The effect of a batch: trie mutations, and the ledger's changes once they are written."""

    mutations: list[Mutation] = field(default_factory=list)
    entries: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    owners: dict[str, str | None] = field(default_factory=dict)
    books: dict[str, OrderedDict[str, int]] = field(default_factory=dict)
    overflow: set[str] = field(default_factory=set)


class TitleLedger:
    def __init__(self) -> None:
        #: doc id -> its entries, as last written (the trie itself may have evicted some).
        self.entries: dict[str, tuple[str, ...]] = {}
        #: owner -> their indexed doc ids (-> how many entries), least recently set first;
        #: doc id -> owner.
        self.owned: dict[str, OrderedDict[str, int]] = {}
        self.owner_of: dict[str, str] = {}
        #: Owners with more documents than ``titles_max_per_owner`` (some titles not indexed).
        self.overflowing: set[str] = set()

    @classmethod
    def of(cls, kept: Iterable[tuple[str, str, str]], overflowing: set[str]) -> TitleLedger:
        """The ledger of a reconciled index: ``kept`` (doc id, title, owner), oldest first."""
        ledger = cls()
        for doc_id, title, owner in kept:
            entries = ledger.entries[doc_id] = entries_for(doc_id, title)
            ledger.owner_of[doc_id] = owner
            ledger.owned.setdefault(owner, OrderedDict())[doc_id] = len(entries)
        ledger.overflowing = set(overflowing)
        return ledger

    def plan(self, batch: Sequence[SetTitle | DropTitle], max_per_owner: int) -> Plan:
        """The mutations of ``batch``, in order (nothing is changed until :meth:`commit`)."""
        plan = Plan()
        after, owners_after, books = plan.entries, plan.owners, plan.books

        def entry_now(doc_id: str) -> tuple[str, ...] | None:
            return after[doc_id] if doc_id in after else self.entries.get(doc_id)

        def owner_now(doc_id: str) -> str | None:
            return owners_after[doc_id] if doc_id in owners_after else self.owner_of.get(doc_id)

        for change in batch:
            doc_id = change.doc_id
            current = entry_now(doc_id)
            new = entries_for(doc_id, change.title) if isinstance(change, SetTitle) else None
            owner = (change.owner_id if isinstance(change, SetTitle) else "") or owner_now(doc_id)
            if owner:
                book = books.get(owner)
                if book is None:
                    book = books[owner] = OrderedDict(self.owned.get(owner, {}))
                book.pop(doc_id, None)
                if new is not None:
                    book[doc_id] = len(new)  # the owner's most recent
                    total = sum(book.values())
                    while total > max_per_owner and len(book) > 1:
                        oldest, count = book.popitem(last=False)
                        total -= count
                        evicted = entry_now(oldest)
                        for entry in evicted or ():
                            plan.mutations.append(Mutation(Op.REMOVE, entry))
                        after[oldest] = None
                        owners_after[oldest] = None
                        plan.overflow.add(owner)
                owners_after[doc_id] = owner if new is not None else None
            if new == current:
                continue
            # Only what changed: a case-only change is an exact-string difference, so it is
            # removed and re-inserted in its new spelling.
            kept = set(new or ()) & set(current or ())
            plan.mutations += [Mutation(Op.REMOVE, e) for e in current or () if e not in kept]
            plan.mutations += [Mutation(Op.INSERT, e) for e in new or () if e not in kept]
            after[doc_id] = new
        return plan

    def commit(self, plan: Plan) -> None:
        """The plan's mutations are written: record them."""
        for doc_id, entry in plan.entries.items():
            if entry is None:
                self.entries.pop(doc_id, None)
            else:
                self.entries[doc_id] = entry
        for doc_id, owner in plan.owners.items():
            if owner is None:
                self.owner_of.pop(doc_id, None)
            else:
                self.owner_of[doc_id] = owner
        for owner, book in plan.books.items():
            if book:
                self.owned[owner] = book
            else:
                self.owned.pop(owner, None)
        self.overflowing |= plan.overflow


def keep_per_owner(
    rows: Sequence[tuple[str, str, str]], per_owner: int
) -> tuple[list[tuple[str, str, str]], set[str]]:
    """Each owner's newest (doc id, title, owner) rows whose entries fit in ``per_owner`` (at
    least one), newest first, and the owners who have more (``rows`` oldest first, as the store
    lists them)."""
    kept: list[tuple[str, str, str]] = []
    counts: dict[str, int] = {}
    overflowing: set[str] = set()
    for doc_id, title, owner in reversed(rows):
        used = counts.get(owner, 0)
        size = len(entries_for(doc_id, title))
        if owner in overflowing or (used and used + size > per_owner):
            overflowing.add(owner)
            continue
        counts[owner] = used + size
        kept.append((doc_id, title, owner))
    return kept, overflowing
