"""Column values from one SQL dialect to the other.

The two schemas differ in types only where SQLite has no equivalent (compare the migrations of
both dialects): timestamps are ISO-8601 UTC text in SQLite and ``timestamptz`` in PostgreSQL,
flags are 0/1 integers and ``boolean``, ids are text and ``uuid``, bytes are BLOB and ``bytea``.
The PostgreSQL column's type decides, so a new column of a known type needs nothing here. Text
made by DocStream's SQLite backend (``datetime.isoformat()`` of a UTC time) comes back from a
round trip through PostgreSQL byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from docstream.datatools.schema import Column
from docstream.errors import ConfigurationError

Convert = Callable[[Any], Any]


def _to_bool(value: Any) -> Any:
    return None if value is None else bool(value)


def _to_bytes(value: Any) -> Any:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def _iso_to_datetime(value: Any) -> Any:
    if value is None or isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO-8601 timestamp") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _to_sqlite(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def column_converter(source: str, target: str, pg_type: str) -> Convert | None:
    """How to convert one column from ``source`` to ``target`` dialect (None: as it is).

    ``pg_type`` is the PostgreSQL side's type (``udt_name``); empty when neither side is
    PostgreSQL.
    """
    if source == target:
        return None
    if target == "sqlite":
        return _to_sqlite
    if pg_type == "bool":
        return _to_bool
    if pg_type in ("timestamptz", "timestamp", "date"):
        return _iso_to_datetime
    if pg_type == "bytea":
        return _to_bytes
    return None


def row_converter(
    table: str,
    columns: Sequence[str],
    source: tuple[str, Sequence[Column]],
    target: tuple[str, Sequence[Column]],
) -> Callable[[list[tuple[Any, ...]]], list[tuple[Any, ...]]]:
    """A function converting a batch of rows of ``columns`` from the source to the target."""
    (src_dialect, src_cols), (dst_dialect, dst_cols) = source, target
    pg_cols = src_cols if src_dialect == "postgres" else dst_cols
    pg_types = {c.name: c.type for c in pg_cols}
    converters = [
        (i, conv, name)
        for i, name in enumerate(columns)
        if (conv := column_converter(src_dialect, dst_dialect, pg_types.get(name, ""))) is not None
    ]
    if not converters:
        return lambda rows: rows

    def convert(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        out = []
        for row in rows:
            values = list(row)
            for i, conv, name in converters:
                try:
                    values[i] = conv(values[i])
                except ValueError as exc:
                    raise ConfigurationError(f"{table}.{name}: {exc}") from None
            out.append(tuple(values))
        return out

    return convert
