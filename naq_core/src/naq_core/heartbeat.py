"""Worker heartbeats in the ``naq_workers`` bucket: one write per worker per interval."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

import attrs
import nats.errors
import nats.js.errors
import structlog
from attrs import frozen

from naq_core._conn import WORKERS_BUCKET
from naq_core._kvscan import scan
from naq_core.results import ttl_header

if TYPE_CHECKING:
    from naq_core._conn import Connection

__all__ = ["Heartbeat", "WorkerInfo", "list_workers"]


@frozen(kw_only=True)
class WorkerInfo:
    """What ``naq workers`` shows about one live worker."""

    worker_id: str
    hostname: str
    pid: int
    queues: tuple[str, ...]
    status: str
    concurrency: int
    current_jobs: tuple[str, ...]
    processed: int
    failed: int
    started_at: float
    last_heartbeat: float

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in attrs.asdict(self).items()}


class Heartbeat:
    """Writes ``snapshot()`` every ``interval`` seconds with a TTL of three intervals."""

    def __init__(self, conn: Connection, worker_id: str, interval: float, snapshot: Any) -> None:
        self._conn = conn
        self._key = worker_id
        self._interval = interval
        self._snapshot = snapshot
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._conn.bucket(WORKERS_BUCKET)
        await self.beat()
        self._task = asyncio.create_task(self._loop(), name="naq-heartbeat")

    async def beat(self) -> None:
        data = json.dumps({**self._snapshot(), "last_heartbeat": time.time()}).encode()
        headers = {"Nats-TTL": ttl_header(max(3.0, round(self._interval * 3)))}
        await self._conn.js.publish(f"$KV.{WORKERS_BUCKET}.{self._key}", data, headers=headers)

    async def _loop(self) -> None:
        log = structlog.get_logger(__name__)
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.beat()
            except (TimeoutError, nats.errors.Error) as exc:
                log.warning("heartbeat_failed", worker_id=self._key, error=str(exc))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            kv = await self._conn.bucket(WORKERS_BUCKET)
            await kv.purge(self._key)
        except (TimeoutError, nats.errors.Error):
            pass


async def list_workers(conn: Connection) -> list[WorkerInfo]:
    """Every worker that beat within its TTL, sorted by id."""
    kv = await conn.bucket(WORKERS_BUCKET)
    workers = []
    for entry in sorted(await scan(kv), key=lambda e: e.key):
        data = json.loads(entry.value or b"{}")
        data["queues"] = tuple(data.get("queues", ()))
        data["current_jobs"] = tuple(data.get("current_jobs", ()))
        workers.append(WorkerInfo(**{f.name: data.get(f.name) for f in attrs.fields(WorkerInfo)}))
    return workers
