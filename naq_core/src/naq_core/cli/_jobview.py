"""How jobs look on a terminal: one record as ``key: value`` lines, many as a table."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from naq_core.cli._state import table

if TYPE_CHECKING:
    from naq_core.results import JobRecord

__all__ = ["echo_record", "jobs_table", "when"]


def when(timestamp: float | None) -> str:
    """A local time to the second, ``-`` for none."""
    if timestamp is None:
        return "-"
    return datetime.datetime.fromtimestamp(timestamp).isoformat(sep=" ", timespec="seconds")


def _latest(record: JobRecord) -> float | None:
    return record.finished_at or record.started_at or record.enqueued_at


def echo_record(record: JobRecord, *, full: bool) -> None:
    """``status`` view (``full=False``) or ``show`` view: result and traceback too."""
    fields: list[tuple[str, Any]] = [
        ("job", record.job_id),
        ("status", record.status.value),
        ("queue", record.queue or "-"),
        ("function", record.function or "-"),
        ("attempt", record.attempt),
        ("enqueued", when(record.enqueued_at)),
        ("started", when(record.started_at)),
        ("finished", when(record.finished_at)),
        ("worker", record.worker_id or "-"),
    ]
    if full and record.status.value == "completed":
        fields.append(("result", repr(record.result)))
    if record.error_type or record.error:
        fields.append(("error", f"{record.error_type}: {record.error}"))
    for key, value in fields:
        click.echo(f"{key + ':':<10}{value}")
    if full and record.traceback:
        click.echo("traceback:")
        for line in record.traceback.rstrip().splitlines():
            click.echo(f"  {line}")


def jobs_table(records: Sequence[JobRecord], *, numbered: bool = False) -> str:
    """JOB, QUEUE, FUNCTION, STATUS, WHEN (the latest of enqueued, started, finished)."""
    rows: list[tuple[object, ...]] = []
    for i, record in enumerate(records, start=1):
        row = (
            record.job_id,
            record.queue or "-",
            record.function or "-",
            record.status.value,
            when(_latest(record)),
        )
        rows.append((i, *row) if numbered else row)
    headers = ("JOB", "QUEUE", "FUNCTION", "STATUS", "WHEN")
    return table(("#", *headers) if numbered else headers, rows)
