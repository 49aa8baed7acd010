"""One cattrs converter for the records naq stores and shows: job records, worker heartbeats,
queue statistics, and the records of plugins (dlq-stream's stored letters).

:func:`to_dict` gives plain values (an enum becomes its value, a tuple a list);
:func:`from_dict` rebuilds a record from them. Unknown keys are ignored, so a record written
by a newer naq (with a field this one does not know) still reads back. Each record's own
``to_dict()`` / ``from_dict()`` delegate here; plugins that store records use
:data:`converter` too, with :mod:`cattrs.gen` overrides for their own layout.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

import cattrs

__all__ = ["converter", "from_dict", "to_dict"]

T = TypeVar("T")

#: The converter of every stored record. ``forbid_extra_keys`` is off on purpose: records
#: written by newer versions carry keys this version does not know, and are read anyway.
converter = cattrs.Converter(forbid_extra_keys=False, unstruct_collection_overrides={tuple: list})


def _unstructure_str(value: str) -> str:
    # A ``StrEnum`` dispatches as a ``str``, so its value is taken here (``JobStatus``).
    return value.value if isinstance(value, enum.Enum) else value


converter.register_unstructure_hook(str, _unstructure_str)


def to_dict(record: Any) -> dict[str, Any]:
    """``record`` (an attrs instance) as plain, JSON-able values, in field order."""
    data: dict[str, Any] = converter.unstructure(record)
    return data


def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
    """A ``cls`` from ``data``; unknown keys are ignored, missing ones take their defaults.

    Raises :class:`cattrs.ClassValidationError` when a required key is missing or a value
    has the wrong type.
    """
    return converter.structure(data, cls)
