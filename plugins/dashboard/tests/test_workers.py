"""The workers panel and /api/workers against a real nats-server: a running worker with its queues
and beat age, and a worker whose last heartbeat is old marked stale."""

from __future__ import annotations

import json
import time
import uuid

from dashboard_support import config_for, dashboard_client, run

from naq_core.heartbeat import WorkerInfo
from naq_core.jetstream import WORKERS_BUCKET, connect
from naq_core.testing.worker import worker_thread


def test_a_running_worker_shows_with_its_queues_and_beat_age(nats_url: str, queue_name: str) -> None:
    other = f"{queue_name}-b"
    with worker_thread(nats_url, [queue_name, other], concurrency=3) as worker:
        with dashboard_client(config_for(nats_url)) as client:
            page = client.get("/workers/")
            assert page.status_code == 200
            html = page.text
            assert worker.worker_id in html
            assert f"{queue_name}, {other}" in html
            assert 'data-topics="KV_naq_workers"' in html

            answer = client.get("/api/workers/").json()
            mine = [w for w in answer["workers"] if w["worker_id"] == worker.worker_id]
            assert len(mine) == 1
            info = mine[0]
            assert info["queues"] == [queue_name, other]
            assert info["concurrency"] == 3
            assert info["status"] == "running" and info["state"] == "idle"
            assert info["stale"] is False
            assert 0 <= info["last_beat_seconds_ago"] < answer["stale_after_seconds"]
            assert info["started_at"] <= time.time()
            assert answer["total"] >= 1 and answer["truncated"] is False


async def _write_beat(nats_url: str, info: WorkerInfo) -> None:
    conn = await connect(config_for(nats_url))
    try:
        kv = await conn.bucket(WORKERS_BUCKET)
        await kv.put(info.worker_id, json.dumps(info.to_dict()).encode())
    finally:
        await conn.close()


async def _remove_beat(nats_url: str, worker_id: str) -> None:
    conn = await connect(config_for(nats_url))
    try:
        kv = await conn.bucket(WORKERS_BUCKET)
        await kv.purge(worker_id)
    finally:
        await conn.close()


def test_a_worker_with_an_old_heartbeat_is_marked_stale(nats_url: str, queue_name: str) -> None:
    worker_id = f"ghost-{uuid.uuid4().hex[:8]}"
    now = time.time()
    ghost = WorkerInfo(
        worker_id=worker_id,
        hostname="old-host",
        pid=4242,
        queues=(queue_name,),
        status="running",
        concurrency=2,
        current_jobs=("job-stuck-1",),
        processed=17,
        failed=2,
        started_at=now - 3600,
        last_heartbeat=now - 120,  # 24 intervals of the default 5 s
        state="busy",
        active_jobs=1,
    )
    run(_write_beat(nats_url, ghost))
    try:
        with dashboard_client(config_for(nats_url)) as client:
            answer = client.get("/api/workers/").json()
            found = {w["worker_id"]: w for w in answer["workers"]}[worker_id]
            assert found["stale"] is True
            assert found["last_beat_seconds_ago"] >= 120
            assert found["current_jobs"] == ["job-stuck-1"]
            assert (found["processed"], found["failed"], found["hostname"], found["pid"]) == (
                17,
                2,
                "old-host",
                4242,
            )

            html = client.get("/workers/").text
            row = html[html.index(worker_id) :]
            row = row[: row.index("</tr>")]
            assert "stale" in row and "job-stuck-1" in row and "old-host" in row
    finally:
        run(_remove_beat(nats_url, worker_id))


def test_a_fresh_beat_is_not_stale_by_the_configured_interval(nats_url: str) -> None:
    worker_id = f"slow-{uuid.uuid4().hex[:8]}"
    now = time.time()
    beat = WorkerInfo(
        worker_id=worker_id,
        hostname="h",
        pid=1,
        queues=("q",),
        status="running",
        concurrency=1,
        current_jobs=(),
        processed=0,
        failed=0,
        started_at=now - 100,
        last_heartbeat=now - 60,
    )
    run(_write_beat(nats_url, beat))
    try:
        with dashboard_client(config_for(nats_url, heartbeat_interval=30)) as client:
            answer = client.get("/api/workers/").json()
            assert answer["stale_after_seconds"] == 90
            assert {w["worker_id"]: w for w in answer["workers"]}[worker_id]["stale"] is False
        with dashboard_client(config_for(nats_url)) as client:  # 5 s intervals: 60 s is stale
            answer = client.get("/api/workers/").json()
            assert {w["worker_id"]: w for w in answer["workers"]}[worker_id]["stale"] is True
    finally:
        run(_remove_beat(nats_url, worker_id))
