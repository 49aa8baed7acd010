"""The queues page and /api/queues: pause, resume, purge (typed confirmation, policy hook), safety."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from dashboard_support import config_for, dashboard_client, post, run
from test_overview import enqueue, row

from naq_core import hookimpl
from naq_core.jetstream import JOBS_STREAM, connect, consumer_name, queue_filter
from naq_core.job_control import pause
from naq_core.plugins import get_hooks


async def stored(url: str, queue: str) -> int:
    """Jobs stored for ``queue`` (the test reads the subject map: a handful of jobs)."""
    conn = await connect(config_for(url))
    try:
        info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=queue_filter(queue))
        return sum((info.state.subjects or {}).values())
    finally:
        await conn.close()


async def paused(url: str, queue: str) -> bool:
    conn = await connect(config_for(url))
    try:
        return bool((await conn.js.consumer_info(JOBS_STREAM, consumer_name(queue))).paused)
    finally:
        await conn.close()


async def make_consumer(url: str, queue: str) -> None:
    """The queue's consumer exists (as after a worker ran); paused, then resumed by the test."""
    conn = await connect(config_for(url))
    try:
        await pause(conn, queue)
        await conn.js.resume_consumer(JOBS_STREAM, consumer_name(queue))
    finally:
        await conn.close()


