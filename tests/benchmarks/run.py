"""naq against raw nats-py, measured in one run on one private nats-server.

    python tests/benchmarks/run.py [--jobs 10000] [--repeat 3] [--json out.json]
    python tests/benchmarks/run.py --cli-only          (only `naq worker` and raw nats-py)
    python tests/benchmarks/run.py --soak 1000000      (RSS of one `naq worker` over N jobs)
    python tests/benchmarks/run.py --schedules 100000   (scheduling at scale: schedules.py)

(``nox -s bench -- --jobs 2000`` runs it with everything installed.) It starts its own
embedded nats-server on a free loopback port with a temporary store, and stops it at the
end. Beside the in-process Worker it runs the worker as users run it: `naq worker QUEUE -t
bench_tasks` child processes with the default config and default logging (bench_cli.py), one
and two of them, async and sync tasks, and idle latency; and the peer the latency target
names, taskiq-nats, as its users run it (`taskiq worker`, its JetStream broker; bench_taskiq.py;
"not measured" if it is not installed). Each repetition runs every
measurement once, raw and naq interleaved so that a noisy moment of the machine hits
both; the table shows the medians. These are figures to read, not a test: the exit code
is 0 whatever they are (non-zero only if something broke).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import bench_tasks
from bench_cli import CliBench
from bench_naq import NaqBench
from bench_raw import RawBench
from bench_report import (
    TASKIQ_DRAIN,
    TASKIQ_LATENCY,
    Results,
    expect_taskiq,
    percentile,
    render_table,
    to_json,
)
from bench_setup import (
    install_plugins,
    platform_meta,
    plugin_names,
    private_server,
    progress,
    quiet_logging,
    version,
)
from bench_taskiq import open_taskiq

__all__ = ["main"]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000, help="messages/jobs per measurement (10000)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; the median is reported (3)")
    parser.add_argument("--concurrency", type=int, default=10, help="worker concurrency (10)")
    parser.add_argument("--latency-samples", type=int, default=300, help="idle-latency samples (300)")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up on one measurement after (s)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the figures here")
    parser.add_argument(
        "--schedules",
        type=int,
        default=None,
        metavar="N",
        help="instead, run the scheduling benchmark (schedules.py) with N pending schedules",
    )
    parser.add_argument(
        "--cli-only", action="store_true", help="skip the in-process measurements (raw and `naq worker` only)"
    )
    parser.add_argument(
        "--cli-option",
        action="append",
        default=[],
        metavar="OPT",
        help="extra `naq` option for the CLI workers, repeatable (e.g. --cli-option=--log-level=warning)",
    )
    parser.add_argument(
        "--soak",
        type=int,
        default=None,
        metavar="N",
        help="instead, run N no-op jobs through one `naq worker` and report its RSS (idle, 10,000, N)",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.repeat < 1 or args.concurrency < 1 or args.latency_samples < 1:
        parser.error("--jobs, --repeat, --concurrency and --latency-samples must be at least 1")
    return args


Step = tuple[str, str, Callable[[], Awaitable[float]]]


def _in_process_steps(n: int, args: argparse.Namespace, naq: NaqBench, raw: RawBench) -> list[Step]:
    return [
        ("raw_publish", "raw js.publish, awaited", lambda: raw.publish(n)),
        ("naq_enqueue", "naq Queue.enqueue, awaited", lambda: naq.enqueue(n)),
        ("raw_publish_async", "raw js.publish_async, pipelined", lambda: raw.publish_async(n)),
        ("naq_enqueue_many", "naq Queue.enqueue_many", lambda: naq.enqueue_many(n)),
        (
            "naq_drain",
            f"naq Worker in-process drain, async no-op, c={args.concurrency}",
            lambda: naq.drain(n, bench_tasks.noop),
        ),
        (
            "naq_drain_sync",
            f"naq Worker in-process drain, sync no-op, c={args.concurrency}",
            lambda: naq.drain(n, bench_tasks.noop_sync),
        ),
    ]


def _cli_steps(n: int, cli: CliBench) -> list[Step]:
    return [
        ("cli_drain", "`naq worker` x1, async no-op, steady", lambda: cli.drain(n, bench_tasks.noop)),
        ("cli_drain_2", "`naq worker` x2, async no-op, steady", lambda: cli.drain(n, bench_tasks.noop, 2)),
        (
            "cli_drain_sync",
            "`naq worker` x1, sync no-op, steady",
            lambda: cli.drain(n, bench_tasks.noop_sync),
        ),
    ]


def _add_latency(results: Results, key: str, label: str, delays: list[float]) -> None:
    p50, p99 = percentile(delays, 50), percentile(delays, 99)
    results.add(f"{key}_p50_ms", p50, unit="ms", label=f"{label} p50")
    results.add(f"{key}_p99_ms", p99, unit="ms", label=f"{label} p99")
    progress(f"  {label}: p50 {p50:.3f} ms, p99 {p99:.3f} ms ({len(delays)} samples)")


def _add_cpu(results: Results, per_job: dict[str, float], rate: float) -> None:
    """CPU per job of one `naq worker` and of nats-server, and what two workers can reach.

    Two workers need ``workers + server`` CPU microseconds per job from this machine's
    cores, so at most ``cores / ((workers + server) * rate1)`` times one worker's rate (and
    never more than 2x): on 2 cores shared with nats-server that, not naq, bounds x2 / x1.
    """
    worker, server = per_job.get("workers"), per_job.get("server")
    if worker is None or server is None:
        return
    results.add("cli_cpu_worker_us", worker, unit="us", label="`naq worker` x1 CPU per job")
    results.add("cli_cpu_server_us", server, unit="us", label="nats-server CPU per job (x1 drain)")
    ceiling = min(2.0, (os.cpu_count() or 1) / ((worker + server) * 1e-6 * rate))
    results.add("cli_x2_ceiling", ceiling, unit="x", label="x2 / x1 this machine's CPUs allow")
    progress(
        f"  CPU per job: worker {worker:.1f} us, nats-server {server:.1f} us; x2 / x1 at most {ceiling:.2f}"
    )


async def _taskiq(results: Results, key: str, label: str, run: Callable[[], Awaitable[Any]]) -> None:
    """One taskiq-nats measurement; a failure is reported and leaves its row unmeasured."""
    try:
        figure = await run()
    except Exception as exc:
        progress(f"  {label}: failed ({type(exc).__name__}: {exc}); not measured this time")
        return
    if isinstance(figure, list):
        _add_latency(results, key, label, figure)
    else:
        results.add(key, figure, unit="msg/s", label=label)
        progress(f"  {label}: {figure:,.0f} msg/s")


async def _measure(
    url: str, args: argparse.Namespace, results: Results, log_dir: Path, server_pid: int | None = None
) -> None:
    n = args.jobs
    naq = NaqBench(url, concurrency=args.concurrency, timeout=args.timeout)
    payload, serializer = await naq.encoded_noop()
    raw = RawBench(url, payload, serializer)
    cli = CliBench(url, timeout=args.timeout, log_dir=log_dir, extra=tuple(args.cli_option))
    cli.server_pid = server_pid
    await raw.start()
    await cli.start()
    expect_taskiq(results)  # its rows say "not measured" if they get no figure
    taskiq = await open_taskiq(url, timeout=args.timeout, log_dir=log_dir, report=progress)
    try:
        for rep in range(1, args.repeat + 1):
            progress(f"repetition {rep}/{args.repeat}")
            steps: list[Step] = [
                ("raw_fetch_ack", "raw fetch(100) + ack", lambda: raw.fetch_ack(n, args.timeout))
            ]
            if not args.cli_only:
                steps += _in_process_steps(n, args, naq, raw)
            steps += _cli_steps(n, cli)
            for name, label, run in steps:
                rate = await run()
                results.add(name, rate, unit="msg/s", label=label)
                progress(f"  {label}: {rate:,.0f} msg/s")
                if name == "cli_drain":
                    _add_cpu(results, cli.cpu_per_job, rate)
            if taskiq is not None:
                await _taskiq(results, "taskiq_drain", TASKIQ_DRAIN, lambda: taskiq.drain(n))
            samples = args.latency_samples
            _add_latency(results, "raw_latency", "raw idle publish-to-receipt", await raw.latency(samples))
            if not args.cli_only:
                _add_latency(
                    results, "latency", "in-process idle enqueue-to-start", await naq.latency(samples)
                )
            _add_latency(
                results, "cli_latency", "`naq worker` idle enqueue-to-start", await cli.latency(samples)
            )
            if taskiq is not None:
                await _taskiq(results, "taskiq_latency", TASKIQ_LATENCY, lambda: taskiq.latency(samples))
    finally:
        if taskiq is not None:
            await taskiq.close()
        await cli.close()
        await raw.close()


async def _soak(url: str, args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    cli = CliBench(url, timeout=args.timeout, log_dir=log_dir, extra=tuple(args.cli_option))
    await cli.start()
    try:
        started = time.perf_counter()
        figures: dict[str, Any] = dict(await cli.soak(args.soak, report=progress))
        figures["seconds"] = round(time.perf_counter() - started, 1)
    finally:
        await cli.close()
    return figures


def _print_soak(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    mib = {k: v / 1024 for k, v in figures.items() if k != "seconds"}
    first = mib.get("after_10000", mib["idle_start"])
    last = mib[f"after_{args.soak}"]
    print(f"`naq worker` memory over {args.soak:,} no-op jobs ({figures['seconds']:.0f} s), RSS in MiB")
    for key, value in mib.items():
        print(f"  {key:<18}{value:8.1f}")
    growth = last - first
    verdict = "pass" if growth <= 20 else "MISS"
    print(f"  growth after_10000 -> after_{args.soak}: {growth:+.1f} MiB (wanted <= 20): {verdict}")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.schedules is not None:
        import schedules

        return schedules.main(
            ["--schedules", str(args.schedules), *(["--json", str(args.json)] if args.json else [])]
        )
    quiet_logging()
    install_plugins()
    results = Results()
    if args.soak is not None:
        with private_server("naq-soak-") as (server, tmp):
            figures = asyncio.run(_soak(server.url, args, tmp))
        _print_soak(args, figures)
        if args.json is not None:
            args.json.write_text(json.dumps({"soak": args.soak, **figures}, indent=2) + "\n")
        return 0
    with private_server("naq-bench-") as (server, tmp):
        started = time.perf_counter()
        asyncio.run(_measure(server.url, args, results, tmp, server.pid))
        took = time.perf_counter() - started
    meta = {
        "jobs": args.jobs,
        "repeat": args.repeat,
        "concurrency": args.concurrency,
        "latency_samples": args.latency_samples,
        "cli_options": args.cli_option,
        "seconds": round(took, 1),
        **platform_meta(),
        "naq_json_serializer": version("naq-json-serializer"),
        "plugins": plugin_names(),
    }
    header = (
        f"naq benchmark: {args.jobs:,} jobs x {args.repeat} repetitions (median shown), "
        f"nats-server {meta['nats_server']}, nats-py {meta['nats_py']}, Python {meta['python']}, "
        f"{took:.0f} s\nplugins loaded (each one's hooks run per job too): {', '.join(meta['plugins'])}"
    )
    print(render_table(results, header))
    if args.json is not None:
        to_json(results, meta, args.json)
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
