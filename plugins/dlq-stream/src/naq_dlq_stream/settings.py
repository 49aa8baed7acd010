"""``[tool.naq.dlq_stream]``: retention of the dead-letter stream."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

from naq_core.config import Config
from naq_core.errors import ConfigurationError

__all__ = ["DEFAULT_MAX_AGE", "SECTION", "DlqSettings"]

SECTION = "dlq_stream"
DEFAULT_MAX_AGE = 30 * 24 * 3600.0  # 30 days


def _number(table: Mapping[str, Any], key: str, default: float, *, minimum: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"[tool.naq.{SECTION}] {key}: expected a number, got {value!r}")
    if value < minimum:
        raise ConfigurationError(f"[tool.naq.{SECTION}] {key}: must be >= {minimum:g}, got {value!r}")
    return float(value)


@frozen(kw_only=True)
class DlqSettings:
    """``max_age`` seconds (0 = for ever), ``max_bytes`` (-1 = no limit), ``replicas``.

    When the stream is full, the oldest letters go first.
    """

    max_age: float = DEFAULT_MAX_AGE
    max_bytes: int = -1
    replicas: int = 1

    @classmethod
    def from_config(cls, config: Config) -> DlqSettings:
        """Read ``[tool.naq.dlq_stream]`` (``replicas`` defaults to the core ``replicas``)."""
        table = config.plugin_config(SECTION)
        unknown = sorted(set(table) - {"max_age", "max_bytes", "replicas"})
        if unknown:
            raise ConfigurationError(
                f"[tool.naq.{SECTION}]: unknown key {unknown[0]!r} (known keys: max_age, max_bytes, replicas)"
            )
        max_bytes = _number(table, "max_bytes", -1, minimum=-1)
        replicas = _number(table, "replicas", config.replicas, minimum=1)
        if max_bytes != int(max_bytes) or replicas != int(replicas) or replicas > 5:
            raise ConfigurationError(
                f"[tool.naq.{SECTION}] max_bytes and replicas must be whole numbers (replicas 1-5)"
            )
        return cls(
            max_age=_number(table, "max_age", DEFAULT_MAX_AGE, minimum=0),
            max_bytes=int(max_bytes),
            replicas=int(replicas),
        )
