"""The dashboard's "Dead letters" panel against a real nats-server and real workers.

Needs naq-dashboard (skipped without it); plugins/dashboard/tests/test_dead_letters_panel.py
runs these tests again in the dashboard's own session.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

pytest.importorskip("naq_dashboard")

import dlq_tasks
from dlq_support import dlq_store
from starlette.testclient import TestClient

from naq_core import DeadLetterReason, JobStatus, Queue, load_config
from naq_core.testing import only_plugins
from naq_core.testing.sink_contract import sample_letter
from naq_core.testing.worker import worker_thread
from naq_dashboard import create_app, host_of
from naq_dlq_stream import LetterFilter

T = TypeVar("T")
BASE_URL = "http://127.0.0.1"
_WAIT = 20.0


@pytest.fixture(autouse=True)
def _panel_plugins() -> Iterator[None]:
    """The json serializer, dlq-stream and the dashboard (its built-in pages around the panel)."""
    import naq_dashboard.plugin
    import naq_dlq_stream.plugin
    import naq_json_serializer

    with only_plugins(naq_json_serializer, naq_dlq_stream.plugin, naq_dashboard.plugin):
        yield


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@contextmanager
def panel_client(nats_url: str, *, read_only: bool = False) -> Iterator[TestClient]:
    config = load_config(env={}, search=False, overrides={"nats_url": nats_url})
    with TestClient(create_app(config, read_only=read_only), base_url=BASE_URL) as client:
        yield client


def post(client: TestClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """A same-origin form POST with the dashboard's token, as a browser sends it."""
    token = host_of(client.app).csrf_token  # type: ignore[arg-type]
    headers = {"Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"}
    return client.post(url, data={"_csrf": token, **(data or {})}, headers=headers, **kwargs)


def post_json(client: TestClient, url: str, body: dict[str, Any]) -> Any:
    token = host_of(client.app).csrf_token  # type: ignore[arg-type]
    return client.post(url, json=body, headers={"X-NAQ-CSRF": token})


def add_letters(nats_url: str, letters: list[Any]) -> list[str]:
    async def main() -> list[str]:
        async with dlq_store(nats_url) as store:
            return [await store.add(letter) for letter in letters]

    return run(main())


def letter_ids(nats_url: str, queue: str) -> list[tuple[int, str]]:
    async def main() -> list[tuple[int, str]]:
        async with dlq_store(nats_url) as store:
            return [(s.seq, s.id) for s in await store.list(LetterFilter(queue=queue))]

    return run(main())


def wait_until_sync(check: Any, timeout: float = _WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)


def test_list_filters_paging_grouping_and_letter_page(nats_url: str, queue_name: str) -> None:
    now = time.time()
    letters = [
        sample_letter(queue=queue_name, function="app:send", error_type="ValueError", last_seen=now - 7200),
        sample_letter(queue=queue_name, function="app:send", error_type="KeyError", last_seen=now - 60),
        sample_letter(
            DeadLetterReason.POISON,
            queue=queue_name,
            function="app:bill",
            error_type="TypeError",
            last_seen=now,
        ),
    ]
    ids = add_letters(nats_url, letters)
    other = add_letters(nats_url, [sample_letter(queue=f"{queue_name}-other")])
    with panel_client(nats_url) as client:
        answer = client.get("/api/dead-letters/", params={"queue": queue_name}).json()
        assert [row["id"] for row in answer["letters"]] == ids[::-1]  # newest first
        assert answer["total"] >= 4 and answer["next_before"] is None
        assert set(answer["letters"][0]) >= {
            "id",
            "queue",
            "function",
            "reason",
            "error",
            "last_seen",
            "attempts",
        }

        first = client.get("/api/dead-letters/", params={"queue": queue_name, "limit": 2}).json()
        assert [row["id"] for row in first["letters"]] == [ids[2], ids[1]]
        rest = client.get(
            "/api/dead-letters/", params={"queue": queue_name, "limit": 2, "before": first["next_before"]}
        ).json()
        assert [row["id"] for row in rest["letters"]] == [ids[0]] and rest["next_before"] is None

        def found(**params: str) -> list[str]:
            data = client.get("/api/dead-letters/", params={"queue": queue_name, **params}).json()
            return [row["id"] for row in data["letters"]]

        assert found(reason="poison") == [ids[2]]
        assert found(function="app:send") == [ids[1], ids[0]]
        assert found(since="1h") == [ids[2], ids[1]]
        assert found(until="1h") == [ids[0]]
        assert other[0] not in found()

        groups = client.get("/api/dead-letters/groups", params={"queue": queue_name}).json()
        assert groups["by_function"] == [
            {"function": "app:send", "count": 2},
            {"function": "app:bill", "count": 1},
        ]
        assert {g["error_type"]: g["count"] for g in groups["by_error"]} == {
            "ValueError": 1,
            "KeyError": 1,
            "TypeError": 1,
        }
        assert groups["counted"] == 3 and groups["partial"] is False

        page = client.get("/dead-letters/", params={"queue": queue_name})
        assert page.status_code == 200
        html = page.text
        assert 'data-live data-topics="naq_dlq"' in html
        for ident in ids:
            assert f'data-letter-id="{ident}"' in html and f'data-test="requeue-{ident}"' in html
        assert html.index(f'data-letter-id="{ids[2]}"') < html.index(f'data-letter-id="{ids[0]}"')
        assert "Counted over the newest 3 matching letters" in html
        assert other[0] not in html

        detail = client.get(f"/dead-letters/letters/{ids[0]}")
        assert detail.status_code == 200
        assert "Traceback" in detail.text and "ValueError" in detail.text and "Payload" in detail.text
        assert f'href="http://127.0.0.1/jobs/{ids[0]}"' in detail.text  # the Jobs panel's job page
        api = client.get(f"/api/dead-letters/{ids[0]}").json()
        assert api["id"] == ids[0] and api["traceback"] and api["payload_preview"]
        assert client.get("/dead-letters/letters/nope").status_code == 404
        assert client.get("/api/dead-letters/nope").status_code == 404

        assert client.get("/api/dead-letters/", params={"limit": 10**6}).status_code == 400
        assert client.get("/api/dead-letters/", params={"queue": "a.b"}).status_code == 400
        assert client.get("/api/dead-letters/", params={"reason": "nonsense"}).status_code == 400
        assert client.get("/api/dead-letters/", params={"function": "x" * 201}).status_code == 400
        assert client.get("/dead-letters/", params={"since": "yesterday-ish"}).status_code == 400


