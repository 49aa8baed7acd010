"""A message the worker cannot decode: job id and queue from the subject; a serializer
mismatch is named, and the producer's wait ends with that message instead of a timeout."""

from __future__ import annotations

from typing import Any

import nats
import pytest
import worker_tasks
from support import collect_dead_letters, running_worker, wait_until

from naq_core import DeadLetterReason, JobFailedError, Queue, hookimpl
from naq_core.errors import SerializationError
from naq_core.plugins import get_hooks
from naq_core.serializer import Serializer
from naq_json_serializer.serializer import JsonSerializer


class PrefixedJson:
    """naq's JSON behind a marker byte: bytes the json serializer cannot read."""

    name = "prefixed"
    content_type = "application/x-prefixed-json"
    unsafe = False

    def dumps(self, value: Any) -> bytes:
        return b"\x00" + JsonSerializer().dumps(value)

    def loads(self, data: bytes) -> Any:
        if not data.startswith(b"\x00"):
            raise SerializationError("not prefixed json")
        return JsonSerializer().loads(data[1:])


class _Plugin:
    @hookimpl
    def naq_register_serializers(self, register: Any) -> None:
        serializer: Serializer = PrefixedJson()
        register(serializer)


@pytest.fixture(autouse=True)
def _prefixed() -> None:
    get_hooks().pm.register(_Plugin())


@pytest.mark.parametrize(("writer", "reader"), [("prefixed", "json"), ("json", "prefixed")])
async def test_a_mismatch_fails_the_job_at_once_and_names_both_serializers(
    nats_url: str, queue_name: str, writer: str, reader: str
) -> None:
    sink = collect_dead_letters()
    types = {"json": "application/json", "prefixed": "application/x-prefixed-json"}
    expected = (
        f"serializer mismatch: the message was written with '{writer}' ({types[writer]}), "
        f"this worker reads '{reader}' ({types[reader]})"
    )
    async with (
        Queue(queue_name, nats_url, serializer=writer) as producer,
        running_worker(nats_url, queue_name, serializer=reader),
    ):
        job = await producer.enqueue(worker_tasks.add, 2, 3)
        with pytest.raises(JobFailedError) as failed:
            await producer.fetch_job_result(job, timeout=20)
        await wait_until(lambda: len(sink.letters) == 1, timeout=10)
    assert failed.value.job_id == job.job_id
    assert failed.value.error == expected
    (letter,) = sink.letters
    assert letter.reason is DeadLetterReason.POISON
    assert (letter.job_id, letter.queue_name, letter.error) == (job.job_id, queue_name, expected)


async def test_undecodable_bytes_are_a_poison_letter_with_the_job_id_of_the_subject(
    nats_url: str, queue_name: str
) -> None:
    sink = collect_dead_letters()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        await q.connection()  # the stream exists
        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().publish(f"naq.queue.{queue_name}.garbage-1", b"{not json")
        finally:
            await nc.close()
        await wait_until(lambda: len(sink.letters) == 1, timeout=10)
    (letter,) = sink.letters
    assert letter.reason is DeadLetterReason.POISON
    assert (letter.job_id, letter.queue_name) == ("garbage-1", queue_name)
    assert "mismatch" not in (letter.error or "")
