"""Jobs: look one up by id, list recent ones by queue, status and function (newest first,
paged by stream sequence), a queue's waiting jobs, the job page, cancel and requeue.

The list never reads the whole results bucket: :func:`naq_core.job_listing.recent_records`
reads a bounded window of its stream below the cursor (``?before=<seq>``), so a page
costs the same few NATS requests with a thousand jobs or a million.
"""

from __future__ import annotations

from typing import Any

import nats.js.errors
from attrs import evolve
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from naq_core.errors import JobNotFoundError
from naq_core.job import JobStatus
from naq_core.job_control import cancel_job, requeue_job
from naq_core.job_listing import RecordPage, WaitingPage, recent_records, waiting_jobs
from naq_core.job_lookup import job_record
from naq_core.panels import Panel
from naq_core.results import JobRecord
from naq_dashboard import pages
from naq_dashboard.app import host_of
from naq_dashboard.job_view import job_view

__all__ = ["PAGE_SIZE", "WINDOW", "panel"]

#: Jobs a list page shows by default, and at most.
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
#: Stream sequences (record writes) a list page examines at most.
WINDOW = 1000
_MAX_SEQ = 2**63 - 1
_STATUSES = [s.value for s in JobStatus]


def _ref(request: Request) -> str:
    ref = str(request.path_params["job_id"]).strip()
    if not ref or len(ref) > pages.MAX_TEXT:
        raise HTTPException(404, "no job with that id")
    return ref


def _not_found(request: Request, ref: str, api: bool) -> Response:
    text = f"no job with id {ref}"
    if api:
        return pages.json_response({"error": text}, 404)
    return pages.render(
        request,
        "jobs/not_found.html",
        {"active": "jobs", "page_title": "No such job", "ref": ref, "text": text},
        status_code=404,
    )


async def _find(request: Request, ref: str) -> JobRecord | None:
    conn = await host_of(request.app).connection()
    try:
        return await job_record(conn, ref)
    except (JobNotFoundError, nats.js.errors.NotFoundError):  # (no jobs stream yet: no job)
        return None


def _filters(request: Request) -> dict[str, Any]:
    return {
        "queue": pages.text_param(request, "queue"),
        "status": pages.choice_param(request, "status", _STATUSES),
        "function": pages.text_param(request, "function"),
        "before": pages.int_param(request, "before", 0, 1, _MAX_SEQ) or None,
        "limit": pages.int_param(request, "limit", PAGE_SIZE, 1, MAX_PAGE_SIZE),
    }


async def _listing(request: Request, filters: dict[str, Any]) -> tuple[RecordPage, WaitingPage | None]:
    conn = await host_of(request.app).connection()
    page = await recent_records(
        conn,
        before=filters["before"],
        queue=filters["queue"],
        status=filters["status"],
        function=filters["function"],
        limit=filters["limit"],
        window=WINDOW,
    )
    waiting = None
    if filters["queue"] is not None:
        after = pages.int_param(request, "after", 0, 0, _MAX_SEQ)
        waiting = await waiting_jobs(conn, filters["queue"], after=after, limit=filters["limit"])
    return page, waiting


async def page(request: Request) -> Response:
    ref = pages.text_param(request, "id")
    if ref is not None:
        if "/" in ref:  # no job id holds one (and it would leave the job page's path)
            return _not_found(request, ref, api=False)
        return RedirectResponse(str(request.url_for("jobs:job", job_id=ref)), status_code=303)
    filters = _filters(request)
    records, waiting = await _listing(request, filters)
    return pages.render(
        request,
        "jobs/page.html",
        {
            "active": "jobs",
            "page_title": "Jobs",
            "filters": filters,
            "statuses": _STATUSES,
            "page": records,
            "waiting": waiting,
            "window": WINDOW,
        },
    )


