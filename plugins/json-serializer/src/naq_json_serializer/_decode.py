"""Turning decoded JSON trees back into naq values by resolving the tagged objects.

The tree comes straight from ``orjson.loads`` and belongs to us, so lists and dicts are
fixed up in place. Payloads are untrusted: every tag checks the shape of what it reads and
raises ``ValueError``/``TypeError`` (turned into ``SerializationError`` by the caller) for
anything else.

Nothing is ever imported or called from a payload: the ``enum`` tag is resolved by
:mod:`naq_json_serializer._enums` against modules already loaded.

The work per message is bounded by the constants below, so a hostile payload is refused
before it costs more than a linear pass: nesting depth, the number of elements walked,
the digits of big integers and Decimals, and hash collisions in sets and dict keys (a set
of *n* distinct values with one hash costs *n*²/2 comparisons to build).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from naq_json_serializer._encode import TAG
from naq_json_serializer._enums import enum_member, resolve_enum

__all__ = [
    "MAX_DECIMAL_DIGITS",
    "MAX_DECIMAL_EXPONENT",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "MAX_EQUAL_HASHES",
    "MAX_INT_DIGITS",
    "decode",
]

#: Containers (lists, objects, tagged values) nested deeper than this are refused.
MAX_DEPTH = 128
#: Elements (list items and object entries, at any depth) of one tagged payload.
MAX_ELEMENTS = 1_000_000
#: Digits of an ``int`` tag (Python's own default limit for ``int(str)``).
MAX_INT_DIGITS = 4300
#: Characters of a ``decimal`` tag.
MAX_DECIMAL_DIGITS = 4300
#: Largest adjusted exponent, either sign, of a ``decimal`` tag (IEEE 754 decimal128's
#: ``emax``): ``Decimal("1e999999999")`` is cheap to build but not to compute with.
MAX_DECIMAL_EXPONENT = 6144
#: Items of one set, frozenset or dict (pair form) that may share a hash value.
MAX_EQUAL_HASHES = 8

_DT = TypeVar("_DT", dt.datetime, dt.time)


def decode(tree: Any, enum_modules: Sequence[str] | None = None) -> Any:
    """The value ``tree`` (from ``orjson.loads``) stands for; list/dict trees are reused.

    ``enum_modules``: when given, the only modules (and their submodules) whose enums decode.
    """
    return _Walk(enum_modules).value(tree, 0)


class _Walk:
    """One decoding: the elements left in its budget, and the enum modules it accepts."""

    __slots__ = ("enum_modules", "left")

    def __init__(self, enum_modules: Sequence[str] | None) -> None:
        self.left = MAX_ELEMENTS
        self.enum_modules = enum_modules

    def value(self, tree: Any, depth: int) -> Any:
        t = type(tree)
        if t is dict:
            if depth >= MAX_DEPTH:
                raise ValueError(f"nested too deeply (more than {MAX_DEPTH} levels)")
            self.take(len(tree))
            if TAG in tree:
                items = tree.get("v")
                if tree[TAG] == "tuple" and type(items) is list:  # the common tag, inlined
                    return tuple(self.value(items, depth + 1))
                return self.tagged(tree, depth + 1)
            for key, item in tree.items():
                if type(item) is dict or type(item) is list:
                    tree[key] = self.value(item, depth + 1)  # same keys: allowed while iterating
        elif t is list:
            if depth >= MAX_DEPTH:
                raise ValueError(f"nested too deeply (more than {MAX_DEPTH} levels)")
            self.take(len(tree))
            for index, item in enumerate(tree):
                if type(item) is dict or type(item) is list:
                    tree[index] = self.value(item, depth + 1)
        return tree

    def take(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise ValueError(f"too many elements (more than {MAX_ELEMENTS})")

    def tagged(self, tree: dict[str, Any], depth: int) -> Any:
        tag = tree[TAG]
        decoder = _DECODERS.get(tag) if type(tag) is str else None
        if decoder is None:
            raise ValueError(f"unknown tag {tag!r}")
        return decoder(self, tree, depth)

    def items(self, tree: dict[str, Any], depth: int) -> list[Any]:
        items: list[Any] = self.value(_field(tree, list), depth)
        return items


def _check_hashes(values: Iterable[Any], what: str) -> None:
    """Refuse more than :data:`MAX_EQUAL_HASHES` values with one hash (in linear time)."""
    counts: dict[int, int] = {}
    for value in values:
        key = hash(value)  # hash values are ints: they spread over this dict's slots
        count = counts.get(key, 0) + 1
        if count > MAX_EQUAL_HASHES:
            raise ValueError(f"{what}: more than {MAX_EQUAL_HASHES} items with equal hashes")
        counts[key] = count


def _build_set(kind: type[set[Any]] | type[frozenset[Any]], items: list[Any]) -> set[Any] | frozenset[Any]:
    return kind(items)


def _field(tree: dict[str, Any], expected: type | tuple[type, ...], key: str = "v") -> Any:
    value = tree.get(key)
    if not isinstance(value, expected):
        raise TypeError(f"{tree[TAG]!r} tag: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _decode_dict(w: _Walk, tree: dict[str, Any], depth: int) -> dict[Any, Any]:
    pairs = _field(tree, list)
    w.take(len(pairs))
    keys: list[Any] = []
    values: list[Any] = []
    for pair in pairs:
        if type(pair) is not list or len(pair) != 2:
            raise TypeError("'dict' tag: each item must be a [key, value] pair")
        keys.append(w.value(pair[0], depth + 1))
        values.append(w.value(pair[1], depth + 1))
    _check_hashes(keys, "'dict' tag")
    return dict(zip(keys, values, strict=True))


def _decode_set(w: _Walk, tree: dict[str, Any], depth: int) -> set[Any] | frozenset[Any]:
    items = w.items(tree, depth)
    _check_hashes(items, f"{tree[TAG]!r} tag")
    return _build_set(set if tree[TAG] == "set" else frozenset, items)


def _decode_int(tree: dict[str, Any]) -> int:
    text = _field(tree, str)
    if len(text.lstrip("+-")) > MAX_INT_DIGITS:  # int() of huge strings is quadratic
        raise ValueError(f"'int' tag: more than {MAX_INT_DIGITS} digits")
    return int(text)


def _decode_decimal(tree: dict[str, Any]) -> decimal.Decimal:
    text = _field(tree, str)
    if len(text) > MAX_DECIMAL_DIGITS:
        raise ValueError(f"'decimal' tag: more than {MAX_DECIMAL_DIGITS} characters")
    value = decimal.Decimal(text)
    if value.is_finite() and abs(value.adjusted()) > MAX_DECIMAL_EXPONENT:
        raise ValueError(f"'decimal' tag: exponent beyond ±{MAX_DECIMAL_EXPONENT}")
    return value


def _decode_float(tree: dict[str, Any]) -> float:
    text = _field(tree, str)
    if text not in ("nan", "inf", "-inf"):
        raise ValueError(f"'float' tag: unexpected value {text!r}")
    return float(text)


def _with_tz(value: _DT, tree: dict[str, Any]) -> _DT:
    zone, tzname, fold = tree.get("zone"), tree.get("tzname"), tree.get("fold", 0)
    if fold not in (0, 1) or type(fold) is not int:
        raise ValueError(f"bad fold {fold!r}")
    if zone is not None:
        if type(zone) is not str:
            raise TypeError("'zone' must be a string")
        value = value.replace(tzinfo=ZoneInfo(zone))
    elif tzname is not None:
        offset = value.utcoffset()
        if type(tzname) is not str or offset is None:
            raise ValueError("'tzname' needs a string and an offset")
        value = value.replace(tzinfo=dt.timezone(offset, tzname))
    return value.replace(fold=fold) if fold else value


def _decode_datetime(tree: dict[str, Any]) -> dt.datetime:
    return _with_tz(dt.datetime.fromisoformat(_field(tree, str)), tree)


def _decode_time(tree: dict[str, Any]) -> dt.time:
    return _with_tz(dt.time.fromisoformat(_field(tree, str)), tree)


def _decode_timedelta(tree: dict[str, Any]) -> dt.timedelta:
    parts = _field(tree, list)
    if len(parts) != 3 or any(type(p) is not int for p in parts):
        raise TypeError("'timedelta' tag: expected [days, seconds, microseconds]")
    return dt.timedelta(days=parts[0], seconds=parts[1], microseconds=parts[2])


def _decode_b64(tree: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(_field(tree, str), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"{tree[TAG]!r} tag: invalid base64: {exc}") from exc


def _decode_complex(w: _Walk, tree: dict[str, Any], depth: int) -> complex:
    parts = w.items(tree, depth)
    if len(parts) != 2 or any(type(p) is not float for p in parts):
        raise TypeError("'complex' tag: expected [real, imag]")
    return complex(parts[0], parts[1])


def _decode_enum(w: _Walk, tree: dict[str, Any], depth: int) -> Any:
    """The member named by ``{"$t": "enum", "cls": "module:QualName", "v": value}``."""
    cls = resolve_enum(_field(tree, str, "cls"), w.enum_modules)
    return enum_member(cls, w.value(tree.get("v"), depth))


def _leaf(decoder: Callable[[dict[str, Any]], Any]) -> Callable[[_Walk, dict[str, Any], int], Any]:
    return lambda _w, tree, _depth: decoder(tree)


_DECODERS: dict[str, Callable[[_Walk, dict[str, Any], int], Any]] = {
    "dict": _decode_dict,
    "tuple": lambda w, tree, depth: tuple(w.items(tree, depth)),
    "set": _decode_set,
    "frozenset": _decode_set,
    "int": _leaf(_decode_int),
    "float": _leaf(_decode_float),
    "datetime": _leaf(_decode_datetime),
    "date": _leaf(lambda tree: dt.date.fromisoformat(_field(tree, str))),
    "time": _leaf(_decode_time),
    "timedelta": _leaf(_decode_timedelta),
    "uuid": _leaf(lambda tree: uuid.UUID(_field(tree, str))),
    "decimal": _leaf(_decode_decimal),
    "bytes": _leaf(_decode_b64),
    "bytearray": _leaf(lambda tree: bytearray(_decode_b64(tree))),
    "complex": _decode_complex,
    "enum": _decode_enum,
}
