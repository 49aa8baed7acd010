"""The file sink keeps naq's dead-letter contract, and a real worker uses it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import deadletter_file
import pytest
from deadletter_file import FileSink

import naq_json_serializer
from naq_core import JobFailedError, Queue
from naq_core.testing import DeadLetterSinkContract, only_plugins
from naq_core.testing.worker import running_worker


class TestFileSink(DeadLetterSinkContract):
    @pytest.fixture
    def sink(self, tmp_path: Path) -> FileSink:
        return FileSink(tmp_path / "dead-letters.jsonl")


@pytest.fixture(autouse=True)
def plugins() -> Iterator[None]:
    with only_plugins(naq_json_serializer, deadletter_file):  # these, no entry points
        yield


async def test_failed_job_lands_in_the_file(
    nats_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    queue_name = f"file-{uuid.uuid4().hex[:8]}"
    async with (
        Queue(queue_name, nats_url) as queue,
        running_worker(nats_url, queue_name, tasks=["example_tasks"]),
    ):
        job = await queue.enqueue("example_tasks:always_fails")
        with pytest.raises(JobFailedError):
            await queue.fetch_job_result(job, timeout=10)
    assert job.job_id in (tmp_path / "dead-letters.jsonl").read_text()
    assert "example_tasks:always_fails failed for good: RuntimeError: always" in capsys.readouterr().out