async def job(request: Request) -> Response:
    host = host_of(request.app)
    ref = _ref(request)
    record = await _find(request, ref)
    if record is None:
        return _not_found(request, ref, api=False)
    view = await job_view(await host.connection(), record)
    return pages.render(
        request,
        "jobs/job.html",
        {
            "active": "jobs",
            "page_title": f"Job {record.job_id}",
            "view": view,
            # what other panels' job sections get: the record, completed from the message
            "record": evolve(record, function=view.function, enqueued_at=view.enqueued_at),
            "job_sections": host.job_sections,
        },
    )


async def cancel(request: Request) -> Response:
    ref = _ref(request)
    conn = await host_of(request.app).connection()
    try:
        await cancel_job(conn, ref)
    except (JobNotFoundError, nats.js.errors.NotFoundError):
        return _not_found(request, ref, api=False)
    return pages.redirect(request, "jobs:job", f"job {ref} cancelled", job_id=ref)


async def requeue(request: Request) -> Response:
    ref = _ref(request)
    record = await _find(request, ref)
    if record is None:
        return _not_found(request, ref, api=False)
    job_ = await requeue_job(await host_of(request.app).connection(), record.queue or "", ref)
    return pages.redirect(request, "jobs:job", f"job {job_.job_id} requeued", job_id=ref)


# --- JSON API ------------------------------------------------------------------------


def _summary(seq: int, record: JobRecord) -> dict[str, Any]:
    return {
        "seq": seq,
        "job_id": record.job_id,
        "queue": record.queue,
        "function": record.function,
        "status": record.status.value,
        "attempt": record.attempt,
        "enqueued_at": record.enqueued_at,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "worker_id": record.worker_id,
        "error_type": record.error_type,
    }


async def api_list(request: Request) -> Response:
    filters = _filters(request)
    records, waiting = await _listing(request, filters)
    body: dict[str, Any] = {
        "jobs": [_summary(item.seq, item.record) for item in records.records],
        "next_before": records.next_before,
        "examined": records.examined,
        "window_cut": records.window_cut,
    }
    if waiting is not None:
        body["waiting"] = {
            "jobs": [
                {
                    "seq": w.seq,
                    "job_id": w.job_id,
                    "queue": w.queue,
                    "function": w.job.function if w.job else None,
                }
                for w in waiting.jobs
            ],
            "next_after": waiting.next_after,
            "remaining": waiting.remaining,
        }
    return pages.json_response(body)


async def api_job(request: Request) -> Response:
    ref = _ref(request)
    record = await _find(request, ref)
    if record is None:
        return _not_found(request, ref, api=True)
    view = await job_view(await host_of(request.app).connection(), record)
    return pages.json_response(view.to_dict())


async def api_cancel(request: Request) -> Response:
    ref = _ref(request)
    try:
        status = await cancel_job(await host_of(request.app).connection(), ref)
    except (JobNotFoundError, nats.js.errors.NotFoundError):
        return _not_found(request, ref, api=True)
    return pages.json_response({"job": ref, "status": status.value})


async def api_requeue(request: Request) -> Response:
    ref = _ref(request)
    record = await _find(request, ref)
    if record is None:
        return _not_found(request, ref, api=True)
    job_ = await requeue_job(await host_of(request.app).connection(), record.queue or "", ref)
    return pages.json_response(
        {"job": ref, "job_id": job_.job_id, "queue": job_.queue_name, "status": "pending"}
    )


def panel() -> Panel:
    return Panel(
        name="jobs",
        title="Jobs",
        routes=[
            Route("/", page, name="page"),
            Route("/{job_id}", job, name="job"),
            Route("/{job_id}/cancel", cancel, methods=["POST"], name="cancel"),
            Route("/{job_id}/requeue", requeue, methods=["POST"], name="requeue"),
        ],
        api_routes=[
            Route("/", api_list, name="list"),
            Route("/{job_id}", api_job, name="job"),
            Route("/{job_id}/cancel", api_cancel, methods=["POST"], name="cancel"),
            Route("/{job_id}/requeue", api_requeue, methods=["POST"], name="requeue"),
        ],
        templates="naq_dashboard",
        order=20,
    )
