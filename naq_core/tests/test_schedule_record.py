"""``Schedule`` goes through the records' one converter: the stored layout, read and written."""

from __future__ import annotations

from typing import Any

import pytest

from naq_core.schedules import Schedule, ScheduleKind, ScheduleStatus, upcoming_run

#: A record as naq_schedules stores it (the JSON line before the envelope).
STORED = {
    "schedule_id": "nightly",
    "queue": "reports",
    "function": "app.tasks:build",
    "kind": "cron",
    "status": "paused",
    "name": "nightly",
    "at": None,
    "interval": None,
    "cron": "0 0 2 * * *",
    "tz": "Europe/Paris",
    "repeat": 3,
    "firings": 1,
    "created_at": 1764460800.5,
    "next_run": 1764547200.0,
    "last_run": 1764460801.0,
    "last_job_id": "nightly-42",
}


def test_a_stored_schedule_reads_back_with_its_enums_and_writes_the_same_layout() -> None:
    schedule = Schedule.from_dict(STORED)
    assert schedule.kind is ScheduleKind.CRON
    assert schedule.status is ScheduleStatus.PAUSED
    assert schedule.repeat == 3 and schedule.last_job_id == "nightly-42"
    assert schedule.to_dict() == STORED
    assert list(schedule.to_dict()) == list(STORED)  # field order kept


def test_unknown_keys_are_ignored_and_missing_ones_take_their_defaults() -> None:
    schedule = Schedule.from_dict(
        {"schedule_id": "s1", "queue": "q", "function": "f", "kind": "at", "at": 5, "from_newer_naq": 1}
    )
    assert schedule.status is ScheduleStatus.ACTIVE
    assert schedule.at == 5.0 and schedule.firings == 0
    assert "from_newer_naq" not in schedule.to_dict()


#: 2025-12-01 00:00:00 UTC, a Monday.
NOW = 1764547200.0


def _schedule(kind: ScheduleKind, next_run: float | None, **fields: Any) -> Schedule:
    return Schedule(schedule_id="s1", queue="q", function="f", kind=kind, next_run=next_run, **fields)


def test_the_upcoming_run_is_the_stored_one_while_it_is_ahead() -> None:
    schedule = _schedule(ScheduleKind.EVERY, NOW + 30, interval=60.0)
    assert upcoming_run(schedule, NOW) == NOW + 30


def test_a_past_interval_run_is_projected_forward_by_whole_intervals() -> None:
    schedule = _schedule(ScheduleKind.EVERY, NOW - 150, interval=60.0)
    assert upcoming_run(schedule, NOW) == NOW + 30  # -150 + 3 * 60


def test_a_past_cron_run_is_the_next_cron_time_after_now() -> None:
    schedule = _schedule(ScheduleKind.CRON, NOW - 86400, cron="0 30 9 * * *", tz="Europe/Paris")
    assert upcoming_run(schedule, NOW) == NOW + 8.5 * 3600  # 09:30 in Paris is 08:30 UTC in winter


def test_a_past_one_off_keeps_its_time() -> None:
    schedule = _schedule(ScheduleKind.AT, NOW - 10, at=NOW - 10)
    assert upcoming_run(schedule, NOW) == NOW - 10


@pytest.mark.parametrize("status", [ScheduleStatus.PAUSED, ScheduleStatus.DONE])
def test_a_paused_or_done_schedule_has_no_upcoming_run(status: ScheduleStatus) -> None:
    schedule = _schedule(ScheduleKind.EVERY, NOW + 30, interval=60.0, status=status)
    assert upcoming_run(schedule, NOW) is None


def test_a_schedule_with_no_stored_next_run_has_no_upcoming_run() -> None:
    assert upcoming_run(_schedule(ScheduleKind.EVERY, None, interval=60.0), NOW) is None
