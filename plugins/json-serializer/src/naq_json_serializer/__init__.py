"""naq-json-serializer: the safe default serializer of naq (``serializer = "json"``).

Registered through the ``naq`` entry point; this module is the plugin object.
"""

from __future__ import annotations

from collections.abc import Callable

from naq_core.config import Config
from naq_core.hookspecs import hookimpl
from naq_core.serializer import Serializer
from naq_json_serializer._decode import (
    MAX_DECIMAL_DIGITS,
    MAX_DECIMAL_EXPONENT,
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_EQUAL_HASHES,
    MAX_INT_DIGITS,
)
from naq_json_serializer._enums import MAX_FLAG_PSEUDO_MEMBERS
from naq_json_serializer.serializer import SUPPORTED_TYPES, JsonSerializer
from naq_json_serializer.settings import SECTION, JsonSettings, naq_plugin_settings

__all__ = [
    "MAX_DECIMAL_DIGITS",
    "MAX_DECIMAL_EXPONENT",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "MAX_EQUAL_HASHES",
    "MAX_FLAG_PSEUDO_MEMBERS",
    "MAX_INT_DIGITS",
    "SUPPORTED_TYPES",
    "JsonSerializer",
    "JsonSettings",
    "naq_plugin_settings",
    "naq_register_serializers",
]

__version__ = "0.2.0"


@hookimpl
def naq_register_serializers(register: Callable[[Serializer], None], config: Config) -> None:
    """Offer the ``json`` serializer, with ``[json_serializer] enum_modules`` applied."""
    settings = JsonSettings.from_table(config.plugin_config(SECTION))
    register(JsonSerializer(enum_modules=settings.enum_modules))
