"""Progress bars for long operations: on a terminal only, quiet in pipes and logs."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import click

__all__ = ["progress"]

T = TypeVar("T")


@contextmanager
def progress(items: Sequence[T], label: str) -> Iterator[Iterable[T]]:
    """Iterate ``items`` with a progress bar on stderr when stderr is a terminal.

    One item, or stderr redirected (a pipe, a file, CI): the items, and nothing printed.
    """
    if len(items) < 2 or not sys.stderr.isatty():
        yield items
        return
    with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar:
        yield bar
