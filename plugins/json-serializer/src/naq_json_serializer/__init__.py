"""naq-json-serializer: the safe default serializer of naq (``serializer = "json"``).

Registered through the ``naq`` entry point; this module is the plugin object.
"""

from __future__ import annotations

from collections.abc import Callable

from naq_core.hookspecs import hookimpl
from naq_core.serializer import Serializer
from naq_json_serializer.serializer import SUPPORTED_TYPES, JsonSerializer

__all__ = ["SUPPORTED_TYPES", "JsonSerializer", "naq_register_serializers"]

__version__ = "0.2.0"


@hookimpl
def naq_register_serializers(register: Callable[[Serializer], None]) -> None:
    """Offer the ``json`` serializer."""
    register(JsonSerializer())
