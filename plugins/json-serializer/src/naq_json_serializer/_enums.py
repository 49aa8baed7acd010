"""Resolving the ``enum`` tag: a class path to an Enum class, and a value to one of its members.

Nothing here imports a module, runs a module's ``__getattr__``, calls a descriptor or an
Enum's ``_missing_`` hook:

- the module must already be in :data:`sys.modules`;
- the dotted name is walked with :func:`inspect.getattr_static`, which reads ``__dict__``
  entries only, and every step after the module must be a class;
- the result must be an :class:`enum.Enum` subclass whose own ``__module__`` and
  ``__qualname__`` are the path (exactly what the encoder writes), and, when the serializer
  was given ``enum_modules``, a module in that list or under one of its packages;
- the member is looked up in the class's value map (a linear scan for unhashable values);
  a :class:`enum.Flag` value that is not a member must be a combination of defined bits, and
  the decoder adds at most :data:`MAX_FLAG_PSEUDO_MEMBERS` such combinations to a Flag's
  cache (``_value2member_map_``, which Python never shrinks).
"""

from __future__ import annotations

import enum
import inspect
import re
import reprlib
import sys
import types
from collections.abc import Sequence
from typing import Any

__all__ = ["MAX_FLAG_PSEUDO_MEMBERS", "enum_member", "resolve_enum"]

#: Combinations of flags (members Python creates on the fly and caches for ever) that
#: decoding may add to one :class:`enum.Flag` class; beyond that they are refused.
MAX_FLAG_PSEUDO_MEMBERS = 256

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_MISSING = object()
_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60


def resolve_enum(path: str, enum_modules: Sequence[str] | None = None) -> type[enum.Enum]:
    """The Enum class named ``module:QualName``; raises ``ValueError`` for anything else."""
    module_name, colon, qualname = path.partition(":")
    if not (colon and _DOTTED.fullmatch(module_name) and _DOTTED.fullmatch(qualname)):
        raise ValueError(f"'enum' tag: bad class path {_short.repr(path)}")
    if enum_modules is not None and not any(
        module_name == allowed or module_name.startswith(allowed + ".") for allowed in enum_modules
    ):
        raise ValueError(f"'enum' tag: module {module_name!r} is not in the serializer's enum_modules")
    # Never import because a payload says so: importing runs a module's top-level code.
    # The enum's module must already be loaded (the worker imported its task modules).
    module = sys.modules.get(module_name)
    if not isinstance(module, types.ModuleType):
        raise ValueError(
            f"'enum' tag: module {module_name!r} is not imported in this process; "
            "import it (for example from your tasks module) to decode its enums"
        )
    found: Any = module
    for step, attr in enumerate(qualname.split(".")):
        if step and not issubclass(type(found), type):  # only classes nest classes
            found = _MISSING
            break
        found = inspect.getattr_static(found, attr, _MISSING)
    if not (
        issubclass(type(found), type)
        and issubclass(found, enum.Enum)
        and found.__module__ == module_name
        and found.__qualname__ == qualname
    ):
        raise ValueError(f"'enum' tag: {path!r} is not an Enum class; refusing it")
    cls: type[enum.Enum] = found
    return cls


def enum_member(cls: type[enum.Enum], value: Any) -> enum.Enum:
    """The member of ``cls`` whose value is ``value``, without calling ``cls._missing_``."""
    if issubclass(cls, enum.Flag):
        return _flag_member(cls, value)
    try:
        member: enum.Enum | None = cls._value2member_map_.get(value)
    except TypeError:  # an unhashable value: Enum keeps those out of the map, so scan
        member = next((m for m in cls._member_map_.values() if m._value_ == value), None)
    if member is None:
        raise ValueError(f"'enum' tag: {cls.__qualname__} has no member with value {_short.repr(value)}")
    return member


def _flag_member(cls: type[enum.Flag], value: Any) -> enum.Flag:
    if type(value) is not int:
        raise ValueError(f"'enum' tag: {_short.repr(value)} is not a member of {cls.__qualname__}")
    cache = cls._value2member_map_
    member = cache.get(value)
    if member is not None:
        return member  # type: ignore[return-value]
    mask = 0
    for defined in cls._member_map_.values():
        mask |= defined._value_
    if value < 0 or value & ~mask:
        raise ValueError(
            f"'enum' tag: {_short.repr(value)} is not a member of {cls.__qualname__} "
            "nor a combination of its members"
        )
    if len(cache) >= len(cls._member_map_) + MAX_FLAG_PSEUDO_MEMBERS:
        raise ValueError(
            f"'enum' tag: too many distinct combinations of {cls.__qualname__} decoded "
            f"(at most {MAX_FLAG_PSEUDO_MEMBERS} are created and cached)"
        )
    return cls(value)
