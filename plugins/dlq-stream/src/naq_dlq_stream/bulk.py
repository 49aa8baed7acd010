"""Requeue or delete every letter that matches a filter, in the background, with progress.

When asked, the action notes the stream's last sequence; its snapshot is the (at most
:data:`SNAPSHOT_CAP`) oldest matching letters stored up to then, as ``(sequence, id)``
pairs. Then it acts on exactly those messages, by sequence. A requeued job that dies again
is a new message with a higher sequence, so it is never in the snapshot: the action
cannot loop, and it ends after ``total`` letters whatever the workers do.

:class:`BulkActions` holds one app's tasks (asyncio tasks on the app's event loop); the
dashboard panel keeps one on ``app.state`` (see :func:`bulk_actions`), so nothing lives
at module level.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Literal

import nats.errors
import nats.js.errors
from attrs import define, field

from naq_core.logconfig import get_logger
from naq_core.panels import PanelHost
from naq_dlq_stream._codec import DLQ_STREAM, decode
from naq_dlq_stream.browse import snapshot, stream_state
from naq_dlq_stream.filters import LetterFilter
from naq_dlq_stream.store import DeadLetterStore

if TYPE_CHECKING:
    from naq_core.jetstream import Connection

__all__ = ["SNAPSHOT_CAP", "STATE_KEY", "BulkActions", "BulkTask", "bulk_actions"]

#: The most letters one "all that match" action takes.
SNAPSHOT_CAP = 10_000
#: The attribute of ``app.state`` holding the app's :class:`BulkActions`.
STATE_KEY = "naq_dlq_stream_bulk"
_KEEP = 20  # finished tasks remembered per app
_RUNNING = 2  # tasks that may run at once per app

Action = Literal["requeue", "delete"]


@define(kw_only=True)
class BulkTask:
    """One "all that match" action and its progress."""

    id: str
    action: Action
    where: LetterFilter
    created: float = field(factory=time.time)
    #: ``snapshot`` (taking it), ``running``, ``done``, ``failed`` (stopped by an error).
    state: str = "snapshot"
    #: The last stream sequence the snapshot may take.
    upto: int = 0
    total: int = 0
    #: More letters matched than the snapshot takes (:data:`SNAPSHOT_CAP`).
    truncated: bool = False
    done: int = 0
    failed: int = 0
    #: Letters gone before their turn (requeued, deleted or expired meanwhile).
    gone: int = 0
    error: str | None = None
    finished: float | None = None

    @property
    def active(self) -> bool:
        return self.state in ("snapshot", "running")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "filter": self.where.describe(),
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "gone": self.gone,
            "truncated": self.truncated,
            "cap": SNAPSHOT_CAP,
            "error": self.error,
            "created": self.created,
            "finished": self.finished,
        }


class BulkActions:
    """The bulk actions of one app: start them, look them up (see the module text)."""

    def __init__(self) -> None:
        self.tasks: OrderedDict[str, BulkTask] = OrderedDict()
        self._running: dict[str, asyncio.Task[None]] = {}

    def get(self, task_id: str) -> BulkTask | None:
        return self.tasks.get(task_id)

    async def start(self, conn: Connection, action: Action, where: LetterFilter) -> BulkTask:
        """Fix the snapshot's end (the stream's last sequence now) and start the action."""
        if sum(1 for t in self.tasks.values() if t.active) >= _RUNNING:
            from naq_core.errors import NaqError

            raise NaqError(f"{_RUNNING} bulk actions are running already; wait for one to finish")
        _, last, _ = await stream_state(conn)
        task = BulkTask(id=secrets.token_hex(8), action=action, where=where, upto=last)
        self.tasks[task.id] = task
        while len(self.tasks) > _KEEP:
            oldest = next((k for k, t in self.tasks.items() if not t.active), None)
            if oldest is None:
                break
            del self.tasks[oldest]
        runner = asyncio.create_task(self._run(conn, task), name=f"naq-dlq-bulk-{task.id}")
        self._running[task.id] = runner
        runner.add_done_callback(lambda _: self._running.pop(task.id, None))
        return task

    async def _run(self, conn: Connection, task: BulkTask) -> None:
        log = get_logger(__name__)
        try:
            taken, task.truncated = await snapshot(conn, task.where, upto=task.upto, cap=SNAPSHOT_CAP)
            task.total = len(taken)
            task.state = "running"
            store = DeadLetterStore(conn)
            for seq, ident in taken:
                try:
                    await self._one(conn, store, task, seq, ident)
                except (nats.errors.ConnectionClosedError, asyncio.CancelledError):
                    raise
                except Exception as exc:
                    task.failed += 1
                    task.error = f"{ident}: {exc}"[:300]
                    log.warning("dead_letter_bulk_item_failed", task=task.id, id=ident, error=str(exc))
            task.state = "done"
        except asyncio.CancelledError:
            task.state, task.error = "failed", "stopped"
            raise
        except Exception as exc:
            task.state, task.error = "failed", str(exc)[:300]
            log.warning("dead_letter_bulk_failed", task=task.id, error=str(exc))
        finally:
            task.finished = time.time()
            log.info(
                "dead_letter_bulk_finished",
                task=task.id,
                action=task.action,
                total=task.total,
                done=task.done,
                failed=task.failed,
                gone=task.gone,
            )

    async def _one(
        self, conn: Connection, store: DeadLetterStore, task: BulkTask, seq: int, ident: str
    ) -> None:
        """Act on the message at ``seq`` if it is still the letter the snapshot saw."""
        try:
            raw = await conn.js.get_msg(DLQ_STREAM, seq=seq, direct=True)
        except nats.js.errors.NotFoundError:
            task.gone += 1
            return
        stored = decode(raw.subject or "", raw.seq or seq, raw.headers, raw.data, raw.time)
        if stored.id != ident:
            task.gone += 1
            return
        if task.action == "delete":
            try:
                await conn.js.delete_msg(DLQ_STREAM, seq)
            except nats.js.errors.NotFoundError:
                task.gone += 1
                return
        else:
            # By sequence, not by id: the letter in the snapshot, never a later one of the same job.
            await store.requeue_stored(stored)
        task.done += 1

    async def aclose(self) -> None:
        """Stop the running actions (they end ``failed``, "stopped")."""
        runners = list(self._running.values())
        for runner in runners:
            runner.cancel()
        for runner in runners:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner


def bulk_actions(state: Any, host: PanelHost | None = None) -> BulkActions:
    """The :class:`BulkActions` kept on ``state`` (an app's ``app.state``), made on first use.

    ``host``: the dashboard serving the app; the actions are stopped when it shuts down.
    """
    actions = getattr(state, STATE_KEY, None)
    if not isinstance(actions, BulkActions):
        actions = BulkActions()
        setattr(state, STATE_KEY, actions)
        if host is not None:
            host.on_close(actions.aclose)
    return actions