def test_a_new_letter_shows_in_the_live_region(nats_url: str, queue_name: str) -> None:
    with panel_client(nats_url) as client:
        before = client.get("/dead-letters/", params={"queue": queue_name}, headers={"X-NAQ-Live": "1"})
        assert "No dead letters match." in before.text
        [ident] = add_letters(nats_url, [sample_letter(queue=queue_name)])
        after = client.get("/dead-letters/", params={"queue": queue_name}, headers={"X-NAQ-Live": "1"})
        assert f'data-letter-id="{ident}"' in after.text
        assert 'id="dlq-groups"' not in after.text  # a live refresh skips the groups


def test_requeue_one_from_the_page_runs_the_job_again(nats_url: str, queue_name: str) -> None:
    key = uuid.uuid4().hex

    async def enqueue() -> str:
        async with Queue(queue_name, nats_url) as q:
            return (await q.enqueue(dlq_tasks.fail_first_time, key)).job_id

    async def record(job_id: str) -> tuple[JobStatus, Any]:
        async with Queue(queue_name, nats_url) as q:
            rec = await q.job_record(job_id)
            return rec.status, rec.result

    with worker_thread(nats_url, queue_name, tasks=["dlq_tasks"]), panel_client(nats_url) as client:
        job_id = run(enqueue())
        wait_until_sync(lambda: [i for _, i in letter_ids(nats_url, queue_name)] == [job_id])
        html = client.get("/dead-letters/", params={"queue": queue_name}).text
        assert f'data-test="requeue-{job_id}"' in html

        response = post(client, "/dead-letters/requeue", {"letter": job_id})

        assert response.status_code == 200 and "Requeued 1 dead letter" in response.text
        wait_until_sync(lambda: run(record(job_id))[0] is JobStatus.COMPLETED)
        assert run(record(job_id)) == (JobStatus.COMPLETED, 2)
        assert letter_ids(nats_url, queue_name) == []


def test_delete_selected(nats_url: str, queue_name: str) -> None:
    ids = add_letters(nats_url, [sample_letter(queue=queue_name) for _ in range(3)])
    with panel_client(nats_url) as client:
        response = post(client, "/dead-letters/delete", {"id": ids[:2]})
        assert response.status_code == 200 and "Deleted 2 dead letters" in response.text
        assert [i for _, i in letter_ids(nats_url, queue_name)] == [ids[2]]
        # the API, by id; an unknown id is a 404 and deletes nothing
        assert post_json(client, "/api/dead-letters/delete", {"ids": [ids[2], "gone"]}).status_code == 404
        assert post_json(client, "/api/dead-letters/delete", {"ids": [ids[2]]}).json() == {"deleted": 1}
        assert letter_ids(nats_url, queue_name) == []


