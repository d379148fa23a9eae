"""The pure sequence CRDT: ids, ops, the RGA document and its compact state encoding.

No I/O, no clock, no randomness: the same ops in any order give the same document everywhere.
"""

from docstream.crdt.ids import MAX_COUNTER, CharId
from docstream.crdt.ops import MAX_INSERT_LENGTH, Change, Delete, Insert, Op, op_decoder
from docstream.crdt.rga import Document

__all__ = [
    "MAX_COUNTER",
    "MAX_INSERT_LENGTH",
    "Change",
    "CharId",
    "Delete",
    "Document",
    "Insert",
    "Op",
    "op_decoder",
]
