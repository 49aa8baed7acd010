"""naq-opentelemetry across a real producer -> NATS -> worker round trip, spans in memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import naq_json_serializer
import naq_opentelemetry
from naq_core import Job, JobFailedError, Queue, hookimpl, task
from naq_core.testing import only_plugins
from naq_core.testing.worker import running_worker, wait_until
from naq_opentelemetry import TracingPlugin

#: What ``traced_child`` saw as the current span inside a running job: (trace id, span id).
seen_inside: list[tuple[int, int]] = []


@task
async def traced_child(x: int) -> int:
    context = trace.get_current_span().get_span_context()
    seen_inside.append((context.trace_id, context.span_id))
    return x * 2


@task
def always_fails() -> None:
    raise RuntimeError("boom")


class HeaderRecorder:
    """The headers each finished attempt arrived with, by job id."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, str]] = {}

    @hookimpl
    def naq_job_finished(self, job: Job) -> None:
        self.seen[job.job_id] = dict(job.headers)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
def queue() -> str:
    return f"otel-{uuid.uuid4().hex[:8]}"


def _spans(exporter: InMemorySpanExporter, kind: SpanKind, job_id: str) -> list[ReadableSpan]:
    found = [s for s in exporter.get_finished_spans() if s.kind is kind]
    return [s for s in found if s.attributes and s.attributes.get("naq.job.id") == job_id]