def test_bulk_requeue_of_letters_that_die_again_does_not_loop(nats_url: str, queue_name: str) -> None:
    count = 5

    async def enqueue() -> list[str]:
        async with Queue(queue_name, nats_url) as q:
            return [(await q.enqueue(dlq_tasks.fail, f"n{n}", max_retries=0)).job_id for n in range(count)]

    with worker_thread(nats_url, queue_name, tasks=["dlq_tasks"]), panel_client(nats_url) as client:
        jobs = run(enqueue())
        wait_until_sync(lambda: len(letter_ids(nats_url, queue_name)) == count)
        snapshot = letter_ids(nats_url, queue_name)

        page = client.get("/dead-letters/", params={"queue": queue_name}).text
        assert "Requeue all that match" in page and "10,000" in page
        started = post(client, "/dead-letters/bulk", {"action": "requeue", "queue": queue_name})
        assert started.status_code == 200 and started.url.path.startswith("/dead-letters/tasks/")
        task_id = started.url.path.rsplit("/", 1)[-1]
        assert 'id="dlq-task" data-live data-topics="naq_dlq"' in started.text

        def progress() -> dict[str, Any]:
            data: dict[str, Any] = client.get(f"/api/dead-letters/tasks/{task_id}").json()
            return data

        wait_until_sync(lambda: progress()["state"] == "done")
        final = progress()
        assert (final["total"], final["done"], final["failed"]) == (count, count, 0)

        # Every job failed again: new letters, later in the stream, that the action left alone.
        def died_again() -> bool:
            now = letter_ids(nats_url, queue_name)
            return len(now) == count and min(seq for seq, _ in now) > max(seq for seq, _ in snapshot)

        wait_until_sync(died_again)
        assert sorted(i for _, i in letter_ids(nats_url, queue_name)) == sorted(jobs)
        assert progress() == final
        html = client.get(f"/dead-letters/tasks/{task_id}").text
        assert "5 of 5 done" in html and 'data-task-state="done"' in html


def test_bulk_through_the_api_with_a_filter(nats_url: str, queue_name: str) -> None:
    ids = add_letters(
        nats_url,
        [
            sample_letter(queue=queue_name, function="app:a"),
            sample_letter(queue=queue_name, function="app:b"),
        ],
    )
    with panel_client(nats_url) as client:
        answer = post_json(
            client, "/api/dead-letters/delete", {"filter": {"queue": queue_name, "function": "app:a"}}
        )
        assert answer.status_code == 202 and answer.json()["state"] in ("snapshot", "running", "done")
        url = answer.json()["url"]
        wait_until_sync(lambda: client.get(url).json()["state"] == "done")
        assert client.get(url).json()["total"] == 1
        assert [i for _, i in letter_ids(nats_url, queue_name)] == [ids[1]]
        assert post_json(client, "/api/dead-letters/requeue", {}).status_code == 400
        assert client.get("/api/dead-letters/tasks/unknown").status_code == 404


def test_read_only_hides_and_refuses_the_actions(nats_url: str, queue_name: str) -> None:
    [ident] = add_letters(nats_url, [sample_letter(queue=queue_name)])
    with panel_client(nats_url, read_only=True) as client:
        page = client.get("/dead-letters/", params={"queue": queue_name}).text
        assert f'data-letter-id="{ident}"' in page
        assert 'data-test="requeue-' not in page and "all that match" not in page
        assert post(client, "/dead-letters/requeue", {"letter": ident}).status_code == 403
        assert (
            post(client, "/dead-letters/bulk", {"action": "delete", "queue": queue_name}).status_code == 403
        )
        assert post_json(client, "/api/dead-letters/delete", {"ids": [ident]}).status_code == 403
        assert [i for _, i in letter_ids(nats_url, queue_name)] == [ident]


def test_without_dlq_stream_there_is_no_panel_and_the_dashboard_works(nats_url: str) -> None:
    import naq_dashboard.plugin
    import naq_json_serializer

    with only_plugins(naq_json_serializer, naq_dashboard.plugin), panel_client(nats_url) as client:
        overview = client.get("/overview/")
        assert overview.status_code == 200 and "Dead letters" not in overview.text
        assert client.get("/dead-letters/").status_code == 404
        assert client.get("/api/dead-letters/").status_code == 404
    with panel_client(nats_url) as client:  # and with it, it is in the navigation
        assert 'href="http://127.0.0.1/dead-letters/"' in client.get("/overview/").text


def test_the_plugin_never_imports_the_dashboard() -> None:
    from pathlib import Path

    import naq_dlq_stream

    package = Path(naq_dlq_stream.__file__).parent
    for source in package.glob("*.py"):
        text = source.read_text()
        assert "naq_dashboard" not in text, source.name
        if source.name != "panel.py":
            assert "starlette" not in text.replace("Starlette", ""), source.name


def test_a_letters_arguments_are_shown_redacted(nats_url: str, queue_name: str) -> None:
    from naq_core import Job

    async def add() -> list[str]:
        async with dlq_store(nats_url) as store:
            job = Job(
                function="app:login", kwargs={"user": "bob", "password": "hunter2"}, queue_name=queue_name
            )
            payload = store.conn.serializer.dumps(job.to_envelope())
            junk = sample_letter(queue=queue_name, payload=b"api_key=plain-bytes")
            return [
                await store.add(sample_letter(queue=queue_name, job_id=job.job_id, payload=payload)),
                await store.add(junk),
            ]

    job_letter, raw_letter = run(add())
    with panel_client(nats_url) as client:
        page = client.get(f"/dead-letters/letters/{job_letter}").text
        assert "app:login" in page and "bob" in page and "hunter2" not in page
        api = client.get(f"/api/dead-letters/{job_letter}").json()
        assert api["payload_redacted"] is True and "hunter2" not in api["payload_preview"]
        raw = client.get(f"/api/dead-letters/{raw_letter}").json()  # not a job: the bytes, size-capped
        assert raw["payload_redacted"] is False and raw["payload_preview"] == "api_key=plain-bytes"
