"""The original naq's names (naq_core.compat, naq_core.exceptions): each works and warns once."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import logging
import re
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import client_tasks
import pytest

import naq_core
from naq_core import (
    Job,
    JobFailedError,
    JobNotFoundError,
    JobStatus,
    NaqClient,
    NaqError,
    Queue,
    ScheduleStatus,
    _deprecation,
    compat,
    helpers,
    logconfig,
)
from naq_core.testing.worker import running_worker, worker_thread

DOCS = Path(__file__).resolve().parents[2] / "docs"
TASKS = ("client_tasks",)
FAR = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    """Every test starts in a process where no compatibility name has warned yet."""
    _deprecation._warned.clear()
    yield
    _deprecation._warned.clear()
    helpers.close_sync_connections()


@contextmanager
def deprecations() -> Iterator[list[warnings.WarningMessage]]:
    """Every DeprecationWarning raised in the block (the "always" filter: none is hidden)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found: list[warnings.WarningMessage] = []
        yield found
    found.extend(w for w in caught if issubclass(w.category, DeprecationWarning))


def the_one(found: list[warnings.WarningMessage], old: str, new: str) -> warnings.WarningMessage:
    """The single warning about ``old``; it names ``new`` and the release removing ``old``."""
    about = [w for w in found if str(w.message).startswith(f"{old} is deprecated")]
    assert len(about) == 1, [str(w.message) for w in found]
    message = str(about[0].message)
    assert new in message and "naq 1.0" in message, message
    return about[0]


def points_here(warning: warnings.WarningMessage) -> None:
    assert Path(warning.filename) == Path(__file__), (warning.filename, warning.lineno)


# --- importing warns about nothing --------------------------------------------------------------


def test_importing_naq_core_warns_about_nothing() -> None:
    code = "import naq_core, naq_core.exceptions, naq_core.compat\nfrom naq_core import *\n"
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_compat_names_are_lazy_and_not_in_all() -> None:
    lazy = {"JOB_STATUS", "SyncClient", "setup_logging", "NaqException", "JobExecutionError"}
    assert not lazy & set(naq_core.__all__)
    assert not lazy & set(vars(naq_core))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        naq_core.NoSuchThing


# --- exceptions ---------------------------------------------------------------------------------


def test_exceptions_module_keeps_the_old_names() -> None:
    with deprecations() as found:
        from naq_core.exceptions import (
            ConfigurationError,
            JobExecutionError,
            JobNotFoundError,
            NaqConnectionError,
            NaqException,
            SerializationError,
        )
        from naq_core.exceptions import JobExecutionError as again_too
        from naq_core.exceptions import NaqException as again
    assert NaqException is NaqError is again
    assert JobExecutionError is JobFailedError is again_too
    assert {ConfigurationError, JobNotFoundError, NaqConnectionError, SerializationError} <= {
        getattr(naq_core, name) for name in naq_core.__all__ if isinstance(getattr(naq_core, name), type)
    }
    points_here(the_one(found, "NaqException", "naq_core.NaqError"))
    points_here(the_one(found, "JobExecutionError", "naq_core.JobFailedError"))
    assert len(found) == 2  # the names that kept their spelling do not warn


def test_package_exports_the_old_exception_names_once() -> None:
    with deprecations() as found:
        from naq_core import JobExecutionError, NaqException

        assert naq_core.NaqException is NaqException is NaqError
        assert JobExecutionError is JobFailedError
    points_here(the_one(found, "NaqException", "NaqError"))
    the_one(found, "JobExecutionError", "JobFailedError")


def test_except_job_execution_error_catches_a_failed_job(nats_url: str, queue_name: str) -> None:
    with deprecations() as found:
        from naq_core.exceptions import JobExecutionError, NaqException

    with worker_thread(nats_url, queue_name, tasks=TASKS), NaqClient(nats_url) as client:
        job = client.enqueue(client_tasks.boom, "no", queue_name=queue_name)
        with pytest.raises(JobExecutionError, match="ValueError: no") as failure:
            client.fetch_job_result(job, timeout=15)
    assert isinstance(failure.value, NaqException)
    assert len(found) == 2


# --- JOB_STATUS ---------------------------------------------------------------------------------


