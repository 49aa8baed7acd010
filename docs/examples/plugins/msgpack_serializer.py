"""A msgpack serializer plugin: ``serializer = "msgpack"`` (needs ``pip install msgpack``).

msgpack carries None, bool, int (64 bits), float, str, bytes, lists and maps exactly; a
tuple travels as extension type 1 so it comes back a tuple. Anything else is refused with
its position, before a byte is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgpack

from naq_core import Config, SerializationError, Serializer, hookimpl

__all__ = ["MsgpackSerializer", "naq_register_serializers"]

_TUPLE = 1  # msgpack extension type code of a tuple
_SCALARS = (type(None), bool, int, float, str, bytes)


class MsgpackSerializer:
    name = "msgpack"
    content_type = "application/msgpack"
    unsafe = False  # decoding builds plain values, never runs code

    def dumps(self, value: Any) -> bytes:
        _check(value, "value")
        try:
            data: bytes = msgpack.packb(value, use_bin_type=True, strict_types=True, default=_as_ext)
        except (ValueError, TypeError, OverflowError) as exc:  # nested too deeply
            raise SerializationError(f"cannot serialize: {exc}") from None
        return data

    def loads(self, data: bytes) -> Any:
        try:
            return _unpack(data)
        except Exception as exc:  # damaged bytes: msgpack raises many kinds
            raise SerializationError(f"not a msgpack payload: {type(exc).__name__}: {exc}") from None


def _check(value: Any, where: str) -> None:
    """Refuse, naming ``where`` (``args[1]``, ``kwargs.user``), what msgpack cannot carry exactly."""
    kind = type(value)
    if kind is int and not -(2**63) <= value < 2**64:
        raise SerializationError(f"{where}: int {value} does not fit in 64 bits")
    if kind is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise SerializationError(f"{where}: str {value!r} is not valid UTF-8 (lone surrogate)") from None
    elif kind is list or kind is tuple:
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]")
    elif kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise SerializationError(f"{where}: keys must be str, not {type(key).__name__!r}")
            _check(item, key if where == "value" else f"{where}.{key}")
    elif kind not in _SCALARS:
        raise SerializationError(f"{where}: cannot serialize value of type {kind.__name__!r}")


def _as_ext(value: Any) -> msgpack.ExtType:
    if type(value) is tuple:
        return msgpack.ExtType(
            _TUPLE, msgpack.packb(list(value), use_bin_type=True, strict_types=True, default=_as_ext)
        )
    raise TypeError(f"cannot serialize value of type {type(value).__name__!r}")


def _from_ext(code: int, data: bytes) -> Any:
    if code != _TUPLE:
        raise ValueError(f"unknown extension type {code}")
    return tuple(_unpack(data))


def _unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=True, ext_hook=_from_ext, timestamp=0)


@hookimpl
def naq_register_serializers(register: Callable[[Serializer], None], config: Config) -> None:
    register(MsgpackSerializer())
