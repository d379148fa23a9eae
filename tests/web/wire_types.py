"""Checks the web UI's TypeScript wire types against the server's msgspec Structs.

The server's frames and REST bodies are msgspec Structs; the UI declares the same shapes as
TypeScript interfaces. Nothing in either build ties the two together, so this module reads both and
compares them field by field: the TypeScript declarations (interfaces, ``extends`` and type
aliases: the subset the wire types use) are parsed here, the Python side comes from
``msgspec.json.schema_components``, and both are brought to one canonical form.

The rules (what "the same" means):

- the same field names (the JSON names: a Struct's renamed fields count by their wire name);
- a field is optional (``name?:``) in TypeScript exactly when the Struct gives it a default;
- the same value type, where ``int``/``float`` are ``number``; ``str``, ``bytes`` (base64) and
  ``datetime`` are ``string``; ``Literal`` values are string literal types; a Struct is the
  interface it is paired with; anything untyped (``msgspec.Raw``, ``object``) is ``unknown``. A
  Struct with ``omit_defaults`` never sends a default ``None`` (the field is left out instead), so
  such a field is ``name?: T``, not ``name?: T | null``.

Every Struct a pair refers to must be paired too, so a nested type cannot drift unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

# --- TypeScript ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TsField:
    name: str
    optional: bool
    type: str  # the type's source text


@dataclass(slots=True)
class TsDecl:
    """An ``interface`` (fields, bases) or a ``type`` alias (``alias`` set)."""

    name: str
    fields: list[TsField] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    alias: str | None = None


_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_DECL = re.compile(
    r"(?:^|\n)\s*(?:export\s+)?(?:(interface)\s+(\w+)(?:\s+extends\s+([\w\s,]+?))?\s*\{|(type)\s+(\w+)\s*=)"
)
_MEMBER = re.compile(r"^\s*(?:readonly\s+)?(\w+)(\?)?\s*:\s*(.+?)\s*$", re.S)


def _strip_comments(source: str) -> str:
    # Declarations hold no string literal with "//" or "/*" in them, so a plain pass is enough.
    return _COMMENTS.sub("", source)


def _until(source: str, start: int, stop: str) -> int:
    """The index of the first ``stop`` at bracket depth 0 from ``start`` (strings skipped)."""
    depth = 0
    i = start
    while i < len(source):
        c = source[i]
        if c in "\"'":
            i = source.index(c, i + 1)
        elif c in "{([<":
            depth += 1
        elif c in "})]>" and not (c == ">" and source[i - 1] == "="):  # "=>" is no bracket
            if depth == 0 and c == stop:
                return i
            depth -= 1
        elif depth == 0 and c == stop:
            return i
        i += 1
    raise ValueError(f"unterminated declaration near {source[start : start + 60]!r}")


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, last, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = text.index(c, i + 1)
        elif c in "{([<":
            depth += 1
        elif c in "})]>" and not (c == ">" and text[i - 1] == "="):
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[last:i])
            last = i + 1
        i += 1
    parts.append(text[last:])
    return parts


def _members(body: str) -> list[TsField]:
    fields = []
    body = re.sub(r"\|\s*\n", "| ", re.sub(r"\n\s*\|", " |", body))  # a union over lines
    for line in _split_top(body.replace("\n", ";"), ";"):
        if not line.strip():
            continue
        m = _MEMBER.match(line)
        if m is None:
            raise ValueError(f"cannot read the interface member {line.strip()!r}")
        fields.append(TsField(m[1], m[2] == "?", m[3]))
    return fields


def parse_typescript(sources: Iterable[str]) -> dict[str, TsDecl]:
    """The interfaces and type aliases declared at the top level of ``sources``."""
    decls: dict[str, TsDecl] = {}
    for raw in sources:
        source = _strip_comments(raw)
        for m in _DECL.finditer(source):
            if m[1]:  # interface
                end = _until(source, m.end(), "}")
                bases = [b.strip() for b in (m[3] or "").split(",") if b.strip()]
                decl = TsDecl(m[2], _members(source[m.end() : end]), bases)
            else:
                end = _until(source, m.end(), ";")
                decl = TsDecl(m[5], alias=source[m.end() : end].strip())
            if decl.name in decls:
                raise ValueError(f"{decl.name} is declared twice")
            decls[decl.name] = decl
    return decls


def ts_fields(decls: Mapping[str, TsDecl], name: str) -> dict[str, TsField]:
    """An interface's fields, its bases' included."""
    decl = decls[name]
    out: dict[str, TsField] = {}
    for base in decl.bases:
        out.update(ts_fields(decls, base))
    out.update({f.name: f for f in decl.fields})
    return out


_PRIMITIVES = {"string", "number", "boolean", "null", "unknown"}


def ts_type(decls: Mapping[str, TsDecl], text: str) -> frozenset[str]:
    """The canonical form of a TypeScript type: a set of alternatives (see ``schema_type``)."""
    out: set[str] = set()
    for part in _split_top(text.strip().lstrip("|"), "|"):
        part = part.strip()
        if part.endswith("[]"):
            out.add(_array(ts_type(decls, part[:-2])))
        elif part.startswith("(") and part.endswith(")"):
            out |= ts_type(decls, part[1:-1])
        elif part.startswith("[") and part.endswith("]"):  # a tuple
            out.add(_tuple([ts_type(decls, item) for item in _split_top(part[1:-1], ",")]))
        elif re.fullmatch(r'"[^"]*"', part) or part in _PRIMITIVES:
            out.add(part)
        elif part.startswith("Record<"):
            out.add("unknown")
        elif part in decls and decls[part].alias is not None:
            out |= ts_type(decls, decls[part].alias or "")
        elif part in decls:
            out.add(f"ref:{part}")
        else:
            out.add(f"?{part}")  # not declared in the sources read: never equal to anything
    return frozenset(out)


def _array(items: frozenset[str]) -> str:
    return f"({' | '.join(sorted(items))})[]"


def _tuple(items: list[frozenset[str]]) -> str:
    return f"[{', '.join(show(item) for item in items)}]"


def show(t: frozenset[str]) -> str:
    return " | ".join(sorted(t))


# --- the server's schema -------------------------------------------------------------------------


def schema_type(schema: Mapping[str, Any], names: Mapping[str, str]) -> frozenset[str]:
    """The canonical form of a JSON schema from msgspec; ``names``: Struct name -> TS name."""
    if "$ref" in schema:
        struct = schema["$ref"].rsplit("/", 1)[-1]
        return frozenset({f"ref:{names[struct]}" if struct in names else f"unpaired:{struct}"})
    if "anyOf" in schema:
        return frozenset().union(*(schema_type(s, names) for s in schema["anyOf"]))
    if "enum" in schema:
        return frozenset(msgspec.json.encode(v).decode() for v in schema["enum"])
    if "const" in schema:
        return frozenset({msgspec.json.encode(schema["const"]).decode()})
    kind = schema.get("type")
    if kind in ("string", "boolean", "null"):
        return frozenset({kind})
    if kind in ("integer", "number"):
        return frozenset({"number"})
    if kind == "array" and "prefixItems" in schema:
        return frozenset({_tuple([schema_type(s, names) for s in schema["prefixItems"]])})
    if kind == "array":
        return frozenset({_array(schema_type(schema.get("items", {}), names))})
    return frozenset({"unknown"})


# --- the comparison ------------------------------------------------------------------------------


def _structs(pairs: Sequence[tuple[str, Any]]) -> list[tuple[str, type[msgspec.Struct]]]:
    return [(ts, py) for ts, py in pairs if isinstance(py, type) and issubclass(py, msgspec.Struct)]


def _def_name(cls: type[msgspec.Struct], defs: Mapping[str, Any]) -> str:
    """The name msgspec gave ``cls`` among ``defs``: the class name, or (when two classes share
    it) the dotted import path with anything else replaced by ``_``."""
    if cls.__name__ in defs and sum(d.get("title") == cls.__name__ for d in defs.values()) == 1:
        return cls.__name__
    return re.sub(r"[^a-zA-Z0-9.\-_]", "_", f"{cls.__module__}.{cls.__qualname__}")


def compare(decls: Mapping[str, TsDecl], pairs: Sequence[tuple[str, Any]]) -> list[str]:
    """Every difference between the paired TS declarations and Python types (empty: in step).

    ``pairs``: (TypeScript name, Struct class or union of Structs / Literal alias).
    """
    problems: list[str] = []
    schemas, defs = msgspec.json.schema_components([py for _, py in pairs])
    names = {_def_name(py, defs): ts for ts, py in _structs(pairs)}
    for (ts, py), schema in zip(pairs, schemas, strict=True):
        if ts not in decls:
            problems.append(f"{ts}: not declared in the TypeScript sources")
            continue
        if isinstance(py, type) and issubclass(py, msgspec.Struct):
            problems += _compare_struct(decls, ts, py, defs[_def_name(py, defs)], names)
        else:
            want = schema_type(schema, names)
            got = ts_type(decls, ts) if decls[ts].alias is not None else frozenset({f"ref:{ts}"})
            if got != want:
                problems.append(f"{ts}: TypeScript has {show(got)}, the server {show(want)}")
    for struct in sorted(defs):
        if struct not in names:
            problems.append(f"{struct}: used by a paired type but paired with no TypeScript type")
    return problems


def _compare_struct(
    decls: Mapping[str, TsDecl],
    ts: str,
    py: type[msgspec.Struct],
    schema: Mapping[str, Any],
    names: Mapping[str, str],
) -> list[str]:
    if decls[ts].alias is not None:
        return [f"{ts}: a type alias, but {py.__name__} is a Struct (expected an interface)"]
    problems = []
    got = ts_fields(decls, ts)
    props: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    omits_none = {
        f.encode_name
        for f in msgspec.structs.fields(py)
        if py.__struct_config__.omit_defaults and f.default is None
    }
    for name in sorted(set(props) - set(got)):
        problems.append(
            f"{ts}.{name}: sent by the server ({py.__name__}) but missing in TypeScript"
        )
    for name in sorted(set(got) - set(props)):
        problems.append(f"{ts}.{name}: declared in TypeScript but not a field of {py.__name__}")
    for name in sorted(set(got) & set(props)):
        f = got[name]
        optional = name not in required
        if f.optional != optional:
            want = "optional (it has a default)" if optional else "required (no default)"
            problems.append(f"{ts}.{name}: should be {want} as in {py.__name__}")
        want_t = schema_type(props[name], names)
        if name in omits_none:
            want_t = want_t - {"null"}
        got_t = ts_type(decls, f.type)
        if got_t != want_t:
            problems.append(
                f"{ts}.{name}: TypeScript has {show(got_t)}, {py.__name__} has {show(want_t)}"
            )
    return problems


def unpaired_structs(
    modules: Iterable[Any], pairs: Sequence[tuple[str, Any]], skip: Iterable[str]
) -> list[str]:
    """Structs defined in ``modules`` that are neither paired nor knowingly skipped."""
    paired = {py.__name__ for _, py in _structs(pairs)}
    skipped = set(skip)
    out = []
    for module in modules:
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, msgspec.Struct)
                and value.__module__ == module.__name__
                and name not in paired
                and name not in skipped
            ):
                out.append(f"{module.__name__}.{name}")
    return sorted(out)
