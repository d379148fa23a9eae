"""A deliberately naive RGA, written straight from docs/protocol.md §6, to check the fast engine
against.

One dict entry per element, an explicit tree (parent -> children), and the document order computed
as the pre-order walk with children sorted by id descending -- the *definition* of the order, not
the linear skip rule the engine uses. Local edits follow the engine's documented conventions:

* insert at ``index``: the parent is the element (visible or not) just before the visible char at
  ``index``, or the last element when ``index == len``; counters start at ``max_counter + 1``;
  inserts longer than ``MAX_INSERT_LENGTH`` are chained ops;
* delete: the newly deleted chars in document order, grouped while each id is the previous id + 1
  of the same replica.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from docstream.crdt import MAX_INSERT_LENGTH, CharId, Delete, Insert, Op

Id = tuple[int, str]


@dataclass
class Element:
    char: str
    parent: Id | None
    deleted: bool = False


@dataclass
class RefDoc:
    replica: str
    elements: dict[Id, Element] = field(default_factory=dict)
    children: dict[Id | None, list[Id]] = field(default_factory=dict)
    max_counter: int = 0

    # -- order

    def order(self) -> list[Id]:
        out: list[Id] = []
        stack: list[Id] = sorted(self.children.get(None, []))  # ascending: pop gives largest
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(sorted(self.children.get(node, [])))
        return out

    @property
    def text(self) -> str:
        return "".join(self.elements[i].char for i in self.order() if not self.elements[i].deleted)

    def visible(self) -> list[Id]:
        return [i for i in self.order() if not self.elements[i].deleted]

    # -- integration (assumes valid, causally ready ops)

    def apply(self, ops: list[Op]) -> None:
        for op in ops:
            cid = CharId.parse(op.id)
            if isinstance(op, Insert):
                parent: Id | None = None
                if op.after is not None:
                    p = CharId.parse(op.after)
                    parent = (p.counter, p.replica)
                if (cid.counter, cid.replica) in self.elements:
                    continue  # duplicate re-send
                for k, ch in enumerate(op.text):
                    me = (cid.counter + k, cid.replica)
                    self.elements[me] = Element(ch, parent)
                    self.children.setdefault(parent, []).append(me)
                    parent = me
                self.max_counter = max(self.max_counter, cid.counter + len(op.text) - 1)
            else:
                for k in range(op.length):
                    self.elements[(cid.counter + k, cid.replica)].deleted = True

    # -- local edits

    def insert(self, index: int, text: str) -> list[Op]:
        if not text:
            return []
        order = self.order()
        vis_pos = [i for i, e in enumerate(order) if not self.elements[e].deleted]
        if index == len(vis_pos):
            parent = order[-1] if order else None
        else:
            at = vis_pos[index]
            parent = order[at - 1] if at > 0 else None
        c = self.max_counter + 1
        ops: list[Op] = []
        after = None if parent is None else f"{parent[1]}:{parent[0]}"
        for start in range(0, len(text), MAX_INSERT_LENGTH):
            chunk = text[start : start + MAX_INSERT_LENGTH]
            ops.append(Insert(f"{self.replica}:{c + start}", after, chunk))
            after = f"{self.replica}:{c + start + len(chunk) - 1}"
        self.apply(ops)
        return ops

    def delete(self, index: int, length: int) -> list[Op]:
        if not length:
            return []
        targets = self.visible()[index : index + length]
        ops: list[Op] = []
        run: list[Id] = []
        for t in targets:
            if run and t[1] == run[-1][1] and t[0] == run[-1][0] + 1:
                run.append(t)
            else:
                if run:
                    ops.append(Delete(f"{run[0][1]}:{run[0][0]}", len(run)))
                run = [t]
        ops.append(Delete(f"{run[0][1]}:{run[0][0]}", len(run)))
        self.apply(ops)
        return ops

    def id_at(self, index: int) -> CharId:
        c, r = self.visible()[index]
        return CharId(c, r)

    def index_of(self, cid: CharId) -> int:
        target = (cid.counter, cid.replica)
        n = 0
        for i in self.order():
            if i == target:
                return n
            if not self.elements[i].deleted:
                n += 1
        raise KeyError(cid)
