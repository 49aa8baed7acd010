"""Tasks the example plugins' tests run."""

from __future__ import annotations


def always_fails() -> None:
    raise RuntimeError("always")
