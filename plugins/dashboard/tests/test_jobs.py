"""The jobs panel and /api/jobs against a real nats-server and real workers: the job page
(function, arguments redacted and masked, result, error and traceback, timings), the list
(filters, newest first, paged by cursor, requests that do not grow with the records),
cancel and requeue, read-only, unknown ids and bad parameters."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from dashboard_support import config_for, dashboard_client, post, run

from naq_core import JobStatus, Queue
from naq_core.hookspecs import hookimpl
from naq_core.jetstream import connect
from naq_core.job import Job
from naq_core.plugins import get_hooks
from naq_core.results import ResultStore
from naq_core.testing.worker import eventually, worker_thread
from naq_dashboard import host_of

TASKS = ["jobs_tasks"]


async def _enqueue(nats_url: str, queue: str, fn: str, *args: Any, **kwargs: Any) -> Job:
    async with Queue(queue, nats_url) as q:
        return await q.enqueue(fn, *args, **kwargs)


async def _status(nats_url: str, queue: str, job: Job) -> JobStatus:
    async with Queue(queue, nats_url) as q:
        return await q.job_status(job)


def _finished(nats_url: str, queue: str, job: Job, status: JobStatus) -> None:
    async def check() -> bool:
        return await _status(nats_url, queue, job) is status

    async def wait() -> None:
        await eventually(check, timeout=20)

    run(wait())


def _ref(job: Job) -> str:
    return f"{job.queue_name}.{job.job_id}"


def test_a_completed_job_shows_function_result_and_timings(nats_url: str, queue_name: str) -> None:
    with worker_thread(nats_url, queue_name, tasks=TASKS):
        job = run(_enqueue(nats_url, queue_name, "jobs_tasks:add", 2, 3))
        _finished(nats_url, queue_name, job, JobStatus.COMPLETED)
    with dashboard_client(config_for(nats_url)) as client:
        page = client.get(f"/jobs/{_ref(job)}")
        assert page.status_code == 200
        html = page.text
        assert "<code>jobs_tasks:add</code>" in html
        assert 'class="status status-completed"' in html
        assert '<pre class="value">5</pre>' in html
        assert "a completed job&#39;s record does not keep its arguments" in html
        for label in ("Enqueued", "Started", "Finished", "Wait time", "Run time"):
            assert re.search(rf"<th>{label}</th><td>[^<—]+</td>", html), label
        assert 'id="job-state" data-live data-topics="KV_naq_results"' in html
        by_bare_id = client.get("/jobs/", params={"id": job.job_id})
        assert by_bare_id.status_code == 200 and by_bare_id.url.path == f"/jobs/{job.job_id}"
        answer = client.get(f"/api/jobs/{_ref(job)}").json()
        assert (answer["status"], answer["function"], answer["result"]) == (
            "completed",
            "jobs_tasks:add",
            "5",
        )
        assert answer["run_time"] is not None and answer["wait_time"] is not None


def test_a_failed_job_shows_its_arguments_error_and_traceback(nats_url: str, queue_name: str) -> None:
    with worker_thread(nats_url, queue_name, tasks=TASKS):
        job = run(_enqueue(nats_url, queue_name, "jobs_tasks:boom", "the-reason"))
        _finished(nats_url, queue_name, job, JobStatus.FAILED)
    with dashboard_client(config_for(nats_url)) as client:
        html = client.get(f"/jobs/{_ref(job)}").text
        assert "<strong>ValueError</strong>: boom: the-reason" in html
        assert '<pre class="value traceback">Traceback' in html
        assert "the-reason" in html.split("<h2>Arguments</h2>")[1].split("</pre>")[0]
        assert ">Requeue</button>" in html and ">Cancel</button>" not in html


class _Redactor:
    @hookimpl
    def naq_redact_arguments(self, function: str | None, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return ["[redacted]" if a == "hide-me" else a for a in args], kwargs


class _BrokenRedactor:
    @hookimpl
    def naq_redact_arguments(self, function: str | None, args: list[Any], kwargs: dict[str, Any]) -> Any:
        raise RuntimeError("redactor bug")


def _arguments(html: str) -> str:
    return html.split("<h2>Arguments</h2>")[1].split("</pre>")[0]


def test_arguments_pass_the_redaction_hook_and_secret_kwargs_are_masked(
    nats_url: str, queue_name: str
) -> None:
    get_hooks().pm.register(_Redactor(), name="test-redactor")
    job = run(_enqueue(nats_url, queue_name, "jobs_tasks:echo", "visible", "hide-me", password="s3cret", n=7))
    with dashboard_client(config_for(nats_url)) as client:
        shown = _arguments(client.get(f"/jobs/{_ref(job)}").text)
        assert "visible" in shown and "[redacted]" in shown and "hide-me" not in shown
        assert "s3cret" not in shown and "&#34;password&#34;: &#34;***&#34;" in shown and "7" in shown
        api = client.get(f"/api/jobs/{_ref(job)}").json()
        assert "hide-me" not in api["arguments"] and "s3cret" not in api["arguments"]
        assert "visible" in api["arguments"]


def test_a_failing_redactor_hides_every_argument(nats_url: str, queue_name: str) -> None:
    get_hooks().pm.register(_BrokenRedactor(), name="broken-redactor")
    job = run(_enqueue(nats_url, queue_name, "jobs_tasks:echo", "visible", token="t0ken"))
    with dashboard_client(config_for(nats_url)) as client:
        shown = _arguments(client.get(f"/jobs/{_ref(job)}").text)
        assert "hidden: redactor failed" in shown
        assert "visible" not in shown and "t0ken" not in shown


def test_long_arguments_are_cut_and_other_panels_sections_are_included(
    nats_url: str, queue_name: str
) -> None:
    import example_panel_pkg

    get_hooks().pm.register(example_panel_pkg, name="example-panel")
    job = run(_enqueue(nats_url, queue_name, "jobs_tasks:echo", "x" * 10_000))
    with dashboard_client(config_for(nats_url)) as client:
        html = client.get(f"/jobs/{_ref(job)}").text
        assert len(_arguments(html)) < 4096 + 100 and "(cut: longer than shown)" in html
        assert "<h2>Hello plugin</h2><p>This job ran jobs_tasks:echo.</p>" in html


def test_the_list_filters_and_pages_newest_first_by_cursor(nats_url: str, queue_name: str) -> None:
    async def enqueue_all() -> list[Job]:
        async with Queue(queue_name, nats_url) as q:
            jobs = [await q.enqueue("jobs_tasks:add", i, 1) for i in range(30)]
            return [*jobs, await q.enqueue("jobs_tasks:boom", "x")]

    with worker_thread(nats_url, queue_name, tasks=TASKS):
        jobs = run(enqueue_all())
        for job in jobs[:-1]:
            _finished(nats_url, queue_name, job, JobStatus.COMPLETED)
        _finished(nats_url, queue_name, jobs[-1], JobStatus.FAILED)
    added = {j.job_id for j in jobs[:-1]}
    with dashboard_client(config_for(nats_url)) as client:
        seen: list[str] = []
        seqs: list[int] = []
        before: int | None = None
        for _ in range(3):
            params: dict[str, Any] = {"queue": queue_name, "status": "completed", "limit": 10}
            if before is not None:
                params["before"] = before
            answer = client.get("/api/jobs", params=params).json()
            assert len(answer["jobs"]) == 10
            seen += [j["job_id"] for j in answer["jobs"]]
            seqs += [j["seq"] for j in answer["jobs"]]
            before = answer["next_before"]
        assert set(seen) == added and len(seen) == 30  # every job once
        assert seqs == sorted(seqs, reverse=True)  # newest first across pages
        failed = client.get("/api/jobs", params={"queue": queue_name, "status": "failed"}).json()
        assert [j["job_id"] for j in failed["jobs"]] == [jobs[-1].job_id]
        boom = client.get("/api/jobs", params={"queue": queue_name, "function": "boom"}).json()
        assert [j["function"] for j in boom["jobs"]] == ["jobs_tasks:boom"]
        page = client.get("/jobs/", params={"queue": queue_name, "limit": 10})
        assert page.status_code == 200
        assert 'id="jobs-list" data-live data-topics="KV_naq_results naq_jobs"' in page.text
        assert page.text.count('class="status status-') == 10
        assert "Older jobs</a>" in page.text and "before=" in page.text


def test_waiting_jobs_of_a_queue_are_listed(nats_url: str, queue_name: str) -> None:
    jobs = [run(_enqueue(nats_url, queue_name, "jobs_tasks:add", i, 0)) for i in range(3)]
    with dashboard_client(config_for(nats_url)) as client:
        html = client.get("/jobs/", params={"queue": queue_name, "limit": 2}).text
        waiting = html.split(f"<h2>Waiting in {queue_name}</h2>")[1].split("<h2>")[0]
        assert jobs[0].job_id in waiting and jobs[1].job_id in waiting and jobs[2].job_id not in waiting
        assert "1 more after this page" in waiting and "More waiting jobs</a>" in waiting
        answer = client.get("/api/jobs", params={"queue": queue_name}).json()
        assert [w["job_id"] for w in answer["waiting"]["jobs"]] == [j.job_id for j in jobs]


def test_cancel_a_queued_job_and_requeue_a_failed_one_from_the_page(nats_url: str, queue_name: str) -> None:
    queued = run(_enqueue(nats_url, queue_name, "jobs_tasks:add", 1, 1))
    with dashboard_client(config_for(nats_url)) as client:
        assert ">Cancel</button>" in client.get(f"/jobs/{_ref(queued)}").text
        done = post(client, f"/jobs/{_ref(queued)}/cancel")
        assert done.status_code == 200 and "cancelled" in done.text
        assert 'class="status status-cancelled"' in done.text
    assert run(_status(nats_url, queue_name, queued)) is JobStatus.CANCELLED

    other = f"{queue_name}-f"
    with worker_thread(nats_url, other, tasks=TASKS):
        failed = run(_enqueue(nats_url, other, "jobs_tasks:boom", "once"))
        _finished(nats_url, other, failed, JobStatus.FAILED)
    with dashboard_client(config_for(nats_url)) as client:
        done = post(client, f"/jobs/{_ref(failed)}/requeue")
        assert done.status_code == 200 and "requeued" in done.text
        assert 'class="status status-pending"' in done.text
    assert run(_status(nats_url, other, failed)) is JobStatus.PENDING
    with worker_thread(nats_url, other, tasks=TASKS):  # it runs again (and fails again)
        _finished(nats_url, other, failed, JobStatus.FAILED)


def test_the_api_cancels_and_requeues(nats_url: str, queue_name: str) -> None:
    queued = run(_enqueue(nats_url, queue_name, "jobs_tasks:add", 1, 1))
    with dashboard_client(config_for(nats_url)) as client:
        answer = post(client, f"/api/jobs/{_ref(queued)}/cancel")
        assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
        again = post(client, f"/api/jobs/{_ref(queued)}/requeue")
        assert again.status_code == 200 and again.json()["status"] == "pending"
    assert run(_status(nats_url, queue_name, queued)) is JobStatus.PENDING


def test_read_only_hides_the_buttons_and_refuses_the_posts(nats_url: str, queue_name: str) -> None:
    queued = run(_enqueue(nats_url, queue_name, "jobs_tasks:add", 1, 1))
    with dashboard_client(config_for(nats_url), read_only=True) as client:
        html = client.get(f"/jobs/{_ref(queued)}").text
        assert "<code>jobs_tasks:add</code>" in html and 'method="post"' not in html
        assert post(client, f"/jobs/{_ref(queued)}/cancel").status_code == 403
        assert post(client, f"/api/jobs/{_ref(queued)}/cancel").status_code == 403
    assert run(_status(nats_url, queue_name, queued)) is JobStatus.PENDING


def test_an_unknown_id_is_a_plain_404_page(nats_url: str) -> None:
    missing = uuid.uuid4().hex
    with dashboard_client(config_for(nats_url)) as client:
        page = client.get(f"/jobs/{missing}")
        assert page.status_code == 404
        assert f"no job with id {missing}" in page.text and "Traceback" not in page.text
        assert client.get("/jobs/", params={"id": missing}).status_code == 404
        assert client.get("/jobs/", params={"id": "a/b"}).status_code == 404
        api = client.get(f"/api/jobs/{missing}")
        assert api.status_code == 404 and api.json() == {"error": f"no job with id {missing}"}
        assert post(client, f"/jobs/{missing}/cancel").status_code == 404


@pytest.mark.parametrize(
    "query", ["before=abc", "before=0", "status=bogus", "limit=100000", f"queue={'q' * 300}"]
)
def test_bad_list_parameters_are_a_400(nats_url: str, query: str) -> None:
    with dashboard_client(config_for(nats_url)) as client:
        assert client.get(f"/jobs/?{query}").status_code == 400
        assert client.get(f"/api/jobs?{query}").status_code == 400


async def _write_records(nats_url: str, queue: str, n: int) -> None:
    conn = await connect(config_for(nats_url))
    try:
        store = ResultStore(conn)
        for i in range(n):
            job = Job(function="jobs_tasks:add", queue_name=queue, args=(i, 0))
            await store.write(job, JobStatus.COMPLETED, result=i, confirm=i == n - 1)
    finally:
        await conn.close()


def test_the_list_makes_as_many_nats_requests_with_50_or_2000_records(nats_url: str, queue_name: str) -> None:
    small, large = f"{queue_name}-s", f"{queue_name}-l"
    nothing = "status=cancelled"  # matches none: the whole window is examined
    with dashboard_client(config_for(nats_url)) as client:
        host = host_of(client.app)  # type: ignore[arg-type]

        def requests_of(url: str) -> int:
            conn = run(host.connection())  # the app's open connection (returned as is)
            sent = conn.nc.stats["out_msgs"]
            assert client.get(url).status_code == 200
            return int(conn.nc.stats["out_msgs"] - sent)

        run(_write_records(nats_url, small, 50))
        client.get(f"/jobs/?queue={small}")  # opens the connection and the bucket once
        few = requests_of(f"/jobs/?queue={small}&{nothing}")
        run(_write_records(nats_url, large, 2000))
        many = requests_of(f"/jobs/?queue={large}&{nothing}")
        cursor = client.get(f"/api/jobs?queue={large}&{nothing}").json()["next_before"]
        older = requests_of(f"/jobs/?queue={large}&{nothing}&before={cursor}")
        assert many == older  # a full window costs the same wherever it starts
        assert few <= many <= 2 + 1 + 12  # waiting list, stream info, at most 12 batch gets


def test_the_job_page_lists_the_jobs_held_for_it(nats_url: str, queue_name: str) -> None:
    first = run(_enqueue(nats_url, queue_name, "jobs_tasks:add", 1, 2))  # no worker: stays pending
    second = run(_enqueue(nats_url, queue_name, "jobs_tasks:add", 3, 4, depends_on=[first]))
    with dashboard_client(config_for(nats_url)) as client:
        page = client.get(f"/jobs/{_ref(first)}")
        assert page.status_code == 200
        assert f">{_ref(second)}</a>" in page.text
        assert client.get(f"/api/jobs/{_ref(first)}").json()["dependents"] == [_ref(second)]
        alone = client.get(f"/api/jobs/{_ref(second)}").json()
        assert alone["dependents"] == []
