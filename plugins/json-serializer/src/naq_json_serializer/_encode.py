"""Turning naq values into plain JSON trees, tagging every type JSON cannot carry exactly.

A value JSON cannot represent exactly becomes a *tagged* object ``{"$t": <tag>, "v": ...}``;
a user dict that itself has a ``"$t"`` key, or keys that are not strings, is written as
``{"$t": "dict", "v": [[key, value], ...]}`` so it can never be mistaken for a tag.

The walk is tuned for the job hot path: scalars are tested inline, containers are rebuilt
with comprehensions, and the position of an unsupported value (``args[1]``,
``kwargs.user``) is only worked out after a failure, by walking the failing container again.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import orjson

__all__ = ["TAG", "UnsupportedValue", "encode", "find_unencodable_str"]

#: The key marking a tagged object.
TAG = "$t"

_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1  # orjson writes integers in [-2**63, 2**64) natively

_NONE = type(None)
#: Types written as they are by the optimistic walk (orjson checks the integers' range).
_AS_IS: frozenset[type] = frozenset({str, bool, _NONE, int})
#: Types that are their own JSON form, whatever their value.
_AS_IS_STRICT: frozenset[type] = frozenset({str, bool, _NONE})
_STR_ONLY: frozenset[type] = frozenset({str})


class UnsupportedValue(Exception):
    """Internal: a value the walk cannot encode; ``parts`` collects its path on the way up."""

    def __init__(self, value: object, reason: str | None = None) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason
        self.parts: list[str] = []

    @property
    def path(self) -> str:
        """``args[1]``, ``kwargs.user``, ``result``: the parts innermost-last, no leading dot."""
        path = "".join(reversed(self.parts))
        return path[1:] if path.startswith(".") else path


def encode(value: Any, strict: bool = False) -> Any:
    """The JSON tree for ``value``; raises :class:`UnsupportedValue`.

    The default, optimistic walk leaves integers and dict keys as they are: orjson refuses
    integers outside 64 bits and non-string keys, and the caller then walks again with
    ``strict=True``, which tags big integers and writes such dicts as pairs.
    """
    t = type(value)
    if t in _AS_IS:
        if t is int and strict and not _INT_MIN <= value <= _INT_MAX:
            return {TAG: "int", "v": str(value)}
        return value
    if t is float:
        return value if value - value == 0.0 else {TAG: "float", "v": repr(value)}
    if t is dict:
        return _encode_dict(value, strict)
    if t is list:
        return _encode_items(value, strict)
    if t is tuple:
        return {TAG: "tuple", "v": _encode_items(value, strict)}
    encoder = _ENCODERS.get(t)
    if encoder is not None:
        return encoder(value, strict)
    if isinstance(value, enum.Enum):
        return _encode_enum(value, strict)
    raise UnsupportedValue(value)


def _encode_items(items: list[Any] | tuple[Any, ...], strict: bool) -> list[Any]:
    as_is = _AS_IS_STRICT if strict else _AS_IS
    try:
        return [x if type(x) in as_is else encode(x, strict) for x in items]
    except UnsupportedValue:
        pass
    for index, item in enumerate(items):  # slow path: find which item failed
        try:
            encode(item, strict)
        except UnsupportedValue as exc:
            exc.parts.append(f"[{index}]")
            raise
    raise AssertionError("unreachable: an item failed once but not twice")  # pragma: no cover


def _encode_dict(value: dict[Any, Any], strict: bool) -> Any:
    if TAG in value or (strict and not _STR_ONLY.issuperset(map(type, value))):
        return _encode_pairs(value, strict)
    as_is = _AS_IS_STRICT if strict else _AS_IS
    try:
        return {k: v if type(v) in as_is else encode(v, strict) for k, v in value.items()}
    except UnsupportedValue:
        pass
    for key, item in value.items():  # slow path: find which value failed
        try:
            encode(item, strict)
        except UnsupportedValue as exc:
            exc.parts.append(f".{key}" if type(key) is str else f"[{key!r}]")
            raise
    raise AssertionError("unreachable: a value failed once but not twice")  # pragma: no cover


def _encode_pairs(value: dict[Any, Any], strict: bool) -> dict[str, Any]:
    pairs: list[list[Any]] = []
    for key, item in value.items():
        try:
            encoded_key = encode(key, strict)
        except UnsupportedValue as exc:
            exc.parts.append(".<key>")
            raise
        try:
            pairs.append([encoded_key, encode(item, strict)])
        except UnsupportedValue as exc:
            exc.parts.append(f".{key}" if type(key) is str else f"[{key!r}]")
            raise
    return {TAG: "dict", "v": pairs}


def _encode_set(value: set[Any] | frozenset[Any], strict: bool) -> dict[str, Any]:
    # No index in error paths (a set has no order); sorted by their JSON form, so equal sets
    # give the same bytes whatever their history.
    items = sorted([encode(x, strict) for x in value], key=orjson.dumps)
    return {TAG: "set" if type(value) is set else "frozenset", "v": items}


def _tz_fields(value: dt.datetime | dt.time, out: dict[str, Any]) -> dict[str, Any]:
    tz = value.tzinfo
    if tz is not None:
        if type(tz) is ZoneInfo and tz.key is not None:
            out["zone"] = tz.key
        elif type(tz) is dt.timezone:
            offset = tz.utcoffset(None)
            if tz.tzname(None) != dt.timezone(offset).tzname(None):
                out["tzname"] = tz.tzname(None)
        else:
            raise UnsupportedValue(
                value,
                f"cannot serialize a {type(value).__name__} whose tzinfo is a "
                f"{type(tz).__name__!r} (use datetime.timezone or zoneinfo.ZoneInfo)",
            )
    if value.fold:
        out["fold"] = 1
    return out


def _encode_datetime(value: dt.datetime, strict: bool) -> dict[str, Any]:
    return _tz_fields(value, {TAG: "datetime", "v": value.isoformat()})


def _encode_time(value: dt.time, strict: bool) -> dict[str, Any]:
    return _tz_fields(value, {TAG: "time", "v": value.isoformat()})


def _encode_enum(member: enum.Enum, strict: bool) -> dict[str, Any]:
    cls = type(member)
    if "<" in cls.__qualname__:
        raise UnsupportedValue(
            member, f"cannot serialize a member of {cls.__qualname__!r}: the enum is not importable"
        )
    return {TAG: "enum", "cls": f"{cls.__module__}:{cls.__qualname__}", "v": encode(member.value, strict)}


_ENCODERS: dict[type, Callable[[Any, bool], Any]] = {
    dt.datetime: _encode_datetime,
    dt.date: lambda v, _: {TAG: "date", "v": v.isoformat()},
    dt.time: _encode_time,
    dt.timedelta: lambda v, _: {TAG: "timedelta", "v": [v.days, v.seconds, v.microseconds]},
    uuid.UUID: lambda v, _: {TAG: "uuid", "v": str(v)},
    decimal.Decimal: lambda v, _: {TAG: "decimal", "v": str(v)},
    bytes: lambda v, _: {TAG: "bytes", "v": base64.b64encode(v).decode("ascii")},
    bytearray: lambda v, _: {TAG: "bytearray", "v": base64.b64encode(v).decode("ascii")},
    complex: lambda v, _: {TAG: "complex", "v": [encode(v.real), encode(v.imag)]},
    set: _encode_set,
    frozenset: _encode_set,
}


def find_unencodable_str(value: Any, parts: list[str] | None = None) -> str | None:
    """The path of the first string (or string key) that is not valid UTF-8, if any.

    Only used after orjson refused a tree, to turn its message into one naming the place.
    """
    parts = [] if parts is None else parts
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            path = "".join(parts)
            return (path[1:] if path.startswith(".") else path) or "value"
        return None
    children: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            children.append((".<key>", key))
            children.append((f".{key}" if isinstance(key, str) else f"[{key!r}]", item))
    elif isinstance(value, list | tuple | set | frozenset):
        children.extend((f"[{i}]", item) for i, item in enumerate(value))
    elif isinstance(value, enum.Enum):
        children.append(("", value.value))
    for part, child in children:
        found = find_unencodable_str(child, [*parts, part])
        if found is not None:
            return found
    return None
