"""``naq dlq list --reason``: ``failed`` (no retries asked for) and ``retries exhausted`` apart."""

from __future__ import annotations

import asyncio
import json

import dlq_tasks
import pytest
from click.testing import CliRunner
from dlq_support import (
    dlq_store,
    isolated_cli,  # noqa: F401 (an autouse fixture)
    running_worker,
    wait_for_letters,
)

from naq_core import DeadLetterReason, JobFailedError, Queue
from naq_core.cli import cli
from naq_dlq_stream import parse_reason


async def _fail_two(url: str, queue: str) -> tuple[str, str]:
    """One job failing with no retries, one failing after its retry: their ids."""
    async with Queue(queue, url) as q, dlq_store(url) as store, running_worker(url, queue):
        plain = await q.enqueue(dlq_tasks.fail, "plain")
        retried = await q.enqueue(dlq_tasks.fail, "retried", max_retries=1, retry_delay=0.05)
        for job in (plain, retried):
            with pytest.raises(JobFailedError):
                await q.fetch_job_result(job, timeout=10)
        await wait_for_letters(store, queue, 2)
    return plain.job_id, retried.job_id


def test_list_by_reason_tells_failed_from_retries_exhausted(nats_url: str, queue_name: str) -> None:
    plain, retried = asyncio.run(_fail_two(nats_url, queue_name))

    def ids(reason: str) -> list[tuple[str, str]]:
        args = ["--nats-url", nats_url, "dlq", "list", "--json", "--queue", queue_name, "--reason", reason]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return [(row["id"], row["reason"]) for row in json.loads(result.stdout)]

    assert ids("failed") == [(plain, "failed")]
    assert ids("FAILED") == [(plain, "failed")]
    assert ids("retries exhausted") == [(retried, "retries exhausted")]
    assert ids("retries_exhausted") == [(retried, "retries exhausted")]


def test_parse_reason_knows_failed() -> None:
    assert parse_reason("failed") is DeadLetterReason.FAILED
    assert parse_reason("retries-exhausted") is DeadLetterReason.RETRIES_EXHAUSTED
