"""naq against raw nats-py, measured in one run on one private nats-server.

    python tests/benchmarks/run.py [--jobs 10000] [--repeat 3] [--json out.json]
    python tests/benchmarks/run.py --schedules 100000   (scheduling at scale: schedules.py)

(``nox -s bench -- --jobs 2000`` runs it with everything installed.) It starts its own
embedded nats-server on a free loopback port with a temporary store, and stops it at the
end. Each repetition runs every measurement once, raw and naq interleaved so that a noisy
moment of the machine hits both; the table shows the medians. These are figures to read,
not a test: the exit code is 0 whatever they are (non-zero only if something broke).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import bench_tasks
from bench_naq import NaqBench
from bench_raw import RawBench
from bench_report import Results, percentile, render_table, to_json
from bench_setup import install_plugins, platform_meta, private_server, progress, quiet_logging, version

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
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.repeat < 1 or args.concurrency < 1 or args.latency_samples < 1:
        parser.error("--jobs, --repeat, --concurrency and --latency-samples must be at least 1")
    return args


async def _measure(url: str, args: argparse.Namespace, results: Results) -> None:
    n = args.jobs
    naq = NaqBench(url, concurrency=args.concurrency, timeout=args.timeout)
    payload, serializer = await naq.encoded_noop()
    raw = RawBench(url, payload, serializer)
    await raw.start()
    try:
        for rep in range(1, args.repeat + 1):
            progress(f"repetition {rep}/{args.repeat}")
            steps: list[tuple[str, str, Callable[[], Awaitable[float]]]] = [
                ("raw_publish", "raw js.publish, awaited", lambda: raw.publish(n)),
                ("naq_enqueue", "naq Queue.enqueue, awaited", lambda: naq.enqueue(n)),
                ("raw_publish_async", "raw js.publish_async, pipelined", lambda: raw.publish_async(n)),
                ("naq_enqueue_many", "naq Queue.enqueue_many", lambda: naq.enqueue_many(n)),
                ("raw_fetch_ack", "raw fetch(100) + ack", lambda: raw.fetch_ack(n, args.timeout)),
                (
                    "naq_drain",
                    f"naq Worker drain, async no-op, c={args.concurrency}",
                    lambda: naq.drain(n, bench_tasks.noop),
                ),
                (
                    "naq_drain_sync",
                    f"naq Worker drain, sync no-op, c={args.concurrency}",
                    lambda: naq.drain(n, bench_tasks.noop_sync),
                ),
            ]
            for name, label, run in steps:
                rate = await run()
                results.add(name, rate, unit="msg/s", label=label)
                progress(f"  {label}: {rate:,.0f} msg/s")
            delays = await naq.latency(args.latency_samples)
            p50, p99 = percentile(delays, 50), percentile(delays, 99)
            results.add("latency_p50_ms", p50, unit="ms", label="idle enqueue-to-start p50")
            results.add("latency_p99_ms", p99, unit="ms", label="idle enqueue-to-start p99")
            progress(f"  idle latency: p50 {p50:.3f} ms, p99 {p99:.3f} ms ({len(delays)} samples)")
    finally:
        await raw.close()


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
    with private_server("naq-bench-") as (server, _):
        started = time.perf_counter()
        asyncio.run(_measure(server.url, args, results))
        took = time.perf_counter() - started
    meta = {
        "jobs": args.jobs,
        "repeat": args.repeat,
        "concurrency": args.concurrency,
        "latency_samples": args.latency_samples,
        "seconds": round(took, 1),
        **platform_meta(),
        "naq_json_serializer": version("naq-json-serializer"),
    }
    header = (
        f"naq benchmark: {args.jobs:,} jobs x {args.repeat} repetitions (median shown), "
        f"nats-server {meta['nats_server']}, nats-py {meta['nats_py']}, Python {meta['python']}, "
        f"{took:.0f} s"
    )
    print(render_table(results, header))
    if args.json is not None:
        to_json(results, meta, args.json)
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
