"""Tasks of the error-handling example. Run them with ``naq worker errors -t tasks``."""

from __future__ import annotations

import asyncio
from decimal import Decimal


def _parse(text: str) -> Decimal:
    if not text.replace(".", "", 1).isdigit():
        raise ValueError(f"not an amount: {text!r}")
    return Decimal(text)


def add_amounts(a: str, b: str) -> Decimal:
    """Fails with ``ValueError`` deep in a helper: the producer gets the worker's traceback."""
    return _parse(a) + _parse(b)


async def slow(seconds: float) -> str:
    """An async task: a ``timeout=`` shorter than ``seconds`` cancels it."""
    await asyncio.sleep(seconds)
    return f"slept {seconds} s"


def charge_card(card: str) -> None:
    """Always fails: once its retries are spent the job becomes a dead letter."""
    raise ConnectionError(f"payment provider refused card {card}")
