"""The ``json`` serializer: safe, readable, exact round-trips for the common Python types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from naq_core.errors import SerializationError
from naq_json_serializer._decode import decode
from naq_json_serializer._encode import UnsupportedValue, encode, find_unencodable_str

__all__ = ["SUPPORTED_TYPES", "JsonSerializer"]

#: What :meth:`JsonSerializer.dumps` accepts, as named in its error messages.
SUPPORTED_TYPES = (
    "str, int, float, bool, None, list, tuple, dict, set, frozenset, bytes, bytearray, complex, "
    "datetime, date, time, timedelta, UUID, Decimal and Enum members"
)

_TOO_DEEP = "value is nested too deeply or contains a reference cycle"
_TAG_MARKER = b'"$t"'  # how the tag key looks in a payload (user strings escape their quotes)


class JsonSerializer:
    """Encodes naq values as JSON with orjson; decoding never runs code.

    Types JSON lacks (tuple, datetime, UUID, Decimal, bytes, Enum members, ...) are written
    as tagged objects ``{"$t": "tuple", "v": [...]}`` and come back as the same type.

    ``enum_modules``: when given, Enum members decode only if their class lives in one of
    these modules or under one of these packages (``["myapp"]``); by default an Enum of any
    module this process has already imported decodes. Decoding never imports a module.
    """

    name = "json"
    content_type = "application/json"
    unsafe = False

    def __init__(self, *, enum_modules: Iterable[str] | None = None) -> None:
        self.enum_modules: tuple[str, ...] | None = None if enum_modules is None else tuple(enum_modules)

    def dumps(self, value: Any) -> bytes:
        """Encode ``value``; an unsupported value raises :class:`SerializationError` naming it."""
        try:
            return orjson.dumps(encode(value))
        except orjson.JSONEncodeError:
            pass  # a big integer, a non-string dict key or a bad string: walk again, strictly
        except UnsupportedValue as exc:
            raise SerializationError(_unsupported_message(exc)) from None
        except RecursionError:
            raise SerializationError(_TOO_DEEP) from None
        try:
            return orjson.dumps(encode(value, strict=True))
        except UnsupportedValue as exc:
            raise SerializationError(_unsupported_message(exc)) from None
        except RecursionError:
            raise SerializationError(_TOO_DEEP) from None
        except orjson.JSONEncodeError as exc:
            path = find_unencodable_str(value)
            if path is not None:
                raise SerializationError(f"{path}: string is not valid UTF-8 (lone surrogate)") from None
            raise SerializationError(f"cannot serialize value: {exc}") from None

    def loads(self, data: bytes) -> Any:
        """Decode bytes from :meth:`dumps`; anything else raises :class:`SerializationError`."""
        if type(data) is not bytes:
            if not isinstance(data, bytes | bytearray | memoryview):
                raise SerializationError(f"expected bytes, got {type(data).__name__}")
            data = bytes(data)
        try:
            tree = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise SerializationError(f"payload is not valid JSON: {exc}") from None
        if _TAG_MARKER not in data:
            return tree
        try:
            return decode(tree, self.enum_modules)
        except RecursionError:
            raise SerializationError("payload is nested too deeply") from None
        except Exception as exc:
            raise SerializationError(f"payload is not a naq JSON value: {exc}") from None

    def __repr__(self) -> str:
        if self.enum_modules is None:
            return "JsonSerializer()"
        return f"JsonSerializer(enum_modules={list(self.enum_modules)!r})"


def _unsupported_message(exc: UnsupportedValue) -> str:
    where = exc.path or "value"
    if exc.reason:
        return f"{where}: {exc.reason}"
    return (
        f"{where}: cannot serialize value of type {type(exc.value).__qualname__!r} "
        f"(naq-json-serializer supports {SUPPORTED_TYPES})"
    )
