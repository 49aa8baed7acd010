"""The taskiq-nats app the benchmark runs with ``taskiq worker bench_taskiq_tasks:broker``.

taskiq-nats's JetStream broker (``PullBasedJetStreamBroker``) with its defaults: stream
``taskiq_jetstream`` on subject ``taskiq_tasks``, durable pull consumer ``taskiq_durable``,
one message per fetch, no result backend. Only the server's URL is given, read from
``NAQ_BENCH_TASKIQ_URL`` (set by bench_taskiq.py for the worker and for itself).
"""

from __future__ import annotations

import os
import time

from taskiq_nats import PullBasedJetStreamBroker

__all__ = ["URL_ENV", "broker", "noop", "stamp"]

URL_ENV = "NAQ_BENCH_TASKIQ_URL"

broker = PullBasedJetStreamBroker(os.environ.get(URL_ENV, "nats://127.0.0.1:4222"))


@broker.task
async def noop() -> None:
    """An async no-op: only taskiq's own cost shows."""


@broker.task
async def stamp(reply: str) -> float:
    """The ``time.time()`` this task started, also published on ``reply`` (core NATS).

    With no result backend (taskiq's default) the return value goes nowhere, so the start
    time is sent back on the worker's own connection; it is read before the publish, so the
    publish is not in the measured delay.
    """
    started = time.time()
    await broker.client.publish(reply, repr(started).encode())
    return started
