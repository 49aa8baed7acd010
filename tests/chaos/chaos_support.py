"""Helpers of the chaos suite: faults injected into real ``naq worker`` processes and real
nats-servers (the ``chaos`` fixture of ``conftest.py`` is a :class:`Chaos`).

Run it with ``nox -s chaos`` (full sizes, never a default session) or ``nox -s chaos_short``
(short sizes, each case well under 30 s: part of the default run). The size comes from
``NAQ_CHAOS_SCALE`` (``short``, the default, or ``full``), read once when this module is
imported (before any fixture could clear ``NAQ_*`` variables): use :func:`sized` for N.

Helpers for every case (the ``chaos`` fixture is a :class:`Chaos`)::

    async def test_my_fault(chaos):
        tokens = chaos.tokens(sized(500, 5_000))           # one id per job
        a = chaos.start_worker(concurrency=10)             # `naq worker QUEUE -t chaos_tasks`
        await chaos.enqueue("work", tokens, seconds=0.01)   # chaos_tasks.work(token, seconds=...)
        await chaos.wait_for(lambda: chaos.recording.lines() >= 200, 30, "some jobs ran")
        a.signal(signal.SIGKILL)                            # children are stopped by pid after
        done = await chaos.wait_completed(tokens, 60)       # bounded; the events seen
        outcome = chaos.outcome("my fault", tokens)         # N, lost, duplicates
        report(outcome, recovery=...)                       # printed at the end of the run
        assert outcome.lost == 0

* Jobs run the functions of ``tests/chaos/chaos_tasks.py``; each records ``S``/``E`` lines
  (token, pid, time) in the test's recording file (:class:`Recording`): ``completed()``
  counts ``E`` lines per token, ``events()`` parses them all, ``lines()`` is cheap (size).
* ``chaos.start_worker(**settings, args=(...))`` starts ``naq worker`` with ``NAQ_<SETTING>``
  variables (``ack_wait=2``, ``max_deliver=3``, ``shutdown_timeout=1``, ...) and waits for
  ``worker_started``; ``chaos.queue`` is the test's own queue; ``chaos.nats_url`` its server
  (the session's; a case that stops servers brings its own and passes ``nats_url=``).
* :func:`report` keeps a case's figures (N, lost, duplicates, recovery seconds, notes): they
  are printed in pytest's summary and appended as JSON lines to ``$NAQ_CHAOS_REPORT`` if set.
* Every wait is bounded; every child process is stopped by its pid when the test ends.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chaos_tasks import LINE

from naq_core import Queue
from naq_core.testing.process import ChildProcess, ChildProcesses, naq_argv, naq_env

HERE = Path(__file__).parent

#: ``short`` (CI) or ``full`` (``nox -s chaos``), read at import.
SCALE = os.environ.get("NAQ_CHAOS_SCALE", "short").strip().lower() or "short"
#: Where :func:`report` appends its JSON lines (read at import), or None.
REPORT_FILE = os.environ.get("NAQ_CHAOS_REPORT") or None
#: The plugins chaos workers load: the JSON serializer, and dlq-stream for dead letters.
WORKER_PLUGINS = {"json": "naq_json_serializer", "dlq-stream": "naq_dlq_stream.plugin"}
_REPORTS: list[Outcome] = []


def sized(short: int, full: int) -> int:
    """``full`` under ``NAQ_CHAOS_SCALE=full``, else ``short``."""
    return full if SCALE == "full" else short


@dataclass
class Event:
    kind: str  # "S" started, "E" ended
    token: str
    pid: int
    at: float  # time.time() in the worker


@dataclass
class Outcome:
    """One case's figures, as the docs report them."""

    case: str
    jobs: int
    lost: int
    duplicates: int  # tokens that ended more than once
    recovery: float | None = None  # seconds, as the case defines it
    notes: dict[str, Any] = field(default_factory=dict)
    scale: str = SCALE


def report(outcome: Outcome, **notes: Any) -> Outcome:
    """Keep ``outcome`` (with ``notes`` added) for the summary and ``$NAQ_CHAOS_REPORT``."""
    recovery = notes.pop("recovery", None)
    if recovery is not None:
        outcome.recovery = round(float(recovery), 3)
    outcome.notes.update(notes)
    _REPORTS.append(outcome)
    if REPORT_FILE:
        with open(REPORT_FILE, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(outcome)) + "\n")
    return outcome