def test_job_status_members_map_onto_job_status() -> None:
    with deprecations() as found:
        from naq_core import JOB_STATUS

        old_names = ("PENDING", "RUNNING", "COMPLETED", "FAILED", "SCHEDULED", "CANCELLED")
        for name in old_names:
            assert getattr(JOB_STATUS, name) is JobStatus[name]
            assert JOB_STATUS[name] is JobStatus[name]
        assert naq_core.JOB_STATUS is JOB_STATUS
    points_here(the_one(found, "JOB_STATUS", "JobStatus"))
    assert len(found) == 1  # members that kept their names do not warn

    with deprecations() as found:
        assert JOB_STATUS.RETRY is JobStatus.RETRYING
        assert JOB_STATUS["RETRY"] is JobStatus.RETRYING
        assert JOB_STATUS("retry") is JobStatus.RETRYING
    points_here(the_one(found, "JOB_STATUS.RETRY", "JobStatus.RETRYING"))

    assert JOB_STATUS("completed") is JobStatus.COMPLETED
    assert list(JOB_STATUS) == list(JobStatus) and len(JOB_STATUS) == len(JobStatus)
    assert isinstance(JobStatus.FAILED, JOB_STATUS) and not isinstance("failed", JOB_STATUS)
    assert JobStatus.RUNNING in JOB_STATUS
    with pytest.raises(AttributeError, match=r"PAUSED was removed: jobs are not paused"):
        JOB_STATUS.PAUSED
    with pytest.raises(AttributeError, match="PAUSED"):
        JOB_STATUS("paused")
    with pytest.raises(AttributeError, match="no member 'NOPE'"):
        JOB_STATUS.NOPE


# --- setup_logging ------------------------------------------------------------------------------


def test_setup_logging_shows_naq_log_lines_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    logconfig.reset()
    try:
        with deprecations() as found:
            from naq_core import setup_logging

            assert setup_logging("DEBUG") is True
            logging.getLogger("naq_core.compat-test").debug("first_line_shown")
            assert setup_logging(logging.INFO) is False  # configured already: left alone
        points_here(the_one(found, "setup_logging", "naq_core.logconfig.configure"))
        assert "first_line_shown" in capsys.readouterr().err
    finally:
        logconfig.reset()
    logging.getLogger("naq_core.compat-test").warning("after_reset")
    assert "after_reset" not in capsys.readouterr().err


def test_setup_logging_takes_a_logging_number(capsys: pytest.CaptureFixture[str]) -> None:
    logconfig.reset()
    try:
        with deprecations():
            assert compat.setup_logging(logging.WARNING, "json") is True
        logging.getLogger("naq_core.compat-test").info("info_hidden")
        logging.getLogger("naq_core.compat-test").warning("warning_shown")
    finally:
        logconfig.reset()
    err = capsys.readouterr().err
    assert "warning_shown" in err and "info_hidden" not in err
    assert '"event": "warning_shown"' in err


# --- SyncClient ---------------------------------------------------------------------------------


def test_sync_client_enqueues_and_purges_the_queue(nats_url: str, queue_name: str) -> None:
    with deprecations() as found:
        from naq_core import SyncClient

        with SyncClient(nats_url) as client, SyncClient(nats_url) as other:
            assert isinstance(client, NaqClient)
            for i in range(3):
                client.enqueue(client_tasks.noop, i, queue_name=queue_name)
            assert other.count(queue_name) == 3
            assert client.purge_queue(queue_name) == 3
            assert other.purge_queue(queue_name=queue_name) == 0
            assert client.count(queue_name) == 0
    points_here(the_one(found, "SyncClient", "NaqClient"))
    points_here(the_one(found, "SyncClient.purge_queue()", "NaqClient.purge()"))


def test_sync_client_schedule_methods_take_the_old_keywords(nats_url: str, queue_name: str) -> None:
    later = dt.datetime.now(dt.UTC) + FAR
    with deprecations() as found, compat.SyncClient(nats_url) as client:
        job = client.enqueue_at(dt=later, func=client_tasks.add, queue_name=queue_name, a=1, b=2)
        assert job.kwargs == {"a": 1, "b": 2}
        assert client.get_schedule(job.job_id).at == pytest.approx(later.timestamp())
        assert client.pause_scheduled_job(job_id=job.job_id).status is ScheduleStatus.PAUSED
        assert client.resume_scheduled_job(job_id=job.job_id).status is ScheduleStatus.ACTIVE
        moved = later + FAR
        changed = client.modify_scheduled_job(job.job_id, scheduled_timestamp_utc=moved.timestamp())
        assert changed.at == pytest.approx(moved.timestamp())
        assert client.cancel_scheduled_job(job_id=job.job_id).schedule_id == job.job_id
        with pytest.raises(JobNotFoundError):
            client.get_schedule(job.job_id)
    the_one(found, "enqueue_at(dt=...)", "enqueue_at(when=...)")
    points_here(the_one(found, "modify_scheduled_job(scheduled_timestamp_utc=...)", "next_run="))


