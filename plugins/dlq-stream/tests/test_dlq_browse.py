"""browse: pages newest first by cursor, cut short at the request budget, snapshots bounded."""

from __future__ import annotations

import time

from dlq_support import dlq_store

from naq_core.testing.sink_contract import sample_letter
from naq_dlq_stream import LetterFilter
from naq_dlq_stream.browse import group_letters, read_page, snapshot, stream_state


async def test_pages_follow_the_cursor_to_the_end(nats_url: str, queue_name: str) -> None:
    async with dlq_store(nats_url) as store:
        ids = [await store.add(sample_letter(queue=queue_name)) for _ in range(7)]
        where = LetterFilter(queue=queue_name)
        seen: list[str] = []
        before = None
        for _ in range(10):
            page = await read_page(store.conn, where, before=before, limit=3)
            seen += [s.id for s in page.letters]
            before = page.next_before
            if before is None:
                break
        assert seen == ids[::-1]


async def test_a_rare_match_cuts_the_page_short_with_a_cursor_that_reaches_it(
    nats_url: str, queue_name: str
) -> None:
    async with dlq_store(nats_url) as store:
        rare = await store.add(sample_letter(queue=queue_name, function="app:rare"))
        # more letters than one backward step covers (1,024 sequences), whatever the stream's density
        for _ in range(1100):
            await store.add(sample_letter(queue=queue_name, function="app:common"))
        where = LetterFilter(queue=queue_name, function="app:rare")
        first = await read_page(store.conn, where, limit=5, requests=1)
        assert first.letters == [] and first.cut_short and first.next_before is not None
        found: list[str] = []
        before, pages = first.next_before, 1
        while before is not None and not found and pages < 100:
            page = await read_page(store.conn, where, before=before, limit=5, requests=1)
            found = [s.id for s in page.letters]
            before, pages = page.next_before, pages + 1
        assert found == [rare] and pages > 1
        whole = await read_page(store.conn, where, limit=5)  # the default budget reaches it at once
        assert [s.id for s in whole.letters] == [rare] and not whole.cut_short


async def test_since_starts_the_walk_at_the_first_letter_stored_then(nats_url: str, queue_name: str) -> None:
    async with dlq_store(nats_url) as store:
        await store.add(sample_letter(queue=queue_name, last_seen=time.time() - 3600))
        cut = time.time()
        late = await store.add(sample_letter(queue=queue_name))
        page = await read_page(store.conn, LetterFilter(queue=queue_name, since=cut), limit=10)
        assert [s.id for s in page.letters] == [late] and page.examined == 1
        future = await read_page(store.conn, LetterFilter(queue=queue_name, since=time.time() + 60), limit=10)
        assert future.letters == [] and future.next_before is None


async def test_snapshot_is_bounded_by_cap_and_by_the_sequence_it_was_asked_at(
    nats_url: str, queue_name: str
) -> None:
    async with dlq_store(nats_url) as store:
        ids = [await store.add(sample_letter(queue=queue_name, function="app:f")) for _ in range(3)]
        _, upto, _ = await stream_state(store.conn)
        later = await store.add(sample_letter(queue=queue_name, function="app:f"))
        where = LetterFilter(queue=queue_name)
        taken, more = await snapshot(store.conn, where, upto=upto, cap=10)
        assert [i for _, i in taken] == ids and not more  # not the letter stored after
        taken, more = await snapshot(store.conn, where, upto=upto, cap=2)
        assert [i for _, i in taken] == ids[:2] and more
        groups = await group_letters(store.conn, where)
        assert groups.by_function == [("app:f", 4)] and groups.counted == 4
        assert later not in [i for _, i in taken]
