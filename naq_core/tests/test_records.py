"""Records go through one cattrs converter (``naq_core.records``), and what today's code
wrote still reads back: each test starts from a literal dict in the stored format."""

from __future__ import annotations

from typing import Any

import pytest

from naq_core import records
from naq_core.errors import SerializationError
from naq_core.heartbeat import WorkerInfo
from naq_core.job import JobStatus
from naq_core.overview import QueueStats
from naq_core.results import JobRecord

# What ResultStore.write() publishes for a failed job (as decoded by the serializer), plus a
# key a newer naq might add.
FAILED_RECORD: dict[str, Any] = {
    "job_id": "j1",
    "status": "failed",
    "queue": "emails",
    "function": "tasks:send",
    "attempt": 2,
    "enqueued_at": 1700000000.5,
    "worker_id": "w1",
    "started_at": 1700000001.0,
    "finished_at": 1700000002.25,
    "result": None,
    "error_type": "ValueError",
    "error": "bad address",
    "traceback": "Traceback ...",
    "payload": b"\x00original",
    "written_by_a_newer_naq": True,
}

# A running job's record: no result keys yet.
RUNNING_RECORD: dict[str, Any] = {
    "job_id": "j2",
    "status": "running",
    "queue": "emails",
    "function": "tasks:send",
    "attempt": 0,
    "enqueued_at": 1700000000.5,
    "worker_id": "w1",
    "started_at": 1700000001.0,
}

# A heartbeat as Worker writes it (json of its snapshot plus last_heartbeat).
HEARTBEAT: dict[str, Any] = {
    "worker_id": "w1",
    "hostname": "host",
    "pid": 4242,
    "queues": ["emails", "reports"],
    "status": "running",
    "concurrency": 4,
    "current_jobs": ["j2"],
    "processed": 10,
    "failed": 1,
    "started_at": 1700000000.0,
    "state": "busy",
    "active_jobs": 1,
    "last_heartbeat": 1700000005.0,
    "history": {"emails": [[28333333, 9, 1]]},
}


def test_a_job_record_reads_back_and_shows_as_before() -> None:
    record = JobRecord.from_dict("j1", FAILED_RECORD)
    assert record.status is JobStatus.FAILED
    assert record.payload == b"\x00original"
    assert (record.attempt, record.error_type, record.finished_at) == (2, "ValueError", 1700000002.25)
    shown = record.to_dict()
    assert shown == {
        "job_id": "j1",
        "status": "failed",
        "queue": "emails",
        "function": "tasks:send",
        "result": None,
        "error_type": "ValueError",
        "error": "bad address",
        "traceback": "Traceback ...",
        "attempt": 2,
        "enqueued_at": 1700000000.5,
        "started_at": 1700000001.0,
        "finished_at": 1700000002.25,
        "worker_id": "w1",
        "requeueable": True,
    }
    assert type(shown["status"]) is str
    assert records.to_dict(record) == shown


def test_a_record_without_result_keys_takes_the_defaults() -> None:
    record = JobRecord.from_dict("j2", RUNNING_RECORD)
    assert record.status is JobStatus.RUNNING
    assert (record.result, record.error, record.finished_at, record.payload) == (None, None, None, None)
    assert record.to_dict()["requeueable"] is False


def test_the_job_id_comes_from_the_key_when_the_record_lacks_it() -> None:
    data = {k: v for k, v in RUNNING_RECORD.items() if k != "job_id"}
    assert JobRecord.from_dict("from-key", data).job_id == "from-key"


@pytest.mark.parametrize("data", [None, [], {"job_id": "x"}, {"status": "no such status"}])
def test_what_is_not_a_job_record_is_a_serialization_error(data: Any) -> None:
    with pytest.raises(SerializationError, match="record of job x is not a job record"):
        JobRecord.from_dict("x", data)


def test_a_heartbeat_reads_back_and_writes_the_same_dict() -> None:
    info = WorkerInfo.from_dict(HEARTBEAT)
    assert info.queues == ("emails", "reports")
    assert info.current_jobs == ("j2",)
    assert info.history == {"emails": ((28333333, 9, 1),)}
    assert info.to_dict() == HEARTBEAT


def test_a_heartbeat_of_an_older_worker_gets_state_and_active_jobs() -> None:
    old = {k: v for k, v in HEARTBEAT.items() if k not in ("state", "active_jobs")}
    assert (WorkerInfo.from_dict(old).state, WorkerInfo.from_dict(old).active_jobs) == ("busy", 1)
    idle = {**old, "current_jobs": []}
    assert WorkerInfo.from_dict(idle).state == "idle"
    stopping = {**old, "status": "stopping"}
    assert WorkerInfo.from_dict(stopping).state == "stopping"


def test_queue_stats_round_trip_as_naq_queues_json_prints_them() -> None:
    shown = {
        "queue": "emails",
        "jobs": 3,
        "pending": 1,
        "in_flight": 2,
        "redelivered": 0,
        "waiting_pulls": 1,
        "workers": 1,
        "paused": True,
        "paused_until": "2030-01-01T00:00:00Z",
        "has_consumer": True,
    }
    stats = QueueStats.from_dict(shown)
    assert stats.paused_until == "2030-01-01T00:00:00Z"
    assert stats.to_dict() == shown
