"""Tasks of the plugin example. Run them with ``naq worker plugin-demo -t tasks``."""

from __future__ import annotations


def import_orders(day: str) -> int:
    """Always fails: its dead letter goes to every installed sink, ours included."""
    raise ConnectionError(f"the order service is down, cannot import {day}")
