"""``naq queues``, ``naq queue pause|resume`` and ``naq purge`` across queues."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Answer, invoke, isolated, one_error_line, plugins, unique

from naq_core import Queue
from naq_core.cli.queues import parse_duration
from naq_core.testing import EmbeddedServer


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated(tmp_path, monkeypatch):
        yield


async def _enqueue(url: str, counts: dict[str, int]) -> None:
    for name, count in counts.items():
        async with Queue(name, url) as queue:
            await queue.enqueue_many([("worker_tasks:add", (i, i)) for i in range(count)])


async def _count(url: str, name: str) -> int:
    async with Queue(name, url) as queue:
        return await queue.count()


def _queues(url: str) -> dict[str, dict[str, object]]:
    result = invoke("--nats-url", url, "queues", "--json")
    assert result.exit_code == 0, result.output
    return {row["queue"]: row for row in json.loads(result.stdout)}


def test_queues_json_and_table(nats_url: str) -> None:
    a, b = unique("qa"), unique("qb")
    asyncio.run(_enqueue(nats_url, {a: 3, b: 1}))
    rows = _queues(nats_url)
    assert rows[a] == {
        "queue": a,
        "jobs": 3,
        "pending": 3,
        "in_flight": 0,
        "redelivered": 0,
        "waiting_pulls": 0,
        "workers": 0,
        "paused": False,
        "paused_until": None,
        "has_consumer": False,
    }
    assert rows[b]["jobs"] == 1
    table = invoke("--nats-url", nats_url, "queues").stdout.splitlines()
    assert table[0].split() == [
        "QUEUE",
        "JOBS",
        "PENDING",
        "IN",
        "FLIGHT",
        "REDELIVERED",
        "WORKERS",
        "PULLS",
        "PAUSED",
    ]
    line = next(line for line in table if line.startswith(a))
    assert line.split() == [a, "3", "3", "0", "0", "0", "0", "no"]


def test_no_queues_yet(fresh_nats_server: EmbeddedServer) -> None:
    assert invoke("--nats-url", fresh_nats_server.url, "queues", "--json").stdout.strip() == "[]"
    assert "No queues yet" in invoke("--nats-url", fresh_nats_server.url, "queues").stdout


def test_pause_for_a_while_then_resume(nats_url: str) -> None:
    name = unique("qp")
    asyncio.run(_enqueue(nats_url, {name: 1}))
    result = invoke("--nats-url", nats_url, "queue", "pause", name, "--for", "1h", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["queue"] == name and data["paused"] is True
    until = dt.datetime.fromisoformat(data["until"])
    assert dt.timedelta(minutes=59) < until - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=1)
    row = _queues(nats_url)[name]
    assert row["paused"] is True and row["has_consumer"] is True and row["paused_until"]
    assert "until " in next(
        line for line in invoke("--nats-url", nats_url, "queues").stdout.splitlines() if line.startswith(name)
    )
    resumed = invoke("--nats-url", nats_url, "queue", "resume", name)
    assert resumed.exit_code == 0 and resumed.stdout.strip() == f"Resumed queue {name}"
    assert _queues(nats_url)[name]["paused"] is False


def test_pause_without_end_and_until(nats_url: str) -> None:
    name = unique("qp")
    result = invoke("--nats-url", nats_url, "queue", "pause", name)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Paused queue {name} until `naq queue resume`"
    line = next(
        line for line in invoke("--nats-url", nats_url, "queues").stdout.splitlines() if line.startswith(name)
    )
    assert line.split()[-1] == "yes"
    later = (dt.datetime.now() + dt.timedelta(days=1)).replace(microsecond=0).isoformat()
    until = invoke("--nats-url", nats_url, "queue", "pause", name, "--until", later, "--json")
    assert json.loads(until.stdout)["paused"] is True
    invoke("--nats-url", nats_url, "queue", "resume", name)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--for", "soon"], "not a duration"),
        (["--for", "0"], "more than zero"),
        (["--until", "yesterday"], "ISO 8601"),
        (["--until", "2001-01-01T00:00"], "in the past"),
        (["--for", "1h", "--until", "2100-01-01"], "not both"),
    ],
)
def test_pause_bad_times_are_usage_errors(args: list[str], expected: str) -> None:
    result = invoke("queue", "pause", "q", *args)
    assert result.exit_code == 2
    assert expected in one_error_line(result)


def test_parse_duration() -> None:
    assert parse_duration("90") == dt.timedelta(seconds=90)
    assert parse_duration("1h30m") == dt.timedelta(minutes=90)
    assert parse_duration("1.5d") == dt.timedelta(hours=36)
    assert parse_duration("2w") == dt.timedelta(weeks=2)
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("1h 30m")


def test_purge_several_queues_asks_once_and_reports_each(nats_url: str) -> None:
    a, b, empty = unique("pa"), unique("pb"), unique("pe")
    asyncio.run(_enqueue(nats_url, {a: 2, b: 1}))
    answer = Answer(True)
    with plugins(answer):
        result = invoke("--nats-url", nats_url, "purge", a, b, empty, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"queue": a, "purged": 2},
        {"queue": b, "purged": 1},
        {"queue": empty, "purged": 0},
    ]
    assert answer.asked == [
        {"action": "purge", "target": f"3 queues ({a}, {b}, {empty})", "count": 3, "force": False}
    ]
    assert "Purging" not in result.stderr  # no progress bar without a terminal


def test_purge_all_on_its_own_server(fresh_nats_server: EmbeddedServer) -> None:
    url = fresh_nats_server.url
    assert invoke("--nats-url", url, "purge", "--all").stdout.strip() == (
        "No queue has jobs waiting; nothing to purge."
    )
    asyncio.run(_enqueue(url, {"alpha": 2, "beta": 3, "gamma": 0}))
    result = invoke("--nats-url", url, "purge", "--all", "-y")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["Purged 2 jobs from alpha", "Purged 3 jobs from beta"]
    assert asyncio.run(_count(url, "beta")) == 0


def test_purge_needs_queues_or_all() -> None:
    for args in (["purge"], ["purge", "q", "--all"]):
        result = invoke(*args)
        assert result.exit_code == 2
        assert "--all" in one_error_line(result)


def test_refused_purge_of_many_queues_names_them(nats_url: str) -> None:
    names = [unique("pr") for _ in range(7)]
    asyncio.run(_enqueue(nats_url, dict.fromkeys(names, 1)))
    with plugins(Answer(False)):
        result = invoke("--nats-url", nats_url, "purge", *names)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "7 queues" in line and names[0] in line and "and 2 more" in line and "(7 jobs)" in line
    assert "no terminal" in line and "--force" in line
    assert asyncio.run(_count(nats_url, names[-1])) == 1
