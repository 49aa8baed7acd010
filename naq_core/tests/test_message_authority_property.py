"""Property (issue 10): whatever a producer of one queue publishes onto its own queue's
subjects and schedule subjects (random envelopes, ``Nats-Scheduler``/``Nats-Schedule-*``,
``Nats-Msg-Id``, ``Naq-*`` headers and serializer tags), nothing of another queue changes
(its pending job, a waiting dependent, a recurring and a one-off schedule) and the worker
keeps running jobs.

The subject ids drawn are never a victim's job id: job ids are one namespace across queues,
which docs/security.md names as a known limit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import nats.errors
import nats.js.errors
import pytest
import worker_tasks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import eventually

from naq_core import JobStatus, Queue, Worker
from naq_core.testing.serializer_contract import json_like_values
from naq_core.testing.worker import worker_thread

_VICTIM = {"job": "victim-job", "child": "victim-child", "every": "victim-every", "at": "victim-at"}


@pytest.fixture
def victim(nats_url: str, queue_name: str) -> Iterator[str]:
    """A victim queue (no worker) with a pending job, its waiting dependent, a recurring and
    a one-off schedule; ids are unique per test run."""
    name = queue_name + "-victim"
    tag = uuid.uuid4().hex[:6]
    ids = {key: f"{value}-{tag}" for key, value in _VICTIM.items()}

    async def setup() -> None:
        async with Queue(name, nats_url) as q:
            await q.enqueue(worker_tasks.add, 1, 1, job_id=ids["job"])
            await q.enqueue(worker_tasks.add, 2, 2, job_id=ids["child"], depends_on=ids["job"])
            await q.schedule(worker_tasks.add, 3, 3, interval=3600, name=ids["every"])
            later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
            await q.enqueue_at(later, worker_tasks.add, 4, 4, job_id=ids["at"])

    async def teardown() -> None:
        async with Queue(name, nats_url) as q:
            for key in ("every", "at"):
                await q.cancel_scheduled_job(ids[key])
            await q.purge()
        async with Queue(queue_name, nats_url) as own:  # schedules the examples made
            conn = await own.connection()
            await conn.js.purge_stream("naq_jobs", subject=f"naq.sched.{queue_name}.>")

    asyncio.run(setup())
    _VICTIM_IDS.clear()
    _VICTIM_IDS.update(ids)
    yield name
    asyncio.run(teardown())


_VICTIM_IDS: dict[str, str] = {}


@pytest.fixture
def background_worker(nats_url: str, queue_name: str) -> Iterator[Worker]:
    with worker_thread(nats_url, queue_name, tasks=["worker_tasks"]) as worker:
        yield worker


_ID = st.one_of(st.sampled_from(["job", "child", "every", "at"]), st.text("abc", min_size=1, max_size=4))
_QUEUE = st.sampled_from(["own", "victim", "other"])
_HEADER_NAMES = [
    "Nats-Scheduler",
    "Nats-Schedule-Next",
    "Nats-Schedule",
    "Nats-Schedule-Target",
    "Nats-Msg-Id",
    "Naq-Serializer",
    "Naq-Attempt",
]
_HEADER_VALUES = st.one_of(
    st.sampled_from(["purge", "json", "pickle", "@at 2000-01-01T00:00:00Z", "@every 1s"]),
    st.tuples(st.sampled_from(["sched", "queue"]), _QUEUE, _ID).map(lambda t: f"{t[0]}:{t[1]}:{t[2]}"),
    st.text("xyz09:-", max_size=8),
)


@st.composite
def forged(draw: st.DrawFn) -> dict[str, Any]:
    """One message: where it goes (``queue`` or ``sched`` subject of the producer's own
    queue, with a subject id that is never a victim's), its envelope and its headers."""
    envelope: dict[str, Any] = {
        "v": draw(st.sampled_from([1, 1, 1, 2])),
        "id": draw(_ID),
        "queue": draw(_QUEUE),
        "fn": draw(st.sampled_from(["worker_tasks:add", "os:system", "worker_tasks:nope"])),
        "args": draw(st.sampled_from([[1, 2], ["a", "b"], []])),
        "kwargs": {},
        "at": 1.0,
    }
    if draw(st.booleans()):
        envelope["sched"] = draw(_ID)
    if draw(st.booleans()):
        envelope["deps"] = [draw(_ID)]
    extra = draw(
        st.dictionaries(st.sampled_from(["retries", "timeout", "ttl", "at"]), json_like_values(2), max_size=2)
    )
    return {
        "kind": draw(st.sampled_from(["queue", "queue", "sched"])),
        "subject_id": draw(st.text("mnop", min_size=1, max_size=4)),
        "envelope": {**envelope, **extra},
        "headers": draw(st.dictionaries(st.sampled_from(_HEADER_NAMES), _HEADER_VALUES, max_size=4)),
    }


def _resolve(value: Any, own: str, victim: str) -> Any:
    """Turn the drawn placeholders into real queue names, ids and subjects."""
    queues = {"own": own, "victim": victim, "other": own + "-other"}
    if isinstance(value, str) and value in queues:
        return queues[value]
    if isinstance(value, str) and value in _VICTIM:
        return _VICTIM_IDS[value]
    if isinstance(value, str) and value.count(":") == 2:
        kind, queue, ident = value.split(":")
        return f"naq.{kind}.{queues.get(queue, queue)}.{_resolve(ident, own, victim)}"
    return value


async def _victim_unchanged(url: str, victim: str) -> None:
    ids = _VICTIM_IDS
    async with Queue(victim, url) as q:
        conn = await q.connection()
        assert await q.job_status(ids["job"]) is JobStatus.PENDING  # no record written
        assert await q.job_status(ids["child"]) is JobStatus.WAITING  # not released or failed
        assert await q.job_status(ids["at"]) is JobStatus.SCHEDULED
        info = await conn.js.stream_info("naq_jobs", subjects_filter=f"naq.queue.{victim}.*")
        assert info.state.subjects == {f"naq.queue.{victim}.{ids['job']}": 1}  # its pending job only
        schedules = {s.schedule_id: s for s in await q.list_schedules()}
        assert set(schedules) == {ids["every"], ids["at"]} and schedules[ids["every"]].firings == 0

        async def schedule_messages() -> bool:  # a forged purge is undone by the worker
            found = await conn.js.stream_info("naq_jobs", subjects_filter=f"naq.sched.{victim}.*")
            return set(found.state.subjects or {}) == {
                f"naq.sched.{victim}.{ids[k]}" for k in ("every", "at")
            }

        await eventually(schedule_messages, timeout=10)


async def _example(url: str, own: str, victim: str, messages: list[dict[str, Any]]) -> None:
    async with Queue(own, url) as q:
        conn = await q.connection()
        for message in messages:
            envelope = {k: _resolve(v, own, victim) for k, v in message["envelope"].items()}
            if "deps" in envelope:
                envelope["deps"] = [_resolve(d, own, victim) for d in envelope["deps"]]
            headers = {k: str(_resolve(v, own, victim)) for k, v in message["headers"].items()}
            subject = f"naq.{message['kind']}.{own}.{message['subject_id']}"
            try:
                await conn.js.publish(subject, json.dumps(envelope).encode(), headers=headers or None)
            except (nats.js.errors.APIError, nats.errors.Error):
                pass  # the server refused it (bad schedule headers, a target on another queue)
        job = await q.enqueue(worker_tasks.add, 20, 22)  # the worker is alive and runs jobs
        assert await q.fetch_job_result(job, timeout=20) == 42

        async def drained() -> bool:
            return await q.count() == 0

        await eventually(drained, timeout=20)
    await _victim_unchanged(url, victim)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messages=st.lists(forged(), min_size=1, max_size=4))
def test_a_producer_of_one_queue_changes_nothing_of_another(
    nats_url: str, queue_name: str, victim: str, background_worker: Worker, messages: list[dict[str, Any]]
) -> None:
    asyncio.run(_example(nats_url, queue_name, victim, messages))
    assert background_worker.status == "running"
