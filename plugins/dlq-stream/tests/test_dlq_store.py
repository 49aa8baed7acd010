"""DeadLetterStore against a real server: stream settings, get, list filters, delete, purge."""

from __future__ import annotations

import time

import attrs
import pytest
from dlq_support import dlq_store

from naq_core import DeadLetterReason, Queue, load_config
from naq_core.testing import NatsServer
from naq_core.testing.sink_contract import assert_same_letter, sample_letter
from naq_dlq_stream import (
    DLQ_STREAM,
    DeadLetterNotFoundError,
    DeadLetterStore,
    DlqSettings,
    LetterFilter,
    StoredLetter,
)


async def test_stream_is_created_with_the_configured_retention(fresh_nats_server: NatsServer) -> None:
    url = fresh_nats_server.url
    config = load_config(env={}, search=False, overrides={"nats_url": url})
    async with Queue(config=config) as queue:
        conn = await queue.connection()
        store = DeadLetterStore(conn)
        assert await store.list() == [] and await store.count() == 0  # reading creates nothing
        await store.add(sample_letter())
        info = await conn.js.stream_info(DLQ_STREAM)
        assert info.config.max_age == 30 * 86400 and info.config.max_bytes == -1
        assert info.config.max_msgs_per_subject == 1

        changed = DeadLetterStore(conn, DlqSettings(max_age=3600.0, max_bytes=1 << 24, replicas=1))
        await changed.add(sample_letter())
        info = await conn.js.stream_info(DLQ_STREAM)
        assert (info.config.max_age, info.config.max_bytes) == (3600.0, 1 << 24)
        assert info.state.messages == 2


async def test_get_list_filters_and_limit(nats_url: str, queue_name: str) -> None:
    now = time.time()
    letters = [
        sample_letter(queue=queue_name, last_seen=now - 7200),
        sample_letter(
            DeadLetterReason.POISON, queue=queue_name, job_id=None, function=None, last_seen=now - 60
        ),
        sample_letter(queue=queue_name, function="other:task", last_seen=now),
    ]
    async with dlq_store(nats_url) as store:
        ids = [await store.add(letter) for letter in letters]
        assert ids[0] == letters[0].job_id and ids[1] != letters[1].job_id
        assert_same_letter(letters[1], (await store.get(ids[1])).letter)

        def idents(found: list[StoredLetter]) -> list[str]:
            return [s.id for s in found]

        assert idents(await store.list(LetterFilter(queue=queue_name))) == ids
        assert idents(await store.list(LetterFilter(queue=queue_name), limit=2)) == ids[1:]
        poison = LetterFilter(queue=queue_name, reason=DeadLetterReason.POISON)
        assert idents(await store.list(poison)) == [ids[1]]
        assert idents(await store.list(LetterFilter(queue=queue_name, function="other:task"))) == [ids[2]]
        assert idents(await store.list(LetterFilter(queue=queue_name, since=now - 3600))) == ids[1:]
        assert idents(await store.list(LetterFilter(queue=queue_name, until=now - 3600))) == ids[:1]
        assert await store.count(LetterFilter(queue=queue_name)) == 3


async def test_a_job_keeps_one_letter_the_latest(nats_url: str, queue_name: str) -> None:
    first = sample_letter(queue=queue_name, attempts=1)
    again = attrs.evolve(first, attempts=5, error="second time")
    async with dlq_store(nats_url) as store:
        await store.add(first)
        await store.add(again)
        [stored] = await store.list(LetterFilter(queue=queue_name))
        assert stored.letter.attempts == 5 and stored.letter.error == "second time"


async def test_delete_and_purge(nats_url: str, queue_name: str) -> None:
    async with dlq_store(nats_url) as store:
        ids = [await store.add(sample_letter(queue=queue_name)) for _ in range(4)]
        with pytest.raises(DeadLetterNotFoundError, match="no dead letter nope"):
            await store.delete([ids[0], "nope"])
        assert await store.count(LetterFilter(queue=queue_name)) == 4  # nothing deleted
        assert await store.delete(ids[:2]) == 2
        with pytest.raises(DeadLetterNotFoundError):
            await store.get(ids[0])
        assert await store.purge(LetterFilter(queue=queue_name)) == 2
        assert await store.list(LetterFilter(queue=queue_name)) == []


async def test_purge_everything(fresh_nats_server: NatsServer) -> None:
    url = fresh_nats_server.url
    async with dlq_store(url) as store:
        assert await store.purge() == 0  # no stream yet
        for _ in range(3):
            await store.add(sample_letter())
        assert await store.purge() == 3
        assert await store.count() == 0
