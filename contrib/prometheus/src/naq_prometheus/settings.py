"""``[tool.naq.prometheus]``: where the metrics endpoint listens and how often queue depth is read.

Declared with the ``naq_plugin_settings`` hook, so naq validates the table whenever it loads
the configuration, reads ``NAQ_PROMETHEUS_<KEY>`` variables (which win over the file) and
shows each key in ``naq config show``.
"""

from __future__ import annotations

from collections.abc import Callable

from attrs import field, frozen, validators

from naq_core import Config, hookimpl

__all__ = ["DEFAULT_PORT", "TABLE", "Settings", "naq_plugin_settings", "settings_of"]

TABLE = "prometheus"
#: The port the endpoint listens on unless told otherwise.
DEFAULT_PORT = 9464


@frozen(kw_only=True)
class Settings:
    """The endpoint's ``host`` and ``port`` (``0``: any free port), and ``refresh_interval``:
    seconds between two reads of the queue depth (pending, in flight) from NATS."""

    port: int = field(
        default=DEFAULT_PORT,
        validator=[validators.instance_of(int), validators.ge(0), validators.le(65535)],
    )
    host: str = field(default="127.0.0.1", validator=validators.min_len(1))
    refresh_interval: float = field(default=15.0, validator=validators.ge(0.1))


def settings_of(config: Config) -> Settings:
    """The validated table of ``config`` (defaults for the keys not set)."""
    settings = config.plugin_settings(TABLE)
    if not isinstance(settings, Settings):  # another plugin declared the same table name
        raise TypeError(f"[{TABLE}] is declared by another plugin ({type(settings).__name__})")
    return settings


@hookimpl
def naq_plugin_settings(register: Callable[[str, type], None]) -> None:
    """Declare ``[tool.naq.prometheus]``."""
    register(TABLE, Settings)
