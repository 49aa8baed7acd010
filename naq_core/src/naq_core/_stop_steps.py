"""How each component a worker started is stopped: the callables its stop steps run
(``Worker._start`` wraps each in a ``_teardown.Teardown`` step)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import nats.errors

from naq_core._teardown import STEP_TIMEOUT, cancel_and_wait

if TYPE_CHECKING:
    from nats.aio.subscription import Subscription

    from naq_core._advisories import MaxDeliveryMover
    from naq_core._jetstream.connection import Connection

__all__ = ["cancel_task", "close_connection", "stop_mover", "unsubscribe"]


async def stop_mover(mover: MaxDeliveryMover, *exc_info: Any) -> bool:
    """Teardown of the mover: an advisory being handled gets 3 s after a clean stop, 1 s
    after a failure (one cut short is not acked: it comes back)."""
    await mover.stop(timeout=3) if exc_info[0] is None else await mover.stop(timeout=1)
    return False


async def close_connection(conn: Connection, timeout: float) -> None:
    """Close the worker's connection, its drain bounded by ``timeout`` seconds (nats-py
    waits 30 s by default). Records still waiting for the server's confirmation get that
    long first, so their jobs are acked rather than delivered again."""
    if conn.confirmer.pending and not conn.nc.is_closed:
        await conn.confirmer.settle(timeout)
    conn.nc.options["drain_timeout"] = timeout
    await conn.close()


async def unsubscribe(sub: Subscription) -> None:
    """Unsubscribe, a connection already gone being no error."""
    with contextlib.suppress(nats.errors.Error):
        await sub.unsubscribe()


async def cancel_task(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait for it (a step's usual bound)."""
    await cancel_and_wait(task, patience=STEP_TIMEOUT)
