"""Job.from_envelope builds the Job without its attrs __init__: the result must be exactly
what the constructor builds from the same fields, and every field must be checked once."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from naq_core.errors import SerializationError
from naq_core.job import Job

JOBS = [
    Job(function="m:f", queue_name="q"),
    Job(
        function="m:f",
        args=(1, "a"),
        kwargs={"k": [1]},
        queue_name="q2",
        job_id="abc",
        max_retries=3,
        retry_delay=[1, 2.5],
        retry_strategy="exponential",
        retry_jitter=0.5,
        retry_on=("a:B",),
        ignore_on=("c:D",),
        depends_on=("x", "y"),
        timeout=5,
        result_ttl=60,
        schedule_id="s1",
    ),
    Job(function="m:f", max_retries=2, retry_delay=3, retry_jitter=1, enqueued_at=0),
]


@pytest.mark.parametrize("job", JOBS)
def test_from_envelope_equals_the_constructor(job: Job) -> None:
    rebuilt = Job.from_envelope(job.to_envelope(), attempt=2, headers={"h": "v"})
    values = {a.name: getattr(rebuilt, a.name) for a in attrs.fields(Job)}
    built = Job(**values)
    assert rebuilt == built
    assert repr(rebuilt) == repr(built)
    expected = attrs.evolve(job, attempt=2, headers={"h": "v"})
    for a in attrs.fields(Job):
        assert type(getattr(rebuilt, a.name)) is type(getattr(built, a.name)), a.name
        assert type(getattr(rebuilt, a.name)) is type(getattr(expected, a.name)), a.name
        assert getattr(rebuilt, a.name) == getattr(expected, a.name), a.name
    assert rebuilt.attempt == 2 and rebuilt.headers == {"h": "v"}
    assert rebuilt == job.with_attempt(2)  # headers, dedupe and duplicate are not compared
    assert attrs.evolve(rebuilt, attempt=3).attempt == 3
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rebuilt.attempt = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    "bad",
    [
        {"retries": True},
        {"retries": -1},
        {"retries": 1.5},
        {"retries": 10**7},
        {"delay": float("nan")},
        {"delay": "x"},
        {"delay": [1, float("inf")]},
        {"strategy": "zz"},
        {"jitter": 2},
        {"jitter": float("inf")},
        {"jitter": True},
        {"timeout": 0},
        {"timeout": float("nan")},
        {"ttl": float("inf")},
        {"ttl": "1"},
        {"at": float("nan")},
        {"at": -1},
        {"at": 10**400},
        {"id": "a.b"},
        {"id": "a b"},
        {"id": "x" * 129},
        {"queue": "q>"},
        {"queue": "q*"},
        {"id": ""},
    ],
)
def test_from_envelope_checks_each_field(bad: dict[str, Any]) -> None:
    env = {**Job(function="m:f", queue_name="q").to_envelope(), **bad}
    with pytest.raises(SerializationError):
        Job.from_envelope(env)


def test_a_subclass_is_built_by_its_own_init() -> None:
    @attrs.frozen(kw_only=True)
    class Tagged(Job):
        tag: str = "t"

    rebuilt = Tagged.from_envelope(Job(function="m:f", queue_name="q").to_envelope())
    assert type(rebuilt) is Tagged and rebuilt.tag == "t"
