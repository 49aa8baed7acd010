"""What the job page (and ``/api/jobs/{id}``) shows of one job: its record, its arguments
redacted and cut to size, its timings and what can be done to it.

Arguments come from the job's message: the payload a failed or cancelled job's record
keeps, or the message still waiting in the jobs stream. A completed job's record keeps
none, so its arguments are not shown (the page says so). Before they are shown they pass
the ``naq_redact_arguments`` hook (a failing redactor hides them all), then keyword
arguments whose names look secret are masked, then the text is cut to
:data:`MAX_ARGUMENTS` characters.
"""

from __future__ import annotations

import json
from typing import Any

from attrs import frozen

from naq_core.jetstream import Connection
from naq_core.job import TERMINAL_STATUSES, Job, JobStatus
from naq_core.job_listing import queued_job
from naq_core.job_lookup import dependents
from naq_core.masking import mask_secrets
from naq_core.results import JobRecord

__all__ = ["MAX_ARGUMENTS", "MAX_RESULT", "JobView", "job_view", "render_value"]

#: Characters of rendered arguments shown at most.
MAX_ARGUMENTS = 4096
#: Characters of a rendered result shown at most.
MAX_RESULT = 16384

_CANCELLABLE = frozenset(JobStatus) - TERMINAL_STATUSES
_REQUEUEABLE = frozenset({JobStatus.FAILED, JobStatus.DEPENDENCY_FAILED, JobStatus.CANCELLED})


def render_value(value: Any, limit: int) -> tuple[str, bool]:
    """``value`` as indented JSON-like text (``repr`` for what JSON cannot say), at most
    ``limit`` characters; and whether it was cut."""
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > limit:
        return text[:limit], True
    return text, False


@frozen(kw_only=True)
class JobView:
    """Everything the job page shows (see :func:`job_view`)."""

    record: JobRecord
    ref: str
    #: The record's, else the waiting message's (a job without a record yet).
    function: str | None
    enqueued_at: float | None
    arguments: str | None
    arguments_cut: bool
    arguments_note: str | None
    result: str | None
    result_cut: bool
    depends_on: tuple[str, ...] | None
    #: Jobs still held until this one ends (``<queue>.<job id>``); released ones are not listed.
    dependents: tuple[str, ...]
    wait_time: float | None
    run_time: float | None
    can_cancel: bool
    can_requeue: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer of ``/api/jobs/{id}`` (arguments redacted, texts cut)."""
        data = self.record.to_dict()
        data.pop("result", None)
        return {
            **data,
            "ref": self.ref,
            "function": self.function,
            "enqueued_at": self.enqueued_at,
            "arguments": self.arguments,
            "arguments_cut": self.arguments_cut,
            "arguments_note": self.arguments_note,
            "result": self.result,
            "result_cut": self.result_cut,
            "depends_on": list(self.depends_on) if self.depends_on is not None else None,
            "dependents": list(self.dependents),
            "wait_time": self.wait_time,
            "run_time": self.run_time,
            "can_cancel": self.can_cancel,
            "can_requeue": self.can_requeue,
        }


def _job_of(conn: Connection, record: JobRecord) -> Job | None:
    if record.payload is None:
        return None
    try:
        return Job.from_envelope(conn.serializer.loads(record.payload))
    except Exception:  # a payload this serializer cannot read: shown as unknown
        return None


def _shown_arguments(conn: Connection, job: Job) -> tuple[str, bool]:
    args, kwargs = conn.hooks.redact_arguments(
        function=job.function, args=list(job.args), kwargs=dict(job.kwargs)
    )
    return render_value({"args": args, "kwargs": mask_secrets(kwargs)}, MAX_ARGUMENTS)


async def job_view(conn: Connection, record: JobRecord) -> JobView:
    """The view of ``record`` (its message read from the jobs stream when it waits there)."""
    job = _job_of(conn, record)
    note: str | None = None
    if job is None and record.status in (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.RETRYING):
        job = await queued_job(conn, record.job_id, record.queue)
    if job is None:
        if record.status is JobStatus.COMPLETED:
            note = "not kept: a completed job's record does not keep its arguments"
        elif record.payload_dropped:
            note = f"not kept: the message was {record.payload_dropped}"
        else:
            note = "not available: the job's message is not stored where the dashboard can read it"
    arguments, arguments_cut = _shown_arguments(conn, job) if job is not None else (None, False)
    result, result_cut = (None, False)
    if record.result is not None:
        result, result_cut = render_value(record.result, MAX_RESULT)
    started, finished = record.started_at, record.finished_at
    enqueued = record.enqueued_at or (job.enqueued_at if job is not None else None)
    return JobView(
        record=record,
        ref=f"{record.queue}.{record.job_id}" if record.queue else record.job_id,
        function=record.function or (job.function if job is not None else None),
        enqueued_at=enqueued,
        arguments=arguments,
        arguments_cut=arguments_cut,
        arguments_note=note,
        result=result,
        result_cut=result_cut,
        depends_on=job.depends_on if job is not None else None,
        dependents=tuple(await dependents(conn, record.job_id, queue=record.queue)) if record.queue else (),
        wait_time=started - enqueued if started and enqueued else None,
        run_time=finished - started if finished and started else None,
        can_cancel=record.status in _CANCELLABLE,
        can_requeue=record.status in _REQUEUEABLE and record.payload is not None,
    )
