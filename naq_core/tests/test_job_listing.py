"""naq_core.job_listing: pages of records and waiting jobs by stream sequence, against a real server."""

from __future__ import annotations

import uuid

from naq_core import JobStatus, Queue
from naq_core.jetstream import Connection
from naq_core.job import Job
from naq_core.job_listing import (
    MAX_REQUESTS,
    RESULTS_STREAM,
    direct_batch,
    queued_job,
    recent_records,
    waiting_jobs,
)
from naq_core.masking import MASK, mask_secrets
from naq_core.results import ResultStore


async def _write(conn: Connection, queue: str, n: int, status: JobStatus = JobStatus.COMPLETED) -> list[str]:
    ids = []
    for i in range(n):
        job = Job(function=f"tasks:f{i % 3}", queue_name=queue, args=(i,))
        await ResultStore(conn).write(job, status, result=i, confirm=True)
        ids.append(job.job_id)
    return ids


async def test_records_page_newest_first_by_cursor_without_duplicates(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        conn = await q.connection()
        ids = await _write(conn, queue_name, 30)
        seen: list[str] = []
        before = None
        for _ in range(3):
            page = await recent_records(conn, before=before, queue=queue_name, limit=10)
            assert len(page.records) == 10
            assert [r.seq for r in page.records] == sorted((r.seq for r in page.records), reverse=True)
            assert page.requests <= MAX_REQUESTS + 1
            seen += [r.record.job_id for r in page.records]
            before = page.next_before
        assert seen == list(reversed(ids))  # newest first, each once
        if before is None:  # no cursor only when the oldest shown is the oldest stored
            assert page.records[-1].seq == (await conn.js.stream_info(RESULTS_STREAM)).state.first_seq
        else:  # other tests' records below: none of this queue
            assert (await recent_records(conn, before=before, queue=queue_name, limit=10)).records == ()


async def test_filters_on_status_and_function_and_a_cut_window_says_so(
    nats_url: str, queue_name: str
) -> None:
    async with Queue(queue_name, nats_url) as q:
        conn = await q.connection()
        failed = await _write(conn, queue_name, 3, JobStatus.FAILED)
        await _write(conn, f"{queue_name}-other", 40)  # newer, other queue
        page = await recent_records(conn, queue=queue_name, limit=10, window=20)
        assert page.records == () and page.window_cut and page.examined == 20
        assert page.next_before is not None
        older = await recent_records(
            conn, before=page.next_before, queue=queue_name, status="failed", limit=10
        )
        assert [r.record.job_id for r in older.records] == list(reversed(failed))
        by_function = await recent_records(conn, queue=queue_name, function="tasks:f1", limit=10)
        assert [r.record.job_id for r in by_function.records] == [failed[1]]
        none = await recent_records(conn, queue=queue_name, status="completed", limit=10)
        assert none.records == ()


async def test_waiting_jobs_are_paged_oldest_first_with_the_count_left(
    nats_url: str, queue_name: str
) -> None:
    async with Queue(queue_name, nats_url) as q:
        jobs = [await q.enqueue("tasks:wait", i, secret_token="x") for i in range(5)]
        conn = await q.connection()
        first = await waiting_jobs(conn, queue_name, limit=2)
        assert [w.job_id for w in first.jobs] == [jobs[0].job_id, jobs[1].job_id]
        assert first.remaining == 3 and first.next_after is not None
        assert first.jobs[0].job is not None and first.jobs[0].job.args == (0,)
        second = await waiting_jobs(conn, queue_name, after=first.next_after, limit=2)
        third = await waiting_jobs(conn, queue_name, after=second.next_after or 0, limit=2)
        assert [w.job_id for w in second.jobs + third.jobs] == [j.job_id for j in jobs[2:]]
        assert third.remaining == 0 and third.next_after is None
        found = await queued_job(conn, jobs[3].job_id)
        assert found is not None and found.args == (3,) and found.queue_name == queue_name
        assert await queued_job(conn, uuid.uuid4().hex) is None


async def test_direct_batch_ends_on_an_empty_range(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        conn = await q.connection()
        await _write(conn, queue_name, 1)
        info = await conn.js.stream_info(RESULTS_STREAM)
        assert info.config.allow_direct  # turned on by the listing
        assert await direct_batch(conn, RESULTS_STREAM, seq=info.state.last_seq + 1000, batch=5) == []


def test_mask_secrets_hides_secret_looking_keys_at_any_depth() -> None:
    shown = mask_secrets({"password": "hunter2", "user": "ann", "nested": {"api_key": "k"}, "key_file": "/a"})
    assert shown == {"password": MASK, "user": "ann", "nested": {"api_key": MASK}, "key_file": "/a"}
