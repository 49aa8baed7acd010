"""Schedules: every cron, interval and one-off schedule, in plain words; pause, resume, run now, cancel.

The list is what ``naq schedule list`` shows, read through the public
:meth:`~naq_core.queue.Queue.list_schedules` (one scan of the ``naq_schedules`` bucket:
schedules are few). At most :data:`MAX_SHOWN` are shown, and the page says when it cut.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from naq_core.errors import JobNotFoundError
from naq_core.panels import Panel, panel_host
from naq_core.queue import Queue
from naq_core.schedules import Schedule, ScheduleKind, ScheduleStatus, upcoming_run
from naq_dashboard.cron_words import cron_words, interval_words
from naq_dashboard.formatting import timestamp
from naq_dashboard.pages import choice_param, json_response, redirect, render, text_param

__all__ = ["ACTIONS", "MAX_SHOWN", "panel", "schedule_view"]

#: The most schedules a page or API answer lists (the rest are counted, not shown).
MAX_SHOWN = 1000
#: What a POST to ``/schedules/<id>/<action>`` (or ``/api/schedules/<id>/<action>``) does.
ACTIONS = ("pause", "resume", "run", "cancel")
_MAX_ID = 200
_STATUSES = [s.value for s in ScheduleStatus]


def words(schedule: Schedule) -> str:
    """``every 5 minutes``, ``at 09:00 on Monday through Friday``, ``once at 2026-…``."""
    if schedule.kind is ScheduleKind.CRON and schedule.cron:
        return cron_words(schedule.cron)
    if schedule.kind is ScheduleKind.EVERY and schedule.interval:
        return interval_words(schedule.interval)
    return f"once at {timestamp(schedule.at)}"


def schedule_view(schedule: Schedule, now: float) -> dict[str, Any]:
    """What the page and the API show of one schedule (plain JSON values)."""
    return {
        "schedule_id": schedule.schedule_id,
        "name": schedule.name,
        "queue": schedule.queue,
        "function": schedule.function,
        "kind": schedule.kind.value,
        "words": words(schedule),
        "expression": schedule.spec,
        "cron": schedule.cron,
        "interval": schedule.interval,
        "at": schedule.at,
        "tz": schedule.tz or ("UTC" if schedule.kind is ScheduleKind.CRON else None),
        "status": schedule.status.value,
        "next_run": upcoming_run(schedule, now),
        "last_run": schedule.last_run,
        "last_job_id": schedule.last_job_id,
        "firings": schedule.firings,
        "repeat": schedule.repeat,
        "created_at": schedule.created_at,
    }


async def _listing(request: Request) -> dict[str, Any]:
    host = panel_host(request)
    queue = text_param(request, "queue")
    status = choice_param(request, "status", _STATUSES)
    found = await Queue(connection=await host.connection()).list_schedules(all_queues=True)
    matching = [
        s
        for s in found
        if (queue is None or s.queue == queue) and (status is None or s.status.value == status)
    ]
    now = time.time()
    shown = [schedule_view(s, now) for s in matching[:MAX_SHOWN]]
    return {
        "schedules": shown,
        "total": len(matching),
        "shown": len(shown),
        "truncated": len(matching) > len(shown),
        "filters": {"queue": queue, "status": status},
    }


async def page(request: Request) -> Response:
    listing = await _listing(request)
    context = {"active": "schedules", "page_title": "Schedules", "statuses": _STATUSES, **listing}
    return render(request, "schedules/page.html", context)


async def api_list(request: Request) -> Response:
    listing = await _listing(request)
    listing.pop("filters")
    return json_response(listing)


def _target(request: Request) -> tuple[str, str]:
    schedule_id = str(request.path_params["schedule_id"])
    action = str(request.path_params["action"])
    if action not in ACTIONS:
        raise HTTPException(404, f"no action {action!r}: use one of {', '.join(ACTIONS)}")
    if not 0 < len(schedule_id) <= _MAX_ID:
        raise HTTPException(404, "no such schedule")
    return schedule_id, action


async def _act(request: Request) -> tuple[str, dict[str, Any]]:
    """Do the action of the URL; the message to show and the JSON answer."""
    schedule_id, action = _target(request)
    queue = Queue(connection=await panel_host(request).connection())
    try:
        before = await queue.get_schedule(schedule_id)
        if action == "run":
            job = await queue.run_scheduled_job_now(schedule_id)
            return f"Enqueued one run of {schedule_id} now: job {job.job_id}.", {
                "schedule_id": schedule_id,
                "job_id": job.job_id,
            }
        if action == "cancel":
            await queue.cancel_scheduled_job(schedule_id)
            return f"Cancelled {schedule_id}.", {"schedule_id": schedule_id, "cancelled": True}
        if before.status is ScheduleStatus.DONE:
            raise HTTPException(409, f"schedule {schedule_id!r} is done; there is nothing to {action}")
        if action == "pause":
            after = await queue.pause_scheduled_job(schedule_id)
            verb = "already paused" if before.status is ScheduleStatus.PAUSED else "paused"
        else:
            after = await queue.resume_scheduled_job(schedule_id)
            verb = "already active" if before.status is ScheduleStatus.ACTIVE else "resumed"
    except JobNotFoundError:
        raise HTTPException(404, f"no schedule {schedule_id!r} (it fired or was cancelled)") from None
    return f"Schedule {schedule_id}: {verb}.", {"schedule": schedule_view(after, time.time())}


async def action(request: Request) -> Response:
    message, _ = await _act(request)
    return redirect(request, "schedules:page", message)


async def api_action(request: Request) -> Response:
    message, answer = await _act(request)
    return json_response({"message": message, **answer})


def panel() -> Panel:
    return Panel(
        name="schedules",
        title="Schedules",
        routes=[
            Route("/", page, name="page"),
            Route("/{schedule_id}/{action}", action, methods=["POST"], name="action"),
        ],
        api_routes=[
            Route("/", api_list, name="list"),
            Route("/{schedule_id}/{action}", api_action, methods=["POST"], name="action"),
        ],
        templates="naq_dashboard",
        order=30,
    )
