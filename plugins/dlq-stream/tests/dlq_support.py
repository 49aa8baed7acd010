"""A real Worker for ``dlq_tasks`` inside a test (from naq_core.testing), reading the DLQ, and
the ``isolated_cli`` fixture of the ``naq dlq`` tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest

from naq_core import Queue, logconfig
from naq_core.testing import worker as _testing
from naq_core.testing.worker import eventually
from naq_dlq_stream import DeadLetterStore, LetterFilter, StoredLetter

__all__ = ["dlq_store", "eventually", "isolated_cli", "running_worker", "wait_for_letters"]

#: ``async with running_worker(url, queues, **options) as worker:`` runs ``dlq_tasks``.
running_worker = partial(_testing.running_worker, tasks=("dlq_tasks",))


@pytest.fixture(autouse=True)
def isolated_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test of a module that imports this runs the CLI in ``tmp_path``, logging reset after."""
    monkeypatch.chdir(tmp_path)  # no config file of the repository
    try:
        yield
    finally:
        logconfig.reset()


@asynccontextmanager
async def dlq_store(url: str) -> AsyncIterator[DeadLetterStore]:
    async with Queue(nats_url=url) as queue:
        yield DeadLetterStore(await queue.connection())


async def wait_for_letters(
    store: DeadLetterStore, queue: str, count: int, timeout: float = 10.0
) -> list[StoredLetter]:
    """The letters of ``queue`` once there are at least ``count`` of them."""
    found: list[StoredLetter] = []

    async def enough() -> bool:
        nonlocal found
        found = await store.list(LetterFilter(queue=queue), limit=None)
        return len(found) >= count

    await eventually(enough, timeout, interval=0.05)
    return found
