"""Scheduling at scale: registration rate, firing lateness, idle CPU, on one private nats-server.

    python tests/benchmarks/schedules.py [--schedules 100000] [--firings 1000] [--json out.json]
    python tests/benchmarks/run.py --schedules 100000        (the same, through run.py)

It starts its own nats-server on a free loopback port with a temporary store (stopped at the
end by pid), and an idle ``naq worker`` in a subprocess. Then, in order:

1. idle CPU of the worker and of nats-server with no schedules (the baseline);
2. registration: ``--schedules`` one-off ``enqueue_at`` jobs due in 30 days, issued with
   ``asyncio.gather`` in chunks of ``--chunk`` (and, for the per-call cost, a sequential
   sample of awaited calls);
3. idle CPU again while they all wait (``/proc/<pid>/stat`` utime + stime over
   ``--cpu-seconds``), with the server's resident memory and the stored bytes;
4. lateness: ``--firings`` jobs due within ``--spread`` seconds, a few seconds ahead, run
   by the worker; each task returns ``time.time() - due`` and the record's ``enqueued_at``
   is when the server fired it;
5. one full ``list_schedules()`` over every schedule (what ``naq schedule list`` costs; a
   poll-every-key scheduler pays about this on every tick).

Figures to read, not a test: the exit code is 0 whatever they are.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import bench_tasks
from bench_report import percentile
from bench_setup import install_plugins, platform_meta, private_server, progress, quiet_logging

from naq_core import Job, Queue
from naq_core.heartbeat import list_workers
from naq_core.server import EmbeddedServer
from naq_core.testing.process import write_distribution

__all__ = ["main"]

QUEUE = "bench-sched"
HERE = Path(__file__).resolve().parent
TICKS = os.sysconf("SC_CLK_TCK")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        "--schedules", type=int, default=100_000, help="pending one-offs to register (100000)"
    )
    parser.add_argument("--chunk", type=int, default=500, help="registrations in flight at once (500)")
    parser.add_argument("--sequential", type=int, default=500, help="awaited one-by-one sample (500)")
    parser.add_argument("--firings", type=int, default=1000, help="jobs due close together (1000)")
    parser.add_argument("--spread", type=float, default=3.0, help="seconds their due times span (3)")
    parser.add_argument("--lead", type=float, default=5.0, help="seconds ahead the first is due (5)")
    parser.add_argument("--cpu-seconds", type=float, default=10.0, help="CPU sampling window (10)")
    parser.add_argument("--concurrency", type=int, default=50, help="the worker's concurrency (50)")
    parser.add_argument("--no-scan", action="store_true", help="skip the full list_schedules() scan")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    if min(args.schedules, args.chunk, args.sequential, args.firings) < 1 or args.spread <= 0:
        parser.error("counts must be at least 1 and --spread positive")
    return args


# --- the worker subprocess and /proc sampling -------------------------------------------------


def _child_env(tmp: Path) -> dict[str, str]:
    """This interpreter's path plus the benchmark's tasks; only the json serializer plugin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAQ_")}
    paths = [str(HERE), *[p for p in sys.path if p]]
    if not any(ep.name == "json" for ep in metadata.entry_points(group="naq")):
        # offer it as an installed one would be
        write_distribution(tmp / "site", "naq-bench-plugins", {"json": "naq_json_serializer"})
        paths.insert(0, str(tmp / "site"))
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["NAQ_LOAD_PLUGINS"] = "json"
    env["NAQ_LOG_LEVEL"] = "warning"
    return env


