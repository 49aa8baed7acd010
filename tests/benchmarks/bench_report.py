"""Medians, ratios against targets, the printed table and the JSON file of a benchmark run."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from attrs import define, field

__all__ = [
    "TARGETS",
    "TASKIQ_DRAIN",
    "TASKIQ_LATENCY",
    "Results",
    "Target",
    "expect_taskiq",
    "percentile",
    "render_table",
    "to_json",
]

# The peer's rows (bench_taskiq.py); the latency ones get " p50" / " p99" appended.
TASKIQ_DRAIN = "taskiq-nats `taskiq worker` x1, async no-op, steady"
TASKIQ_LATENCY = "taskiq-nats `taskiq worker` idle kiq-to-start"


def percentile(samples: list[float], pct: float) -> float:
    """The ``pct`` percentile (0-100) of ``samples``, nearest rank."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@define
class Results:
    """Every repetition's figure per measurement name; the median is what is reported."""

    runs: dict[str, list[float]] = field(factory=dict)
    units: dict[str, str] = field(factory=dict)
    labels: dict[str, str] = field(factory=dict)
    expected: dict[str, str] = field(factory=dict)  # name -> label; "not measured" if no run

    def expect(self, name: str, *, label: str) -> None:
        """A row that is shown as "not measured" unless a figure is added for it."""
        self.expected[name] = label

    def add(self, name: str, value: float, *, unit: str, label: str) -> None:
        self.runs.setdefault(name, []).append(value)
        self.units[name] = unit
        self.labels[name] = label

    def median(self, name: str) -> float:
        return statistics.median(self.runs[name])


@define(frozen=True)
class Target:
    """``value(results) <op> limit``: a ratio of two throughputs, or one latency figure."""

    name: str
    label: str
    limit: float
    at_least: bool
    numerator: str
    denominator: str | None = None

    def value(self, results: Results) -> float | None:
        if self.numerator not in results.runs:
            return None
        top = results.median(self.numerator)
        if self.denominator is None:
            return top
        if self.denominator not in results.runs:
            return None
        bottom = results.median(self.denominator)
        return top / bottom if bottom else None

    def met(self, value: float) -> bool:
        return value >= self.limit if self.at_least else value <= self.limit

    def describe(self) -> str:
        limit = f"{self.limit:.1f}" if self.denominator else f"{self.limit:g} ms"
        return f"{'>=' if self.at_least else '<='} {limit}"


TARGETS: tuple[Target, ...] = (
    Target("enqueue_ratio", "Queue.enqueue / js.publish", 0.8, True, "naq_enqueue", "raw_publish"),
    Target(
        "enqueue_many_ratio",
        "Queue.enqueue_many / js.publish_async",
        0.7,
        True,
        "naq_enqueue_many",
        "raw_publish_async",
    ),
    Target("drain_ratio", "in-process drain / fetch(100)+ack", 0.5, True, "naq_drain", "raw_fetch_ack"),
    Target("cli_drain_ratio", "`naq worker` drain / fetch(100)+ack", 0.6, True, "cli_drain", "raw_fetch_ack"),
    Target("cli_scale_ratio", "`naq worker` x2 / x1", 1.7, True, "cli_drain_2", "cli_drain"),
    Target("cli_sync_ratio", "`naq worker` sync / async", 0.6, True, "cli_drain_sync", "cli_drain"),
    Target("latency_p50", "in-process idle enqueue-to-start p50", 1.0, False, "latency_p50_ms"),
    Target("latency_p99", "in-process idle enqueue-to-start p99", 2.0, False, "latency_p99_ms"),
    Target("cli_latency_p50", "`naq worker` idle enqueue-to-start p50", 1.0, False, "cli_latency_p50_ms"),
    Target("cli_latency_p99", "`naq worker` idle enqueue-to-start p99", 2.0, False, "cli_latency_p99_ms"),
    Target(
        "cli_vs_taskiq_latency_p99",
        "`naq worker` idle p99 / taskiq-nats idle p99",
        1.0,
        False,
        "cli_latency_p99_ms",
        "taskiq_latency_p99_ms",
    ),
)


def expect_taskiq(results: Results) -> None:
    """The taskiq-nats rows: shown as "not measured" if taskiq-nats is missing or failed."""
    results.expect("taskiq_drain", label=TASKIQ_DRAIN)
    results.expect("taskiq_latency_p50_ms", label=f"{TASKIQ_LATENCY} p50")
    results.expect("taskiq_latency_p99_ms", label=f"{TASKIQ_LATENCY} p99")


def _figure(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}" if unit == "msg/s" else f"{value:.3f} {unit}"


def render_table(results: Results, header: str) -> str:
    """The figures (medians, with the spread of the repetitions) and the targets."""
    lines = [header, ""]
    labels = [*results.labels.values(), *results.expected.values()]
    width = max((len(label) for label in labels), default=10) + 2
    lines.append(f"{'measurement':<{width}}{'median':>16}   runs")
    for name, values in results.runs.items():
        unit = results.units[name]
        spread = ", ".join(_figure(v, unit).split()[0] for v in values)
        lines.append(f"{results.labels[name]:<{width}}{_figure(results.median(name), unit):>16}   {spread}")
    for name, label in results.expected.items():
        if name not in results.runs:
            lines.append(f"{label:<{width}}{'not measured':>16}")
    lines += ["", f"{'target':<46}{'value':>10}  {'wanted':>9}  verdict"]
    for target in TARGETS:
        value = target.value(results)
        shown = "n/a" if value is None else f"{value:.3f}"
        verdict = "not measured" if value is None else ("pass" if target.met(value) else "MISS")
        lines.append(f"{target.label:<46}{shown:>10}  {target.describe():>9}  {verdict}")
    return "\n".join(lines)


def _verdict(target: Target, results: Results) -> dict[str, Any]:
    value = target.value(results)
    return {
        "label": target.label,
        "value": value,
        "limit": target.limit,
        "at_least": target.at_least,
        "pass": None if value is None else target.met(value),
    }


def to_json(results: Results, meta: dict[str, Any], path: Path) -> None:
    """Write every figure, the medians and the target verdicts to ``path``."""
    data = {
        "meta": meta,
        "results": {
            name: {
                "label": results.labels[name],
                "unit": results.units[name],
                "median": results.median(name),
                "runs": values,
            }
            for name, values in results.runs.items()
        },
        "targets": {target.name: _verdict(target, results) for target in TARGETS},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
