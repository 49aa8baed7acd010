"""Turning decoded JSON trees back into naq values by resolving the tagged objects.

The tree comes straight from ``orjson.loads`` and belongs to us, so lists and dicts are
fixed up in place. Payloads are untrusted: every tag checks the shape of what it reads and
raises ``ValueError``/``TypeError`` (turned into ``SerializationError`` by the caller) for
anything else.

Nothing is ever imported: :func:`_decode_enum` looks the class up in a module that is
already loaded and accepts it only if it is a subclass of :class:`enum.Enum`, so a payload
can only ever produce Enum members, never import a module or call anything.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import enum
import re
import sys
import uuid
from collections.abc import Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from naq_json_serializer._encode import TAG

__all__ = ["decode"]

_DT = TypeVar("_DT", dt.datetime, dt.time)
_CONTAINERS: frozenset[type] = frozenset({dict, list})
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def decode(tree: Any) -> Any:
    """The value ``tree`` (from ``orjson.loads``) stands for; list/dict trees are reused."""
    t = type(tree)
    if t is dict:
        if TAG in tree:
            items = tree.get("v")
            if tree[TAG] == "tuple" and type(items) is list:  # the common tag, inlined
                return tuple(decode(items))
            return _decode_tagged(tree)
        for key, item in tree.items():
            if type(item) in _CONTAINERS:
                tree[key] = decode(item)  # same keys: allowed while iterating
    elif t is list:
        for index, item in enumerate(tree):
            if type(item) in _CONTAINERS:
                tree[index] = decode(item)
    return tree


def _decode_tagged(tree: dict[str, Any]) -> Any:
    tag = tree[TAG]
    decoder = _DECODERS.get(tag) if type(tag) is str else None
    if decoder is None:
        raise ValueError(f"unknown tag {tag!r}")
    return decoder(tree)


def _field(tree: dict[str, Any], expected: type | tuple[type, ...], key: str = "v") -> Any:
    value = tree.get(key)
    if not isinstance(value, expected):
        raise TypeError(f"{tree[TAG]!r} tag: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _items(tree: dict[str, Any]) -> list[Any]:
    items: list[Any] = decode(_field(tree, list))
    return items


def _decode_dict(tree: dict[str, Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for pair in _field(tree, list):
        if type(pair) is not list or len(pair) != 2:
            raise TypeError("'dict' tag: each item must be a [key, value] pair")
        out[decode(pair[0])] = decode(pair[1])
    return out


def _decode_int(tree: dict[str, Any]) -> int:
    text = _field(tree, str)
    if len(text) > 10_000:  # int() of huge strings is quadratic; Python refuses them too
        raise ValueError("'int' tag: too many digits")
    return int(text)


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


def _decode_complex(tree: dict[str, Any]) -> complex:
    parts = _items(tree)
    if len(parts) != 2 or any(type(p) is not float for p in parts):
        raise TypeError("'complex' tag: expected [real, imag]")
    return complex(parts[0], parts[1])


def _decode_enum(tree: dict[str, Any]) -> enum.Enum:
    """The member named by ``{"$t": "enum", "cls": "module:QualName", "v": value}``.

    Imports ``module`` (unless already imported), walks ``QualName`` with ``getattr`` and
    refuses the result unless it is an :class:`enum.Enum` subclass. Nothing found this way
    is ever called except the Enum class itself, to look the member up by value.
    """
    path = _field(tree, str, "cls")
    module_name, _, qualname = path.partition(":")
    if not (_DOTTED.fullmatch(module_name) and _DOTTED.fullmatch(qualname)):
        raise ValueError(f"'enum' tag: bad class path {path!r}")
    # Never import because a payload says so: importing runs a module's top-level code.
    # The enum's module must already be loaded (the worker imported its task modules).
    module = sys.modules.get(module_name)
    if module is None:
        raise ValueError(
            f"'enum' tag: module {module_name!r} is not imported in this process; "
            "import it (for example from your tasks module) to decode its enums"
        )
    found: Any = module
    for attr in qualname.split("."):
        found = getattr(found, attr, None)
    if not (isinstance(found, type) and issubclass(found, enum.Enum)):
        raise ValueError(f"'enum' tag: {path!r} is not an Enum class; refusing it")
    member: enum.Enum = found(decode(tree.get("v")))
    return member


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "dict": _decode_dict,
    "tuple": lambda tree: tuple(_items(tree)),
    "set": lambda tree: set(_items(tree)),
    "frozenset": lambda tree: frozenset(_items(tree)),
    "int": _decode_int,
    "float": _decode_float,
    "datetime": _decode_datetime,
    "date": lambda tree: dt.date.fromisoformat(_field(tree, str)),
    "time": _decode_time,
    "timedelta": _decode_timedelta,
    "uuid": lambda tree: uuid.UUID(_field(tree, str)),
    "decimal": lambda tree: decimal.Decimal(_field(tree, str)),
    "bytes": _decode_b64,
    "bytearray": lambda tree: bytearray(_decode_b64(tree)),
    "complex": _decode_complex,
    "enum": _decode_enum,
}