def summary_lines() -> list[str]:
    """One line per case reported so far (pytest's summary prints them)."""
    lines = []
    for o in _REPORTS:
        recovery = "-" if o.recovery is None else f"{o.recovery:.2f} s"
        lines.append(
            f"{o.case}: N={o.jobs} lost={o.lost} duplicates={o.duplicates} recovery={recovery} {o.notes}"
        )
    return lines


class Recording:
    """The ``S``/``E`` lines the chaos tasks write (see ``chaos_tasks``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> int:
        """How many lines were written (from the size: cheap at any length)."""
        try:
            return self.path.stat().st_size // LINE
        except FileNotFoundError:
            return 0

    def events(self) -> list[Event]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            kind, token, pid, at = line.split()
            out.append(Event(kind, token, int(pid), float(at)))
        return out

    def completed(self) -> collections.Counter[str]:
        """How many times each token ended (``E`` lines)."""
        return collections.Counter(e.token for e in self.events() if e.kind == "E")

    def started(self) -> collections.Counter[str]:
        return collections.Counter(e.token for e in self.events() if e.kind == "S")


class Chaos:
    """One test's queue, recording file and ``naq worker`` children (see the module doc)."""

    def __init__(self, tmp_path: Path, nats_url: str, children: ChildProcesses) -> None:
        self.tmp_path = tmp_path
        self.nats_url = nats_url
        self.children = children
        self.queue = f"chaos-{uuid.uuid4().hex[:10]}"
        self.recording = Recording(tmp_path / "record.txt")
        self._env = naq_env(tmp_path, WORKER_PLUGINS)
        self._env["PYTHONPATH"] = os.pathsep.join([str(HERE), self._env["PYTHONPATH"]])
        self._env["CHAOS_RECORD_FILE"] = str(self.recording.path)

    @staticmethod
    def tokens(n: int) -> list[str]:
        return [uuid.uuid4().hex for _ in range(n)]

    def start_worker(
        self, *, args: Iterable[str] = (), nats_url: str | None = None, wait: bool = True, **settings: Any
    ) -> ChildProcess:
        """``naq worker QUEUE -t chaos_tasks ARGS`` with ``NAQ_<KEY>=value`` for ``settings``."""
        env = dict(self._env)
        env.update({f"NAQ_{k.upper()}": str(v) for k, v in settings.items()})
        argv = naq_argv(
            "--nats-url", nats_url or self.nats_url, "worker", self.queue, "-t", "chaos_tasks", *args
        )
        child = self.children.start(argv, env=env, cwd=self.tmp_path)
        if wait:
            child.wait_for(r"worker_started", timeout=60)
        return child

    async def enqueue(
        self,
        function: str,
        tokens: list[str],
        *,
        nats_url: str | None = None,
        batch: int = 1000,
        **kwargs: Any,
    ) -> None:
        """Enqueue ``function(token, **kwargs)`` for every token, pipelined in batches."""
        async with Queue(self.queue, nats_url=nats_url or self.nats_url) as q:
            for i in range(0, len(tokens), batch):
                await q.enqueue_many(
                    [(f"chaos_tasks:{function}", (t,), kwargs) for t in tokens[i : i + batch]],
                    max_retries=0,
                )

    async def wait_for(self, predicate: Callable[[], object], timeout: float, what: str) -> None:
        """Poll ``predicate`` every 50 ms; fail with ``what`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {timeout} s: {what}")
            await asyncio.sleep(0.05)

    async def wait_completed(self, tokens: Iterable[str], timeout: float) -> collections.Counter[str]:
        """Wait (bounded) until every token ended at least once; the end counts."""
        wanted = set(tokens)
        await self.wait_for(
            lambda: self.recording.lines() >= len(wanted) and wanted <= set(self.recording.completed()),
            timeout,
            f"all {len(wanted)} jobs completed ({len(wanted - set(self.recording.completed()))} missing)",
        )
        return self.recording.completed()

    def outcome(self, case: str, tokens: Iterable[str]) -> Outcome:
        """N, lost (never ended) and duplicates (ended twice or more) of ``tokens``."""
        wanted = list(tokens)
        done = self.recording.completed()
        lost = sum(1 for t in wanted if done[t] == 0)
        duplicates = sum(1 for t in wanted if done[t] > 1)
        return Outcome(case=case, jobs=len(wanted), lost=lost, duplicates=duplicates)
