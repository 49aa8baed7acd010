"""Tasks of the scheduling example. Run them with ``naq worker scheduled -t tasks``."""

from __future__ import annotations


def remind(who: str) -> str:
    return f"reminded {who}"


def tick(label: str) -> str:
    return f"{label} tick"
