"""``[json_serializer]`` (``[tool.naq.json_serializer]``): which modules' Enums may decode.

Declared with the ``naq_plugin_settings`` hook, so naq validates the table when it loads
the configuration, reads ``NAQ_JSON_SERIALIZER_ENUM_MODULES`` (comma-separated) and shows
it in ``naq config show``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from attrs import field, frozen

from naq_core.hookspecs import hookimpl

__all__ = ["SECTION", "JsonSettings", "naq_plugin_settings"]

SECTION = "json_serializer"

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def _modules(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list | tuple):
        raise ValueError(f"expected a list of module names, got {value!r}")
    cleaned = tuple(name.strip() for name in names if not isinstance(name, str) or name.strip())
    for name in cleaned:
        if not (isinstance(name, str) and _DOTTED.fullmatch(name)):
            raise ValueError(f"not a module name: {name!r}")
    return cleaned


@frozen(kw_only=True)
class JsonSettings:
    """``enum_modules``: the modules (and packages, with their submodules) whose Enum members
    decode; not set: any module the process has already imported."""

    enum_modules: Any = field(default=None, converter=_modules)

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> JsonSettings:
        """The settings of a raw ``[json_serializer]`` table (unknown keys are refused)."""
        unknown = sorted(set(table) - {"enum_modules"})
        if unknown:
            raise ValueError(f"[{SECTION}]: unknown keys {unknown} (known keys: enum_modules)")
        return cls(**table)


@hookimpl
def naq_plugin_settings(register: Callable[[str, type], None]) -> None:
    """Declare ``[json_serializer]``."""
    register(SECTION, JsonSettings)
