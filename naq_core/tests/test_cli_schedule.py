"""``naq schedule``: run in-process with click's CliRunner against a real NATS server."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import worker_tasks
from cli_support import Answer, isolated, one_error_line, plugins
from click.testing import CliRunner, Result

from naq_core import JobStatus, NaqClient, ScheduleKind, ScheduleStatus
from naq_core.cli import cli
from naq_core.cli.schedule import span
from naq_core.errors import JobNotFoundError

SUBCOMMANDS = {"list", "cancel", "pause", "resume", "modify", "run-now"}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated(tmp_path, monkeypatch):
        yield


@pytest.fixture
def confirmer() -> Iterator[Answer]:
    answer = Answer(None)
    with plugins(answer):
        yield answer


@pytest.fixture
def client(nats_url: str) -> Iterator[NaqClient]:
    with NaqClient(nats_url) as client:
        yield client


def naq(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--nats-url", url, "schedule", *args], catch_exceptions=False)


def spans(low: float, high: float) -> set[str]:
    """Every text ``span`` gives for a number of seconds between ``low`` and ``high``."""
    return {span(s) for s in range(int(low), int(high) + 1)}


def test_help_of_every_subcommand() -> None:
    group = cli.get_command(click.Context(cli), "schedule")
    assert isinstance(group, click.Group)
    assert set(group.commands) == SUBCOMMANDS
    for name in sorted(SUBCOMMANDS):
        result = CliRunner().invoke(cli, ["schedule", name, "--help"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"Usage: naq schedule {name} ")


def test_list_shows_every_queue_by_default_and_filters(
    client: NaqClient, nats_url: str, queue_name: str
) -> None:
    other = f"{queue_name}-b"
    name = f"report-{queue_name}"
    client.schedule(
        worker_tasks.count,
        "r",
        cron="30 9 * * MON-FRI",
        tz="Europe/Paris",
        repeat=5,
        name=name,
        queue_name=queue_name,
    )
    before = time.time()
    every = client.schedule(worker_tasks.count, "e", interval=90, queue_name=other)
    one_off = client.enqueue_in(300, worker_tasks.add, 1, 2, queue_name=queue_name)
    after = time.time()
    try:
        listed_from = time.time()
        result = naq(nats_url, "list")
        listed_to = time.time()
        assert result.exit_code == 0, result.output
        header, *rows = result.stdout.splitlines()
        assert header.split() == ["ID", "QUEUE", "FUNCTION", "NEXT", "RUN", "SCHEDULE", "STATUS", "FIRINGS"]
        mine = {row.split()[0]: row for row in rows if queue_name in row}
        assert set(mine) == {name, every.schedule_id, one_off.job_id}  # both queues
        assert "cron 0 30 9 * * MON-FRI (Europe/Paris)" in mine[name] and mine[name].endswith("0/5")
        assert "every 90s" in mine[every.schedule_id]
        shown = re.search(r"\d\d:\d\d:\d\d \(in ([^)]+)\)", mine[every.schedule_id])
        assert shown is not None, mine[every.schedule_id]
        assert shown[1] in spans(before + 90 - listed_to, after + 90 - listed_from)
        assert "worker_tasks:add" in mine[one_off.job_id]
        shown = re.search(r"\d\d:\d\d:\d\d \(in ([^)]+)\)", mine[one_off.job_id])
        assert shown is not None, mine[one_off.job_id]
        assert shown[1] in spans(before + 300 - listed_to, after + 300 - listed_from)

        only = naq(nats_url, "list", "--queue", other, "--json")
        assert only.exit_code == 0, only.output
        (row,) = json.loads(only.stdout)
        assert row["schedule_id"] == every.schedule_id and row["queue"] == other
        assert row["kind"] == "every" and row["interval"] == 90 and row["status"] == "active"
        assert row["schedule"] == "every 90s" and row["firings"] == 0
        assert before + 90 <= row["next_run"] <= after + 90

        client.pause_scheduled_job(name)
        paused = naq(
            nats_url, "list", "--queue", queue_name, "--queue", other, "--status", "paused", "--json"
        )
        assert [r["schedule_id"] for r in json.loads(paused.stdout)] == [name]
        assert json.loads(paused.stdout)[0]["next_run"] is None
        assert naq(nats_url, "list", "--queue", f"{queue_name}-none").stdout == "No schedules.\n"
    finally:
        for schedule_id in (name, every.schedule_id, one_off.job_id):
            client.cancel_scheduled_job(schedule_id)


def test_pause_resume_modify_run_now(client: NaqClient, nats_url: str, queue_name: str) -> None:
    sid = client.schedule(worker_tasks.count, "x", interval=3600, queue_name=queue_name).schedule_id
    try:
        assert naq(nats_url, "pause", sid).stdout == f"Paused {sid}.\n"
        assert client.get_schedule(sid).status is ScheduleStatus.PAUSED
        assert "already paused" in naq(nats_url, "pause", sid).stdout
        resumed = naq(nats_url, "resume", sid)
        assert resumed.exit_code == 0 and resumed.stdout.startswith(f"Resumed {sid}; next run ")
        assert client.get_schedule(sid).status is ScheduleStatus.ACTIVE

        modified = naq(nats_url, "modify", sid, "--cron", "0 9 * * *", "--tz", "Asia/Tokyo", "--repeat", "3")
        assert modified.exit_code == 0, modified.output
        assert "cron 0 0 9 * * * (Asia/Tokyo)" in modified.stdout
        changed = client.get_schedule(sid)
        assert (changed.kind, changed.cron, changed.tz, changed.repeat) == (
            ScheduleKind.CRON,
            "0 0 9 * * *",
            "Asia/Tokyo",
            3,
        )
        assert naq(nats_url, "modify", sid, "--interval", "120").exit_code == 0
        assert client.get_schedule(sid).interval == 120

        ran = naq(nats_url, "run-now", sid)
        assert ran.exit_code == 0, ran.output
        job_id = ran.stdout.strip()
        assert job_id.startswith(f"{sid}-") and "\n" not in job_id
        assert client.job_status(job_id) is JobStatus.PENDING  # in the queue; no worker here
        assert client.get_schedule(sid).firings == 0
        assert client.purge(queue_name) == 1
    finally:
        client.cancel_scheduled_job(sid)


def test_modify_next_run_of_a_one_off(client: NaqClient, nats_url: str, queue_name: str) -> None:
    job = client.enqueue_in(3600, worker_tasks.count, "x", queue_name=queue_name)
    try:
        result = naq(nats_url, "modify", job.job_id, "--next-run", "2099-01-02T03:04:05")  # naive: UTC
        assert result.exit_code == 0, result.output
        assert client.get_schedule(job.job_id).at == 4071006245.0
        offset = naq(nats_url, "modify", job.job_id, "--next-run", "2099-01-02T04:04:05+01:00")
        assert offset.exit_code == 0 and client.get_schedule(job.job_id).at == 4071006245.0
    finally:
        client.cancel_scheduled_job(job.job_id)


def test_cancel_one_asks_nobody_many_go_through_the_hook(
    client: NaqClient, nats_url: str, queue_name: str, confirmer: Answer
) -> None:
    ids = [
        client.enqueue_in(3600, worker_tasks.count, str(i), queue_name=queue_name).job_id for i in range(3)
    ]

    single = naq(nats_url, "cancel", ids[0])
    assert single.exit_code == 0, single.output
    assert single.stdout.startswith(f"Cancelled {ids[0]} ({queue_name}, worker_tasks:count, at ")
    assert confirmer.asked == []
    assert client.job_status(ids[0]) is JobStatus.CANCELLED

    confirmer.answer = False
    refused = naq(nats_url, "cancel", ids[1], ids[2])
    assert refused.exit_code == 2
    assert "not confirmed" in one_error_line(refused)
    assert confirmer.asked == [
        {"action": "schedule cancel", "target": f"{ids[1]}, {ids[2]}", "count": 2, "force": False}
    ]
    assert {s.schedule_id for s in client.list_schedules(queue_name)} == {ids[1], ids[2]}

    everything = naq(nats_url, "cancel", "--all", "-y")
    assert everything.exit_code == 2
    assert confirmer.asked[-1]["target"] == "every schedule" and confirmer.asked[-1]["force"] is True
    assert confirmer.asked[-1]["count"] >= 2

    confirmer.answer = None  # nobody objects: it goes ahead
    result = naq(nats_url, "cancel", "--all", "--queue", queue_name, "--force")
    assert result.exit_code == 0, result.output
    assert confirmer.asked[-1] == {
        "action": "schedule cancel",
        "target": f"schedules of {queue_name}",
        "count": 2,
        "force": True,
    }
    assert sorted(line.split()[1] for line in result.stdout.splitlines()) == sorted(ids[1:])
    assert client.list_schedules(queue_name) == []
    assert naq(nats_url, "cancel", "--all", "--queue", queue_name).stdout == "No schedules to cancel.\n"


@pytest.mark.parametrize(
    "args",
    [
        ("cancel", "nope"),
        ("pause", "nope"),
        ("resume", "nope"),
        ("modify", "nope", "--repeat", "2"),
        ("run-now", "nope"),
    ],
)
def test_unknown_id_is_one_line_exit_1(nats_url: str, args: tuple[str, ...]) -> None:
    result = naq(nats_url, *args)
    assert result.exit_code == 1
    assert one_error_line(result) == "Error: no schedule 'nope'"


def test_cancel_checks_every_id_before_cancelling_any(
    client: NaqClient, nats_url: str, queue_name: str
) -> None:
    job = client.enqueue_in(3600, worker_tasks.count, "x", queue_name=queue_name)
    result = naq(nats_url, "cancel", job.job_id, "nope", "-y")
    assert result.exit_code == 1 and one_error_line(result) == "Error: no schedule 'nope'"
    assert client.get_schedule(job.job_id).status is ScheduleStatus.ACTIVE
    client.cancel_scheduled_job(job.job_id)
    with pytest.raises(JobNotFoundError):
        client.get_schedule(job.job_id)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("cancel",), "give schedule IDs or --all"),
        (("cancel", "a", "--all"), "not both"),
        (("cancel", "a", "--queue", "q"), "--queue goes with --all"),
        (("modify", "a"), "nothing to change"),
        (
            ("modify", "a", "--cron", "* * * * *", "--interval", "5"),
            "one of --cron, --interval or --next-run",
        ),
        (("modify", "a", "--interval", "5", "--tz", "UTC"), "--tz goes with --cron"),
        (("modify", "a", "--next-run", "tomorrow"), "not an ISO 8601 time"),
        (("modify", "a", "--repeat", "0"), "--repeat"),
        (("list", "--status", "sleeping"), "--status"),
        (("list", "--queue", "bad.name"), "bad.name"),
    ],
)
def test_usage_errors_are_one_line(nats_url: str, args: tuple[str, ...], message: str) -> None:
    result = naq(nats_url, *args)
    assert result.exit_code in (1, 2)
    assert message in one_error_line(result)


def test_bad_cron_or_interval_is_a_usage_error(client: NaqClient, nats_url: str, queue_name: str) -> None:
    sid = client.schedule(worker_tasks.count, "x", interval=3600, queue_name=queue_name).schedule_id
    try:
        for args, message in [
            (("--interval", "0.5"), "at least 1 second"),
            (("--cron", "61 * * * *"), "not a valid cron"),
            (("--cron", "* * * * *", "--tz", "Mars/Olympus"), "unknown time zone"),
        ]:
            result = naq(nats_url, "modify", sid, *args)
            assert result.exit_code == 2
            assert message in one_error_line(result)
        assert client.get_schedule(sid).interval == 3600
    finally:
        client.cancel_scheduled_job(sid)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (42, "42s"), (89.9, "1m 29s"), (300, "5m"), (3599, "59m"), (3600, "1h"), (11400, "3h 10m")],
)
def test_span(seconds: float, text: str) -> None:
    assert span(seconds) == text
    assert span(2 * 86400 + 4 * 3600 + 59) == "2d 4h"


def test_cancel_json_and_completion_of_ids(client: NaqClient, nats_url: str, queue_name: str) -> None:
    name = f"done-soon-{queue_name}"
    client.schedule(worker_tasks.count, "x", interval=3600, name=name, queue_name=queue_name)
    words = f"naq --nats-url {nats_url} schedule pause done-soon-{queue_name[:4]}"
    env = {"_NAQ_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    offered = CliRunner().invoke(cli, [], prog_name="naq", env=env, catch_exceptions=False)
    assert f"plain,{name}" in offered.stdout.splitlines()

    result = naq(nats_url, "cancel", name, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"schedule_id": name, "queue": queue_name, "cancelled": True}]
    assert json.loads(naq(nats_url, "cancel", "--all", "--queue", queue_name, "--json").stdout) == []
