"""Values that would break a worker are refused where they enter: at enqueue and in the
configuration with one clear line, and in a message as a poison dead letter (docs/security.md,
"Limits")."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from naq_core import Job, Queue, SerializationError
from naq_core.config import load_config
from naq_core.errors import ConfigurationError
from naq_core.job import MAX_JOB_ID_LENGTH, MAX_SECONDS, RetryStrategy
from naq_core.schedules.spec import interval_spec, recurring_fields, seconds

BAD_OPTIONS = [
    ({"max_retries": math.inf}, "max_retries"),
    ({"max_retries": 10**20}, "max_retries"),
    ({"max_retries": 1.5}, "max_retries"),
    ({"retry_delay": math.nan}, "retry_delay"),
    ({"retry_delay": math.inf}, "retry_delay"),
    ({"retry_delay": 1e308}, "retry_delay"),
    ({"retry_delay": 10**400}, "retry_delay"),
    ({"retry_delay": [1, math.inf]}, "retry_delay"),
    ({"timeout": math.inf}, "timeout"),
    ({"timeout": math.nan}, "timeout"),
    ({"timeout": 1e308}, "timeout"),
    ({"result_ttl": math.inf}, "result_ttl"),
    ({"retry_jitter": math.nan}, "retry_jitter"),
]


@pytest.mark.parametrize(("options", "name"), BAD_OPTIONS)
def test_enqueue_options_that_would_break_a_worker_are_refused(options: dict[str, Any], name: str) -> None:
    q = Queue("limits", "nats://127.0.0.1:1", max_deliver=30)  # prepare never connects
    if "retry_delay" in options:
        options = {"max_retries": 1, **options}
    with pytest.raises(ValueError, match=name) as raised:
        q.prepare("tasks:f", **options)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "job_id",
    ["", "caf\u00e9", "a\x00b", "a b", "a.b", "a*", "a>", "tab\tbed", "x" * (MAX_JOB_ID_LENGTH + 1), "abc\n"],
)
def test_job_ids_the_worker_would_reject_are_refused_at_enqueue(job_id: str) -> None:
    q = Queue("limits", "nats://127.0.0.1:1")
    with pytest.raises(ValueError, match="job_id"):
        q.prepare("tasks:f", job_id=job_id)


def test_the_longest_allowed_job_id_is_accepted_and_survives_the_envelope() -> None:
    q = Queue("limits", "nats://127.0.0.1:1")
    job = q.prepare("tasks:f", job_id="x" * MAX_JOB_ID_LENGTH)
    assert Job.from_envelope(job.to_envelope()).job_id == "x" * MAX_JOB_ID_LENGTH


def _envelope(**changes: Any) -> dict[str, Any]:
    env: dict[str, Any] = {"v": 1, "id": "abc", "queue": "q", "fn": "tasks:f", "args": [], "at": 1.0}
    env.update(changes)
    return env


BAD_ENVELOPES = [
    {"at": 10**400},
    {"at": math.inf},
    {"at": math.nan},
    {"retries": math.inf},
    {"retries": 10**20},
    {"retries": 2, "delay": math.nan},
    {"retries": 2, "delay": 1e308},
    {"retries": 2, "delay": [1, math.inf]},
    {"timeout": math.inf},
    {"timeout": "soon"},
    {"ttl": math.nan},
    {"jitter": 10**400},
    {"id": "x" * (MAX_JOB_ID_LENGTH + 1)},
]


@pytest.mark.parametrize("changes", BAD_ENVELOPES)
def test_an_envelope_with_such_values_is_a_serialization_error(changes: dict[str, Any]) -> None:
    with pytest.raises(SerializationError):
        Job.from_envelope(_envelope(**changes))


def test_a_good_envelope_still_decodes() -> None:
    job = Job.from_envelope(_envelope(retries=3, delay=[1, 2.5], timeout=MAX_SECONDS, ttl=60))
    assert job.max_retries == 3 and job.retry_delay == (1.0, 2.5) and job.timeout == MAX_SECONDS


def test_exponential_backoff_never_overflows() -> None:
    job = Job(function="t:f", max_retries=5000, retry_delay=1.0, retry_strategy=RetryStrategy.EXPONENTIAL)
    assert job.retry_delay_for(5000) == MAX_SECONDS
    assert job.retry_delay_for(3) == 4.0


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 10**400, 1e308])
def test_schedule_durations_must_be_finite_and_bounded(value: float) -> None:
    with pytest.raises(ValueError, match=r"seconds|interval"):
        seconds(value)
    with pytest.raises(ValueError, match="interval"):
        interval_spec(value)
    with pytest.raises(ValueError):
        recurring_fields(None, value, None, None)


@pytest.mark.parametrize("repeat", [math.inf, math.nan, 1.5, True])
def test_schedule_repeat_must_be_a_whole_number(repeat: Any) -> None:
    with pytest.raises(ValueError, match="repeat"):
        recurring_fields(None, 60, repeat, None)


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("NAQ_ACK_WAIT", "inf"),
        ("NAQ_ACK_WAIT", "nan"),
        ("NAQ_ACK_WAIT", "1e308"),
        ("NAQ_MAX_DELIVER", "100000000000000000000"),
        ("NAQ_MAX_DELIVER", "1e20"),
        ("NAQ_CONNECT_TIMEOUT", "inf"),
        ("NAQ_RESULT_TTL", "nan"),
        ("NAQ_SHUTDOWN_TIMEOUT", "inf"),
        ("NAQ_HEARTBEAT_INTERVAL", "1e400"),
    ],
)
def test_config_refuses_non_finite_and_huge_numbers_in_one_line(var: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_config(env={var: value}, search=False)
    text = str(raised.value)
    assert "\n" not in text and var in text and var.removeprefix("NAQ_").lower() in text, text


def test_json_with_infinity_is_refused_by_the_envelope() -> None:
    env = json.loads('{"v": 1, "id": "a", "queue": "q", "fn": "t:f", "timeout": Infinity}')
    with pytest.raises(SerializationError, match="timeout"):
        Job.from_envelope(env)


@pytest.mark.parametrize("name", ["nightly\n", "nightly\r\n", "a.b", ""])
def test_schedule_names_that_are_not_one_subject_token_are_refused(name: str) -> None:
    from naq_core.schedules import schedule_id_for

    with pytest.raises(ValueError):
        schedule_id_for(name)
