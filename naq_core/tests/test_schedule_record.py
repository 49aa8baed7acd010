"""``Schedule`` goes through the records' one converter: the stored layout, read and written."""

from __future__ import annotations

from naq_core.schedules import Schedule, ScheduleKind, ScheduleStatus

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