def _parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_the_job_span_joins_the_producer_trace(
    nats_url: str, queue: str, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    seen_inside.clear()
    with only_plugins(naq_json_serializer, TracingPlugin(tracer_provider=provider)):
        async with Queue(queue, nats_url) as q, running_worker(nats_url, queue, tasks=[]) as worker:
            with provider.get_tracer("app").start_as_current_span("request") as request:
                job = await q.enqueue(traced_child, 21)
            assert await q.fetch_job_result(job, timeout=10) == 42
            await wait_until(lambda: _spans(exporter, SpanKind.CONSUMER, job.job_id), timeout=10)

    [send] = _spans(exporter, SpanKind.PRODUCER, job.job_id)
    [process] = _spans(exporter, SpanKind.CONSUMER, job.job_id)
    request_context = request.get_span_context()
    assert send.name == f"send {queue}"
    assert send.context.trace_id == request_context.trace_id
    assert _parent_id(send) == request_context.span_id  # the enqueue is part of the request
    assert process.name == f"process {queue}"
    assert process.context.trace_id == send.context.trace_id
    assert _parent_id(process) == send.context.span_id  # across NATS, by traceparent
    assert dict(send.attributes or {}) == {
        "messaging.system": "nats",
        "messaging.destination.name": queue,
        "messaging.message.id": job.job_id,
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "naq.job.id": job.job_id,
        "naq.job.function": job.function,
    }
    attributes = dict(process.attributes or {})
    assert attributes["messaging.system"] == "nats"
    assert attributes["messaging.destination.name"] == queue
    assert attributes["messaging.client.id"] == worker.worker_id
    assert attributes["naq.job.function"] == job.function
    assert (attributes["naq.job.attempt"], attributes["naq.job.outcome"]) == (1, "completed")
    assert process.status.status_code is StatusCode.UNSET
    # the async task ran with the job's span current: its own spans nest under it
    assert seen_inside == [(process.context.trace_id, process.context.span_id)]


async def test_a_failing_job_has_an_error_span_per_attempt(
    nats_url: str, queue: str, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    with only_plugins(naq_json_serializer, TracingPlugin(tracer_provider=provider)):
        async with Queue(queue, nats_url) as q, running_worker(nats_url, queue, tasks=[]):
            job = await q.enqueue(always_fails, max_retries=1, retry_delay=0.05)
            with pytest.raises(JobFailedError, match="RuntimeError: boom"):
                await q.fetch_job_result(job, timeout=10)
            await wait_until(lambda: len(_spans(exporter, SpanKind.CONSUMER, job.job_id)) == 2, timeout=10)

    [send] = _spans(exporter, SpanKind.PRODUCER, job.job_id)
    attempts = sorted(_spans(exporter, SpanKind.CONSUMER, job.job_id), key=lambda s: s.start_time or 0)
    outcomes = [
        ((s.attributes or {})["naq.job.attempt"], (s.attributes or {})["naq.job.outcome"]) for s in attempts
    ]
    assert outcomes == [(1, "retrying"), (2, "failed")]
    for span in attempts:
        assert _parent_id(span) == send.context.span_id and span.context.trace_id == send.context.trace_id
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "RuntimeError: boom"
        assert (span.attributes or {})["error.type"] == "RuntimeError"
        [event] = span.events
        assert event.name == "exception"
        assert (event.attributes or {})["exception.message"] == "boom"
        assert "RuntimeError" in str((event.attributes or {})["exception.stacktrace"])
    assert (attempts[0].attributes or {})["naq.job.retry_in"] == pytest.approx(0.05)


async def test_enqueue_many_gives_each_job_its_own_trace_parent(
    nats_url: str, queue: str, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    with only_plugins(naq_json_serializer, TracingPlugin(tracer_provider=provider)):
        async with Queue(queue, nats_url) as q, running_worker(nats_url, queue, tasks=[]):
            jobs = await q.enqueue_many([(traced_child, (1,)), (traced_child, (2,))])
            assert [await q.fetch_job_result(j, timeout=10) for j in jobs] == [2, 4]
            await wait_until(
                lambda: all(_spans(exporter, SpanKind.CONSUMER, j.job_id) for j in jobs), timeout=10
            )
    for job in jobs:
        [send] = _spans(exporter, SpanKind.PRODUCER, job.job_id)
        [process] = _spans(exporter, SpanKind.CONSUMER, job.job_id)
        assert _parent_id(process) == send.context.span_id


async def test_without_a_tracer_provider_jobs_run_and_messages_carry_no_context(
    nats_url: str, queue: str
) -> None:
    # the precondition: no SDK provider was set globally in this process
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    recorder = HeaderRecorder()
    with only_plugins(naq_json_serializer, TracingPlugin(), recorder):
        async with Queue(queue, nats_url) as q, running_worker(nats_url, queue, tasks=[]):
            job = await q.enqueue(traced_child, 5)
            assert await q.fetch_job_result(job, timeout=10) == 10
            await wait_until(lambda: job.job_id in recorder.seen, timeout=10)
    headers = recorder.seen[job.job_id]
    assert "Nats-Msg-Id" in headers  # the recorder does see the message's headers
    assert "traceparent" not in headers


def test_spans_left_open_are_bounded(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    plugin = TracingPlugin(tracer_provider=provider, max_pending=2)
    jobs = [Job(function="m:f", queue_name="q") for _ in range(3)]
    headers = [plugin.naq_job_headers(job) for job in jobs]  # never enqueued (a failed publish)
    assert all(h is not None and h["traceparent"].startswith("00-") for h in headers)
    assert len(plugin.producing) == 2
    [abandoned] = exporter.get_finished_spans()
    assert (abandoned.attributes or {})["naq.job.id"] == jobs[0].job_id
    assert (abandoned.attributes or {})["naq.span.abandoned"] is True
    plugin.naq_job_enqueued(jobs[2])
    assert len(plugin.producing) == 1 and len(exporter.get_finished_spans()) == 2


def test_naq_plugins_lists_it(tmp_path: Path) -> None:
    env = {**os.environ, "NAQ_LOAD_PLUGINS": "opentelemetry"}
    out = subprocess.run(
        [sys.executable, "-c", "from naq_core.cli import main; main()", "--plugins", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=True,
    ).stdout
    rows: list[dict[str, Any]] = json.loads(out)
    [row] = [r for r in rows if r["name"] == "opentelemetry"]
    assert row["distribution"] == "naq-opentelemetry" and row["version"] == naq_opentelemetry.__version__
    assert row["hooks"] == ["naq_job_enqueued", "naq_job_finished", "naq_job_headers", "naq_job_started"]


_SET_LATER = """
import time
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from naq_core import Job, JobStatus, Outcome
from naq_opentelemetry import TracingPlugin

plugin = TracingPlugin()
job = Job(function="m:f", queue_name="q")
done = Outcome(status=JobStatus.COMPLETED, duration=0.0)
plugin.naq_job_started(job, "w")
before = len(plugin.consuming)
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)  # the application configures tracing after start-up
for _ in range(200):  # bounded: the plugin looks at the global provider once a second
    plugin.naq_job_started(job, "w")
    plugin.naq_job_finished(job, done, "w")
    if exporter.get_finished_spans():
        break
    time.sleep(0.05)
print(before, len(exporter.get_finished_spans()))
"""


def test_a_global_tracer_provider_set_after_start_up_is_picked_up(tmp_path: Path) -> None:
    """Without a provider the worker's hook skips building no-op spans; a global provider
    set later (once per process, hence a child process) is found and spans record."""
    out = subprocess.run(
        [sys.executable, "-c", _SET_LATER], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "1"]
