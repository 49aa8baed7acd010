"""Tasks of the several-queues example. One worker serves both queues:
``naq worker emails reports -t tasks -c 8``.
"""

from __future__ import annotations

import asyncio


async def send_email(to: str, subject: str) -> str:
    await asyncio.sleep(0.05)  # pretend to talk to a mail server
    return f"sent {subject!r} to {to}"


def square(n: int) -> int:
    return n * n


def total(numbers: list[int]) -> int:
    return sum(numbers)
