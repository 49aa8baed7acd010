"""The schedules panel and /api/schedules against a real nats-server: words, time zone, next run,
and pause / resume / run now / cancel through POSTs (refused and hidden when read-only)."""

from __future__ import annotations

import time

import pytest
from dashboard_support import config_for, dashboard_client, post, run

from naq_core.errors import JobNotFoundError
from naq_core.queue import Queue
from naq_core.schedules import Schedule, ScheduleStatus


async def _two_schedules(nats_url: str, queue_name: str) -> tuple[Schedule, Schedule]:
    async with Queue(queue_name, nats_url) as q:
        cron = await q.schedule(
            "tasks:report", cron="0 9 * * MON-FRI", tz="Europe/Paris", name=f"{queue_name}-report"
        )
        every = await q.schedule("tasks:ping", interval=300, name=f"{queue_name}-ping")
        return cron, every


async def _get(nats_url: str, queue_name: str, schedule_id: str) -> Schedule:
    async with Queue(queue_name, nats_url) as q:
        return await q.get_schedule(schedule_id)


async def _count(nats_url: str, queue_name: str) -> int:
    async with Queue(queue_name, nats_url) as q:
        return await q.count()


async def _cancel_all(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        for schedule in await q.list_schedules():
            await q.cancel_scheduled_job(schedule.schedule_id)


def test_cron_and_interval_schedules_show_in_words_with_tz_and_next_run(
    nats_url: str, queue_name: str
) -> None:
    cron, every = run(_two_schedules(nats_url, queue_name))
    try:
        with dashboard_client(config_for(nats_url)) as client:
            page = client.get("/schedules/", params={"queue": queue_name})
            assert page.status_code == 200
            html = page.text
            assert "at 09:00 on Monday through Friday" in html
            assert "Europe/Paris" in html
            assert "every 5 minutes" in html
            assert "tasks:report" in html and "tasks:ping" in html
            assert 'data-topics="KV_naq_schedules naq_jobs"' in html
            assert 'data-confirm="Cancel schedule ' in html  # cancel asks first

            answer = client.get("/api/schedules/", params={"queue": queue_name}).json()
            assert answer["total"] == 2 and answer["truncated"] is False
            by_id = {s["schedule_id"]: s for s in answer["schedules"]}
            report, ping = by_id[cron.schedule_id], by_id[every.schedule_id]
            assert report["words"] == "at 09:00 on Monday through Friday"
            assert report["tz"] == "Europe/Paris" and report["status"] == "active"
            assert ping["words"] == "every 5 minutes" and ping["tz"] is None
            now = time.time()
            assert report["next_run"] > now and ping["next_run"] > now
            assert report["firings"] == 0 and report["last_run"] is None
            assert report["queue"] == queue_name and report["function"] == "tasks:report"
    finally:
        run(_cancel_all(nats_url, queue_name))


def test_pause_resume_run_now_and_cancel_through_the_page(nats_url: str, queue_name: str) -> None:
    cron, every = run(_two_schedules(nats_url, queue_name))
    sid = every.schedule_id
    try:
        with dashboard_client(config_for(nats_url)) as client:
            paused = post(client, f"/schedules/{sid}/pause", follow_redirects=False)
            assert paused.status_code == 303
            assert run(_get(nats_url, queue_name, sid)).status is ScheduleStatus.PAUSED
            page = client.get(paused.headers["location"])
            assert "paused" in page.text and "Resume" in page.text

            assert post(client, f"/schedules/{sid}/resume", follow_redirects=False).status_code == 303
            assert run(_get(nats_url, queue_name, sid)).status is ScheduleStatus.ACTIVE

            assert run(_count(nats_url, queue_name)) == 0
            ran = post(client, f"/schedules/{sid}/run")
            assert ran.status_code == 200 and "Enqueued one run of" in ran.text
            assert run(_count(nats_url, queue_name)) == 1
            assert run(_get(nats_url, queue_name, sid)).firings == 0  # the schedule itself is unchanged

            assert post(client, f"/schedules/{sid}/cancel", follow_redirects=False).status_code == 303
            with pytest.raises(JobNotFoundError):
                run(_get(nats_url, queue_name, sid))
            assert post(client, f"/schedules/{sid}/pause").status_code == 404  # gone
            assert run(_get(nats_url, queue_name, cron.schedule_id)).status is ScheduleStatus.ACTIVE
    finally:
        run(_cancel_all(nats_url, queue_name))


def test_the_api_actions(nats_url: str, queue_name: str) -> None:
    cron, _ = run(_two_schedules(nats_url, queue_name))
    sid = cron.schedule_id
    try:
        with dashboard_client(config_for(nats_url)) as client:
            paused = post(client, f"/api/schedules/{sid}/pause")
            assert paused.status_code == 200
            assert paused.json()["schedule"]["status"] == "paused"
            assert paused.json()["schedule"]["next_run"] is None
            again = post(client, f"/api/schedules/{sid}/pause").json()
            assert "already paused" in again["message"]
            resumed = post(client, f"/api/schedules/{sid}/resume").json()
            assert resumed["schedule"]["status"] == "active" and resumed["schedule"]["next_run"] > time.time()
            job_id = post(client, f"/api/schedules/{sid}/run").json()["job_id"]
            assert job_id.startswith(f"{sid}-now-")
            assert post(client, f"/api/schedules/{sid}/explode").status_code == 404
            cancelled = post(client, f"/api/schedules/{sid}/cancel")
            assert cancelled.json() == {"message": f"Cancelled {sid}.", "schedule_id": sid, "cancelled": True}
            missing = post(client, f"/api/schedules/{sid}/cancel")
            assert missing.status_code == 404 and "no schedule" in missing.json()["error"]
            assert sid not in {s["schedule_id"] for s in client.get("/api/schedules/").json()["schedules"]}
    finally:
        run(_cancel_all(nats_url, queue_name))


def test_read_only_hides_and_refuses_the_actions(nats_url: str, queue_name: str) -> None:
    _, every = run(_two_schedules(nats_url, queue_name))
    sid = every.schedule_id
    try:
        with dashboard_client(config_for(nats_url), read_only=True) as client:
            html = client.get("/schedules/", params={"queue": queue_name}).text
            assert "every 5 minutes" in html
            assert "Pause" not in html and "Run now" not in html and "data-confirm" not in html
            for verb in ("pause", "run", "cancel"):
                assert post(client, f"/schedules/{sid}/{verb}").status_code == 403
                assert post(client, f"/api/schedules/{sid}/{verb}").status_code == 403
            assert run(_get(nats_url, queue_name, sid)).status is ScheduleStatus.ACTIVE
            assert run(_count(nats_url, queue_name)) == 0
        with dashboard_client(config_for(nats_url)) as client:  # the same page with actions on
            assert "Run now" in client.get("/schedules/", params={"queue": queue_name}).text
    finally:
        run(_cancel_all(nats_url, queue_name))


def test_filters_are_bounded(nats_url: str) -> None:
    with dashboard_client(config_for(nats_url)) as client:
        assert client.get("/schedules/", params={"status": "sleeping"}).status_code == 400
        assert client.get("/api/schedules/", params={"queue": "q" * 500}).status_code == 400