# --- Job.fetch_result / fetch_result_sync --------------------------------------------------------


async def test_job_fetch_result_waits_for_the_result(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as queue, running_worker(nats_url, queue_name, tasks=TASKS):
        first = await queue.enqueue(client_tasks.add, 2, 3)
        second = await queue.enqueue(client_tasks.add, 4, 5)
        with deprecations() as found:
            assert await Job.fetch_result(first.job_id, nats_url, timeout=15) == 5
            assert await Job.fetch_result(second, nats_url=nats_url, timeout=15) == 9
        points_here(the_one(found, "Job.fetch_result()", "naq_core.fetch_job_result("))
        bad = await queue.enqueue(client_tasks.boom, "bad")
        with pytest.raises(JobFailedError, match="ValueError: bad"):
            await Job.fetch_result(bad.job_id, nats_url, timeout=15)


def test_job_fetch_result_sync_waits_for_the_result(nats_url: str, queue_name: str) -> None:
    with worker_thread(nats_url, queue_name, tasks=TASKS), NaqClient(nats_url) as client:
        jobs = [client.enqueue(client_tasks.add, i, 1, queue_name=queue_name) for i in range(2)]
        with deprecations() as found:
            assert [Job.fetch_result_sync(j.job_id, nats_url, timeout=15) for j in jobs] == [1, 2]
    points_here(the_one(found, "Job.fetch_result_sync()", "naq_core.fetch_job_result_sync("))


# --- enqueue_at(dt=...) / enqueue_in(delta=...) ---------------------------------------------------


async def test_queue_enqueue_at_dt_and_enqueue_in_delta_run_the_job(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as queue, running_worker(nats_url, queue_name, tasks=TASKS):
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.5)
        with deprecations() as found:
            at_job = await queue.enqueue_at(dt=soon, func=client_tasks.add, a=2, b=3)
            in_job = await queue.enqueue_in(delta=dt.timedelta(seconds=0.5), func=client_tasks.add, a=4, b=5)
            again = await queue.enqueue_in(delta=0.5, func=client_tasks.add, a=1, b=1)
        assert await queue.fetch_job_result(at_job, timeout=30) == 5
        assert await queue.fetch_job_result(in_job, timeout=30) == 9
        assert await queue.fetch_job_result(again, timeout=30) == 2
    points_here(the_one(found, "enqueue_at(dt=...)", "enqueue_at(when=...)"))
    points_here(the_one(found, "enqueue_in(delta=...)", "enqueue_in(delay=...)"))


async def test_a_task_keyword_named_dt_still_reaches_the_task(nats_url: str, queue_name: str) -> None:
    later = dt.datetime.now(dt.UTC) + FAR
    async with Queue(queue_name, nats_url) as queue:
        with deprecations() as found:
            job = await queue.enqueue_at(later, client_tasks.noop, dt="kept", delta=3)
            other = await queue.enqueue_in(FAR, client_tasks.noop, delta="kept")
        assert job.kwargs == {"dt": "kept", "delta": 3} and other.kwargs == {"delta": "kept"}
        assert (await queue.get_schedule(job.job_id)).at == pytest.approx(later.timestamp())
        for each in (job, other):
            await queue.cancel_scheduled_job(each.job_id)
    assert found == []


async def test_missing_first_argument_is_a_type_error(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as queue:
        with pytest.raises(TypeError, match="missing its first argument 'when'"):
            await queue.enqueue_at(func=client_tasks.noop)
        with deprecations(), pytest.raises(TypeError, match="missing the function to run"):
            await queue.enqueue_in(delta=5)


Call = Callable[..., Any]


def _sync_variants(nats_url: str, client: NaqClient) -> dict[str, tuple[Call, Call]]:
    return {
        "NaqClient": (client.enqueue_at, client.enqueue_in),
        "helpers_sync": (
            lambda **kw: naq_core.enqueue_at_sync(nats_url=nats_url, **kw),
            lambda **kw: naq_core.enqueue_in_sync(nats_url=nats_url, **kw),
        ),
    }


@pytest.mark.parametrize("variant", ["NaqClient", "helpers_sync"])
def test_sync_enqueue_at_dt_and_enqueue_in_delta(nats_url: str, queue_name: str, variant: str) -> None:
    later = dt.datetime.now(dt.UTC) + FAR
    with NaqClient(nats_url) as client:
        enqueue_at, enqueue_in = _sync_variants(nats_url, client)[variant]
        with deprecations() as found:
            jobs = [
                enqueue_at(dt=later, func=client_tasks.add, queue_name=queue_name, a=1, b=2),
                enqueue_at(dt=later, func=client_tasks.add, queue_name=queue_name, a=3, b=4),
                enqueue_in(delta=FAR, func=client_tasks.add, queue_name=queue_name, a=5, b=6),
                enqueue_in(delta=FAR.total_seconds(), func=client_tasks.noop, queue_name=queue_name),
            ]
        the_one(found, "enqueue_at(dt=...)", "enqueue_at(when=...)")
        the_one(found, "enqueue_in(delta=...)", "enqueue_in(delay=...)")
        if variant == "NaqClient":  # the helper variant is called through a lambda in this file too
            points_here(found[0])
        schedules = [client.get_schedule(job.job_id) for job in jobs]
        assert [s.queue for s in schedules] == [queue_name] * 4
        assert schedules[0].at == pytest.approx(later.timestamp())
        assert schedules[2].at is not None and schedules[2].at >= later.timestamp() - 60
        assert [job.kwargs for job in jobs[:3]] == [{"a": 1, "b": 2}, {"a": 3, "b": 4}, {"a": 5, "b": 6}]
        for job in jobs:
            client.cancel_scheduled_job(job.job_id)


async def test_async_helpers_enqueue_at_dt_and_enqueue_in_delta(nats_url: str, queue_name: str) -> None:
    later = dt.datetime.now(dt.UTC) + FAR
    with deprecations() as found:
        at_job = await naq_core.enqueue_at(
            dt=later, func=client_tasks.noop, queue_name=queue_name, nats_url=nats_url
        )
        in_job = await naq_core.enqueue_in(
            delta=FAR, func=client_tasks.noop, queue_name=queue_name, nats_url=nats_url
        )
        await naq_core.enqueue_in(delta=FAR, func=client_tasks.noop, queue_name=queue_name, nats_url=nats_url)
    points_here(the_one(found, "enqueue_at(dt=...)", "enqueue_at(when=...)"))
    points_here(the_one(found, "enqueue_in(delta=...)", "enqueue_in(delay=...)"))
    schedules = await naq_core.list_schedules(queue_name, nats_url=nats_url)
    assert {s.schedule_id for s in schedules} >= {at_job.job_id, in_job.job_id}
    assert len(schedules) == 3
    await naq_core.cancel_scheduled_job(at_job.job_id, nats_url=nats_url)
    for each in schedules:
        if each.schedule_id != at_job.job_id:
            await naq_core.cancel_scheduled_job(each.schedule_id, nats_url=nats_url)
    await asyncio.sleep(0)


# --- the guide ---------------------------------------------------------------------------------

GUIDE = DOCS / "migrating.md"


def _after_snippets() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return re.findall(r"^\*\*After\*\*[^\n]*\n+```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_every_after_snippet_of_the_guide_compiles() -> None:
    snippets = _after_snippets()
    assert len(snippets) >= 8, "docs/migrating.md: expected **After** blocks followed by ```python"
    for snippet in snippets:
        ast.parse(snippet)


def test_the_guide_lists_every_compatibility_name() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## Compatibility names and when they go", 1)[1].split("\n## ", 1)[0]
    names = [
        *compat.EXPORTS,
        "NaqException",
        "JobExecutionError",
        "JOB_STATUS.RETRY",
        "JOB_STATUS.PAUSED",
        "Job.fetch_result",
        "Job.fetch_result_sync",
        "purge_queue",
        "dt=",
        "delta=",
        "scheduled_timestamp_utc",
        "naq 1.0",
    ]
    for name in names:
        assert f"`{name}" in section or name in section, f"{name} is missing from the compatibility section"
