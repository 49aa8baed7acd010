"""``[tool.naq.dlq_stream]``: retention of the dead-letter stream, declared to naq.

The table is declared with the ``naq_plugin_settings`` hook, so naq validates it whenever it
loads the configuration, reads ``NAQ_DLQ_STREAM_<KEY>`` variables and shows each key in
``naq config show``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from attrs import field, frozen, validators

from naq_core.config import Config
from naq_core.hookspecs import hookimpl

__all__ = ["DEFAULT_MAX_AGE", "SECTION", "DlqSettings", "naq_plugin_settings"]

SECTION = "dlq_stream"
DEFAULT_MAX_AGE = 30 * 24 * 3600.0  # 30 days


def _replicas(_: object, __: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and not 1 <= value <= 5:
        raise ValueError(f"must be a whole number of replicas 1-5, got {value!r}")


@frozen(kw_only=True)
class DlqSettings:
    """``max_age`` seconds (0 = for ever), ``max_bytes`` (-1 = no limit), ``replicas``
    (``None``: the core ``replicas``).

    When the stream is full, the oldest letters go first.
    """

    max_age: float = field(default=DEFAULT_MAX_AGE, validator=validators.ge(0))
    max_bytes: int = field(default=-1, validator=validators.ge(-1))
    replicas: int | None = field(default=None, validator=_replicas)

    @classmethod
    def from_config(cls, config: Config) -> DlqSettings:
        """The validated ``[tool.naq.dlq_stream]`` table, ``replicas`` filled in from the core."""
        settings = config.plugin_settings(SECTION)
        if not isinstance(settings, cls):  # another plugin took the table name
            raise TypeError(f"[{SECTION}] is declared by another plugin ({type(settings).__name__})")
        if settings.replicas is None:
            settings = attrs.evolve(settings, replicas=config.replicas)
        return settings


@hookimpl
def naq_plugin_settings(register: Callable[[str, type], None]) -> None:
    """Declare ``[tool.naq.dlq_stream]``."""
    register(SECTION, DlqSettings)
