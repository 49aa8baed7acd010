"""naq's streams and buckets allow direct gets (the dashboard pages through them without a
consumer), while naq's own key-value reads still go to the stream's leader."""

from __future__ import annotations

from naq_core import Queue
from naq_core.jetstream import JOBS_STREAM, RESULTS_BUCKET


async def test_jobs_stream_and_results_bucket_allow_direct_gets(fresh_nats_server, queue_name: str) -> None:  # type: ignore[no-untyped-def]
    async with Queue(queue_name, fresh_nats_server.url) as queue:
        await queue.enqueue("tests:noop")
        conn = await queue.connection()
        results = await conn.bucket(RESULTS_BUCKET)
        jobs = await conn.js.stream_info(JOBS_STREAM)
        bucket = await conn.js.stream_info(f"KV_{RESULTS_BUCKET}")
        assert jobs.config.allow_direct is True
        assert bucket.config.allow_direct is True
        # naq's handle reads through the leader: a follower's direct answer may lag a write
        assert results._direct is False
