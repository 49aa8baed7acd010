"""naq-dlq-jsonl passes the dead-letter sink contract, and a real worker writes to it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import naq_dlq_jsonl
import pytest

from naq_core import DeadLetter, DeadLetterReason, Queue
from naq_core.testing import DeadLetterSinkContract, only_plugins
from naq_core.testing.worker import running_worker, wait_until


class TestJsonlSink(DeadLetterSinkContract):
    @pytest.fixture
    def sink(self, tmp_path: Path) -> naq_dlq_jsonl.JsonlSink:
        return naq_dlq_jsonl.JsonlSink(tmp_path / "letters.jsonl")

    def read_back(self, sink: naq_dlq_jsonl.JsonlSink) -> list[DeadLetter]:
        return sink.read_all()


def test_each_letter_is_one_ascii_json_line(tmp_path: Path) -> None:
    from naq_core.testing.sink_contract import sample_letter

    sink = naq_dlq_jsonl.JsonlSink(tmp_path / "d.jsonl")
    asyncio.run(sink.store(sample_letter(payload=b"\xff\n\x00")))
    [line] = (tmp_path / "d.jsonl").read_bytes().splitlines()
    record = json.loads(line)
    assert line.isascii() and record["payload"] == "/woA" and record["reason"] == "retries exhausted"


def test_path_from_env_then_config_then_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NAQ_CONFIG", raising=False)
    monkeypatch.delenv(naq_dlq_jsonl.ENV_VAR, raising=False)
    assert naq_dlq_jsonl.configured_path() == Path(naq_dlq_jsonl.DEFAULT_PATH)
    (tmp_path / "naq.toml").write_text('[dlq_jsonl]\npath = "from-config.jsonl"\n')
    assert naq_dlq_jsonl.configured_path() == Path("from-config.jsonl")
    monkeypatch.setenv(naq_dlq_jsonl.ENV_VAR, str(tmp_path / "from-env.jsonl"))
    assert naq_dlq_jsonl.configured_path() == tmp_path / "from-env.jsonl"


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    import naq_json_serializer

    path = tmp_path / "dead.jsonl"
    monkeypatch.setenv(naq_dlq_jsonl.ENV_VAR, str(path))
    with only_plugins(naq_json_serializer, naq_dlq_jsonl):
        yield path


async def test_a_worker_writes_its_dead_letters_to_the_file(nats_url: str, plugins: Path) -> None:
    queue = f"jsonl-{uuid.uuid4().hex[:8]}"
    async with running_worker(nats_url, queue, tasks=[]), Queue(queue, nats_url) as q:
        conn = await q.connection()
        await conn.js.publish(f"naq.queue.{queue}.junk", b"\xffjunk")
        job = await q.enqueue("nobody:knows")
        await wait_until(lambda: len(naq_dlq_jsonl.read_letters(plugins)) >= 2, timeout=10, interval=0.05)
    letters = {letter.reason: letter for letter in naq_dlq_jsonl.read_letters(plugins)}
    assert letters[DeadLetterReason.POISON].payload == b"\xffjunk"
    assert letters[DeadLetterReason.UNKNOWN_TASK].job_id == job.job_id
