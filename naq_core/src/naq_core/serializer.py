"""The serializer contract: how a job envelope becomes bytes on the wire and back.

A serializer plugin implements :class:`Serializer` and registers an instance through the
``naq_register_serializers`` hook. The configured name (``serializer = "json"``) selects one.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["SERIALIZER_HEADER", "Serializer"]

#: Header carrying the serializer name on every job message, so a worker can refuse a
#: payload written by a serializer it was not configured for.
SERIALIZER_HEADER = "Naq-Serializer"


@runtime_checkable
class Serializer(Protocol):
    """Encodes and decodes naq values.

    ``dumps`` receives plain containers (dict, list, tuple) holding the user's values: job
    arguments, keyword arguments and results. It must either round-trip a value exactly or
    raise :class:`naq_core.errors.SerializationError` whose message names where the value
    sits (``args[1]``, ``kwargs.user``, ``result``) and its type. ``loads`` must raise
    :class:`~naq_core.errors.SerializationError` for bytes it cannot decode, never anything
    else.
    """

    #: Name users select in configuration (``serializer = "json"``).
    name: str
    #: MIME type of the produced bytes, for people reading messages with other tools.
    content_type: str
    #: True when decoding can execute code (pickle). naq warns loudly when such a
    #: serializer is selected.
    unsafe: bool

    def dumps(self, value: Any) -> bytes:
        """Encode ``value`` to bytes."""
        ...

    def loads(self, data: bytes) -> Any:
        """Decode bytes produced by :meth:`dumps`."""
        ...
