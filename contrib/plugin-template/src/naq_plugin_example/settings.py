"""``[tool.naq.plugin_example]``: this plugin's configuration table, declared to naq.

Declared with the ``naq_plugin_settings`` hook, so naq validates the table whenever it loads
the configuration, reads ``NAQ_PLUGIN_EXAMPLE_<KEY>`` variables (which win over the file)
and shows each key in ``naq config show``.
"""

from __future__ import annotations

from collections.abc import Callable

from attrs import field, frozen, validators
from naq_core import Config, hookimpl

__all__ = ["DEFAULT_DIRECTORY", "TABLE", "Settings", "naq_plugin_settings", "settings_of"]

TABLE = "plugin_example"
DEFAULT_DIRECTORY = "naq-dead-letters"


@frozen(kw_only=True)
class Settings:
    """``directory``: where the letters go (relative paths start at the worker's directory)."""

    directory: str = field(default=DEFAULT_DIRECTORY, validator=validators.min_len(1))


def settings_of(config: Config) -> Settings:
    """The validated table of ``config`` (defaults for the keys not set)."""
    settings = config.plugin_settings(TABLE)
    if not isinstance(settings, Settings):  # another plugin declared the same table name
        raise TypeError(f"[{TABLE}] is declared by another plugin ({type(settings).__name__})")
    return settings


@hookimpl
def naq_plugin_settings(register: Callable[[str, type], None]) -> None:
    """Declare ``[tool.naq.plugin_example]``."""
    register(TABLE, Settings)