class Refuse:
    """A policy plugin that refuses every destructive action."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    @hookimpl
    def naq_confirm_destructive(self, action: str, target: str, count: int | None, force: bool) -> bool:
        self.asked.append({"action": action, "target": target, "count": count, "force": force})
        return False


@pytest.fixture
def refuser() -> Iterator[Refuse]:
    plugin = Refuse()
    pm = get_hooks().pm
    pm.register(plugin, name="test-refuse")
    try:
        yield plugin
    finally:
        pm.unregister(plugin)


def test_pause_and_resume_change_the_consumer(nats_url: str, queue_name: str) -> None:
    run(enqueue(nats_url, queue_name, "queue_tasks:add", (1, 2)))
    with dashboard_client(config_for(nats_url)) as client:
        page = client.get("/queues/")
        assert 'id="queues-table" data-live data-topics="naq_jobs consumers KV_naq_workers"' in page.text
        assert f'action="http://127.0.0.1/queues/{queue_name}/pause"' in page.text

        done = post(client, f"/queues/{queue_name}/pause")
        assert done.status_code == 200 and "Paused" in done.text  # followed the 303 to the page
        assert run(paused(nats_url, queue_name)) is True
        mine = row(client.get("/queues/").text, queue_name)
        assert "badge paused" in mine and "Resume" in mine and "jobs waiting but no worker" not in mine
        assert client.get("/api/queues").json()["queues"]

        post(client, f"/queues/{queue_name}/resume")
        assert run(paused(nats_url, queue_name)) is False

        answer = post(client, f"/api/queues/{queue_name}/pause")
        assert answer.status_code == 200 and answer.json()["state"]["paused"] is True
        assert run(paused(nats_url, queue_name)) is True
        answer = post(client, f"/api/queues/{queue_name}/resume")
        assert answer.json()["state"]["paused"] is False
        assert run(paused(nats_url, queue_name)) is False


def test_purge_needs_the_typed_queue_name_and_deletes_exactly_the_queues_jobs(
    nats_url: str, queue_name: str
) -> None:
    other = f"{queue_name}-other"
    run(enqueue(nats_url, queue_name, "queue_tasks:add", *[(i, 1) for i in range(3)]))
    run(enqueue(nats_url, other, "queue_tasks:add", (1, 1), (2, 2)))
    run(make_consumer(nats_url, queue_name))
    with dashboard_client(config_for(nats_url)) as client:
        form = client.get(f"/queues/{queue_name}/purge")
        assert form.status_code == 200
        assert "<strong>3</strong> jobs" in form.text and 'name="confirm"' in form.text

        wrong = post(client, f"/queues/{queue_name}/purge", {"confirm": other})
        assert "type the queue name" in wrong.text
        assert run(stored(nats_url, queue_name)) == 3
        refused = post(client, f"/api/queues/{queue_name}/purge", {"confirm": ""})
        assert refused.status_code == 400 and refused.json()["purged"] == 0
        assert run(stored(nats_url, queue_name)) == 3

        done = post(client, f"/queues/{queue_name}/purge", {"confirm": queue_name})
        assert "Purged 3 jobs from" in done.text
        assert run(stored(nats_url, queue_name)) == 0
        assert run(stored(nats_url, other)) == 2

        answer = post(client, f"/api/queues/{other}/purge", {"confirm": other})
        assert answer.status_code == 200 and answer.json() == {"queue": other, "purged": 2}
        assert run(stored(nats_url, other)) == 0


def test_a_policy_plugin_refusing_blocks_the_purge(nats_url: str, queue_name: str, refuser: Refuse) -> None:
    run(enqueue(nats_url, queue_name, "queue_tasks:add", (1, 1), (2, 2)))
    with dashboard_client(config_for(nats_url)) as client:
        page = post(client, f"/queues/{queue_name}/purge", {"confirm": queue_name})
        assert "a confirmation policy refused" in page.text
        answer = post(client, f"/api/queues/{queue_name}/purge", {"confirm": queue_name})
        assert answer.status_code == 403
    assert run(stored(nats_url, queue_name)) == 2
    assert refuser.asked[0] == {"action": "purge", "target": queue_name, "count": 2, "force": True}


def test_read_only_hides_the_buttons_and_refuses_the_actions(nats_url: str, queue_name: str) -> None:
    run(enqueue(nats_url, queue_name, "queue_tasks:add", (1, 1)))
    with dashboard_client(config_for(nats_url), read_only=True) as client:
        html = client.get("/queues/").text
        assert queue_name in html and "/pause" not in html and "Purge…" not in html
        assert 'name="confirm"' not in client.get(f"/queues/{queue_name}/purge").text
        for url in (f"/queues/{queue_name}/pause", f"/api/queues/{queue_name}/resume"):
            assert post(client, url).status_code == 403
        for url in (f"/queues/{queue_name}/purge", f"/api/queues/{queue_name}/purge"):
            assert post(client, url, {"confirm": queue_name}).status_code == 403
    assert run(stored(nats_url, queue_name)) == 1


def test_a_cross_site_post_is_refused(nats_url: str, queue_name: str) -> None:
    run(enqueue(nats_url, queue_name, "queue_tasks:add", (1, 1)))
    with dashboard_client(config_for(nats_url)) as client:
        answer = post(
            client,
            f"/queues/{queue_name}/purge",
            {"confirm": queue_name},
            headers={"Sec-Fetch-Site": "cross-site"},
        )
        assert answer.status_code == 403
        assert (
            post(
                client, f"/api/queues/{queue_name}/pause", headers={"Sec-Fetch-Site": "cross-site"}
            ).status_code
            == 403
        )
    assert run(stored(nats_url, queue_name)) == 1


def test_the_api_lists_queues_and_validates_names(nats_url: str, queue_name: str) -> None:
    run(enqueue(nats_url, queue_name, "queue_tasks:add", (1, 1), (2, 2)))
    with dashboard_client(config_for(nats_url)) as client:
        answer = client.get("/api/queues").json()
        mine = next(q for q in answer["queues"] if q["queue"] == queue_name)
        assert (mine["pending"], mine["in_flight"], mine["paused"], mine["workers"]) == (2, 0, False, 0)
        assert mine["oldest_age_seconds"] is not None
        assert answer["complete"] is True
        assert client.get(f"/api/queues/{queue_name}").json()["jobs"] == 2
        assert client.get("/api/queues/no.such").status_code == 400
        assert client.get(f"/api/queues/{queue_name}-nothing").status_code == 404
        assert post(client, "/api/queues/bad name/pause").status_code == 400
        missing = post(client, f"/api/queues/{queue_name}-nothing/pause")
        assert missing.status_code == 404 and "error" in missing.json()
        assert client.get(f"/queues/{queue_name}-nothing/purge").status_code == 404
        overview = client.get("/api/overview").json()
        assert json.dumps(overview) and len(overview["history"]) == 60 and "dead_letters" in overview


async def enqueue_many(url: str, queue: str, count: int) -> None:
    from naq_core import Queue

    async with Queue(queue, url) as q:
        await q.enqueue_many([("queue_tasks:add", (i, 1)) for i in range(count)])


async def board_requests(url: str) -> tuple[int, list[str]]:
    from naq_core.overview import Requests
    from naq_dashboard.queue_state import read_board

    conn = await connect(config_for(url))
    try:
        requests = Requests(conn)
        board = await read_board(conn, requests)
        return requests.count, [q.queue for q in board.queues]
    finally:
        await conn.close()


def test_a_big_stream_skips_discovery_says_so_and_requests_do_not_grow(fresh_nats_server: Any) -> None:
    from naq_dashboard.queue_state import DISCOVERY_SUBJECTS

    url = fresh_nats_server.url
    run(enqueue_many(url, "served", 10))
    run(make_consumer(url, "served"))
    small, names = run(board_requests(url))
    assert names == ["served"]
    run(enqueue_many(url, "served", DISCOVERY_SUBJECTS))
    run(enqueue_many(url, "orphan", 5))
    large, names = run(board_requests(url))
    assert names == ["served"]  # a consumer-less queue after the oldest job is not found any more
    assert large == small  # the subject map is not read: the oldest job is
    with dashboard_client(config_for(url)) as client:
        assert "The list may be incomplete" in client.get("/overview/").text
        assert "The list may be incomplete" in client.get("/queues/").text
        assert client.get("/api/queues").json()["complete"] is False
        orphan = client.get("/api/queues/orphan").json()
        assert orphan["estimate"] is True and orphan["pending"] == 5
        assert "At most" in client.get("/queues/orphan/purge").text
        served = client.get("/api/queues/served").json()
        assert served["pending"] == 10 + DISCOVERY_SUBJECTS and served["estimate"] is False


def test_in_a_big_stream_the_queue_of_the_oldest_job_is_found_without_a_consumer(
    fresh_nats_server: Any,
) -> None:
    from naq_dashboard.queue_state import DISCOVERY_SUBJECTS

    url = fresh_nats_server.url
    run(enqueue_many(url, "orphan", 5))
    run(enqueue_many(url, "served", DISCOVERY_SUBJECTS))
    run(make_consumer(url, "served"))
    with dashboard_client(config_for(url)) as client:
        answer = client.get("/api/queues").json()
        assert answer["complete"] is False
        orphan = next(q for q in answer["queues"] if q["queue"] == "orphan")
        assert (orphan["pending"], orphan["estimate"], orphan["waiting_without_worker"]) == (5, True, True)
        assert "≤ 5" in row(client.get("/overview/").text, "orphan")
