"""Tasks the NaqClient and helper tests run (loaded by workers with ``tasks=["client_tasks"]``)."""

from __future__ import annotations


def add(a: int, b: int) -> int:
    return a + b


async def greet(name: str, punctuation: str = "!") -> str:
    return f"hello {name}{punctuation}"


def boom(message: str) -> None:
    raise ValueError(message)


def noop(*args: object) -> None:
    return None