def _start_worker(url: str, concurrency: int, tmp: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "naq_core.cli", "--nats-url", url, "worker", QUEUE]
    argv += ["-t", "bench_tasks", "-c", str(concurrency), "--name", "bench-sched"]
    log = (tmp / "worker.log").open("wb")
    return subprocess.Popen(argv, env=_child_env(tmp), cwd=tmp, stdout=log, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _cpu(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Percent of one core each process used over ``seconds`` (utime + stime)."""
    before = {name: _cpu_ticks(pid) for name, pid in pids.items()}
    started = time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - started
    return {name: 100 * (_cpu_ticks(pid) - before[name]) / TICKS / elapsed for name, pid in pids.items()}


# --- the measurements --------------------------------------------------------------------------


async def _wait_for_worker(queue: Queue, proc: subprocess.Popen[bytes]) -> None:
    conn = await queue.connection()
    async with asyncio.timeout(30):
        while not any(QUEUE in w.queues for w in await list_workers(conn)):
            if proc.poll() is not None:
                raise RuntimeError(f"the worker exited with {proc.returncode}; see its log")
            await asyncio.sleep(0.1)


async def _register(queue: Queue, n: int, chunk: int) -> tuple[float, list[Job]]:
    far = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    jobs: list[Job] = []
    started = time.perf_counter()
    for first in range(0, n, chunk):
        batch = [
            queue.enqueue_at(far + dt.timedelta(milliseconds=i), bench_tasks.noop)
            for i in range(first, min(n, first + chunk))
        ]
        jobs.extend(await asyncio.gather(*batch))
        if first and first % (chunk * 40) == 0:
            rate = len(jobs) / (time.perf_counter() - started)
            progress(f"  {len(jobs):,} registered ({rate:,.0f}/s)")
    return len(jobs) / (time.perf_counter() - started), jobs


async def _sequential(queue: Queue, n: int) -> list[float]:
    far = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    took = []
    for i in range(n):
        started = time.perf_counter()
        await queue.enqueue_at(far + dt.timedelta(milliseconds=i), bench_tasks.noop)
        took.append((time.perf_counter() - started) * 1000)
    return took


async def _lateness(queue: Queue, args: argparse.Namespace) -> dict[str, list[float]]:
    n, epoch = args.firings, dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    base_ms = int((time.time() + args.lead) * 1000)
    due_ms = [base_ms + int(args.spread * 1000 * i / n) for i in range(n)]  # NATS @at has ms precision
    jobs: list[tuple[float, Job]] = []
    for first in range(0, n, args.chunk):
        part = due_ms[first : first + args.chunk]
        batch = [
            queue.enqueue_at(epoch + dt.timedelta(milliseconds=ms), bench_tasks.stamp, ms / 1000)
            for ms in part
        ]
        jobs.extend(zip([ms / 1000 for ms in part], await asyncio.gather(*batch), strict=True))
    registered = time.time()
    if registered > base_ms / 1000:
        progress(
            f"  warning: registering took past the first due time by {registered - base_ms / 1000:.2f} s"
        )
    started, fired = [], []
    for due, job in jobs:
        started.append(await queue.fetch_job_result(job, timeout=120) * 1000)
        record = await queue.job_record(job.job_id)
        if record.enqueued_at is not None:
            fired.append((record.enqueued_at - due) * 1000)
    return {"started": started, "fired": fired}


async def _scan(queue: Queue) -> tuple[float, int]:
    started = time.perf_counter()
    found = await queue.list_schedules(all_queues=True)
    return time.perf_counter() - started, len(found)


async def _stored(queue: Queue) -> dict[str, int]:
    conn = await queue.connection()
    jobs = await conn.js.stream_info("naq_jobs")
    kv = await conn.js.stream_info("KV_naq_schedules")
    results = await conn.js.stream_info("KV_naq_results")
    return {  # nothing else waits in the jobs stream now: its messages are the schedules
        "jobs_stream_bytes": jobs.state.bytes,
        "schedule_messages": jobs.state.messages,
        "schedules_bucket_bytes": kv.state.bytes,
        "results_bucket_bytes": results.state.bytes,
    }


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(samples, 50),
        "p99": percentile(samples, 99),
        "max": max(samples),
        "min": min(samples),
        "n": len(samples),
    }


async def _measure(server: EmbeddedServer, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    assert server.pid is not None
    worker = _start_worker(server.url, args.concurrency, tmp)
    try:
        async with Queue(QUEUE, server.url) as queue:
            await _wait_for_worker(queue, worker)
            await queue.enqueue_at(
                dt.datetime.now(dt.UTC) + dt.timedelta(days=60), bench_tasks.noop
            )  # warm up
            pids = {"worker": worker.pid, "nats_server": server.pid}
            progress(f"idle CPU, no schedules ({args.cpu_seconds:g} s)")
            figures["cpu_idle_empty_pct"] = await _cpu(pids, args.cpu_seconds)
            figures["server_rss_empty_mib"] = _rss_mib(server.pid)

            progress(f"registering {args.schedules:,} one-offs, {args.chunk} in flight")
            busy = {"producer": os.getpid(), "nats_server": server.pid}
            before, clock = {k: _cpu_ticks(pid) for k, pid in busy.items()}, time.monotonic()
            rate, _ = await _register(queue, args.schedules, args.chunk)
            elapsed = time.monotonic() - clock
            figures["register_per_s"] = rate
            figures["cpu_register_pct"] = {
                k: 100 * (_cpu_ticks(pid) - before[k]) / TICKS / elapsed for k, pid in busy.items()
            }
            progress(f"  {rate:,.0f} registrations/s")
            per_call = await _sequential(queue, args.sequential)
            figures["register_sequential_ms"] = _summary(per_call)
            progress(f"  one at a time: p50 {percentile(per_call, 50):.2f} ms per enqueue_at")
            figures["stored"] = await _stored(queue)

            progress(f"idle CPU with {args.schedules:,} schedules waiting ({args.cpu_seconds:g} s)")
            figures["cpu_idle_loaded_pct"] = await _cpu(pids, args.cpu_seconds)
            figures["server_rss_loaded_mib"] = _rss_mib(server.pid)
            progress(f"  {figures['cpu_idle_loaded_pct']}")

            progress(f"lateness of {args.firings:,} jobs due within {args.spread:g} s")
            late = await _lateness(queue, args)
            figures["lateness_started_ms"] = _summary(late["started"])
            figures["lateness_fired_ms"] = _summary(late["fired"])
            progress(f"  started: {figures['lateness_started_ms']}")

            if not args.no_scan:
                progress("one full list_schedules()")
                seconds, count = await _scan(queue)
                figures["scan_seconds"], figures["scan_count"] = seconds, count
                progress(f"  {count:,} schedules listed in {seconds:.1f} s")
    finally:
        _stop(worker)
    return figures


def _report(figures: dict[str, Any], args: argparse.Namespace, meta: dict[str, Any]) -> str:
    empty, loaded = figures["cpu_idle_empty_pct"], figures["cpu_idle_loaded_pct"]
    seq, stored = figures["register_sequential_ms"], figures["stored"]
    busy = figures["cpu_register_pct"]
    lines = [
        f"naq scheduling benchmark: nats-server {meta['nats_server']}, nats-py {meta['nats_py']}, "
        f"Python {meta['python']}, {meta['cpus']} CPUs, {meta['seconds']:.0f} s",
        "",
        f"register {args.schedules:,} one-offs ({args.chunk} in flight)  {figures['register_per_s']:,.0f} /s",
        f"  CPU meanwhile, % of one core            producer {busy['producer']:.0f}, "
        f"nats-server {busy['nats_server']:.0f}",
        f"enqueue_at one at a time                  p50 {seq['p50']:.2f} ms, p99 {seq['p99']:.2f} ms",
        f"stored: {stored['schedule_messages']:,} schedule messages, jobs stream "
        f"{stored['jobs_stream_bytes'] / 2**20:.1f} MiB, schedules bucket "
        f"{stored['schedules_bucket_bytes'] / 2**20:.1f} MiB, results bucket "
        f"{stored['results_bucket_bytes'] / 2**20:.1f} MiB",
        f"nats-server RSS                           {figures['server_rss_empty_mib']:.0f} MiB empty, "
        f"{figures['server_rss_loaded_mib']:.0f} MiB loaded",
        f"idle CPU, % of one core (no schedules)    worker {empty['worker']:.2f}, "
        f"nats-server {empty['nats_server']:.2f}",
        f"idle CPU, % of one core ({args.schedules:,} waiting) worker {loaded['worker']:.2f}, "
        f"nats-server {loaded['nats_server']:.2f}",
    ]
    for key, label in (("lateness_fired_ms", "server fired"), ("lateness_started_ms", "task started")):
        s = figures[key]
        lines.append(
            f"lateness, {label:<13} ({s['n']:,} jobs in {args.spread:g} s)  p50 {s['p50']:.0f} ms, "
            f"p99 {s['p99']:.0f} ms, max {s['max']:.0f} ms, min {s['min']:.0f} ms"
        )
    if "scan_seconds" in figures:
        lines.append(
            f"list_schedules() over {figures['scan_count']:,}              {figures['scan_seconds']:.1f} s"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    quiet_logging()
    install_plugins()
    started = time.perf_counter()
    with private_server("naq-bench-sched-") as (server, tmp):
        figures = asyncio.run(_measure(server, args, tmp))
    meta = {
        "seconds": time.perf_counter() - started,
        **platform_meta(),
        "cpus": os.cpu_count(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    print(_report(figures, args, meta))
    if args.json is not None:
        args.json.write_text(json.dumps({"meta": meta, "figures": figures}, indent=2, sort_keys=True) + "\n")
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
