"""The tracing plugin: spans for enqueue (``PRODUCER``) and for each attempt (``CONSUMER``).

Hooks used, all public (``naq_core.hookspecs``):

- ``naq_job_headers`` (producer, before the publish): starts the ``send <queue>`` span as a
  child of whatever span is current, and returns its W3C trace context (``traceparent``,
  ``tracestate``) as message headers;
- ``naq_job_enqueued`` (producer, after the server's ack): ends that span;
- ``naq_job_started`` (worker, before the task): extracts the trace context from
  ``job.headers``, starts the ``process <queue>`` span as its child and makes it current for
  the rest of the attempt (an ``async`` task's own spans nest under it);
- ``naq_job_finished`` (worker, after the outcome was recorded): sets the outcome, error
  status and ``exception`` event on a failure, and ends the span.

A span whose closing hook never comes (a publish that failed, a duplicate, an attempt
cancelled at shutdown) stays pending until ``max_pending`` newer ones push it out; it is then
ended with ``naq.span.abandoned = true``, so memory stays bounded.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from contextvars import Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from naq_core import Job, JobStatus, Outcome, hookimpl

__all__ = [
    "ATTEMPT",
    "FUNCTION",
    "JOB_ID",
    "MESSAGING_SYSTEM",
    "OUTCOME",
    "TracingPlugin",
]

MESSAGING_SYSTEM = "nats"
#: naq's own span attributes (the ``messaging.*`` ones follow OpenTelemetry's conventions).
JOB_ID = "naq.job.id"
FUNCTION = "naq.job.function"
ATTEMPT = "naq.job.attempt"
OUTCOME = "naq.job.outcome"
RETRY_IN = "naq.job.retry_in"
ABANDONED = "naq.span.abandoned"
_FAILED = frozenset({JobStatus.FAILED, JobStatus.RETRYING})
#: What ``trace.get_tracer_provider()`` is while the application has configured none.
_NO_OP_PROVIDERS = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
#: Seconds between looks at the global tracer provider while none is set.
_PROVIDER_CHECK_EVERY = 1.0


class _Pending:
    """Open spans by key, at most ``limit``: the oldest is ended when a new one does not fit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._spans: OrderedDict[Hashable, tuple[Span, Token[otel_context.Context] | None]] = OrderedDict()
        self._lock = threading.Lock()  # producers may enqueue from several threads

    def add(self, key: Hashable, span: Span, token: Token[otel_context.Context] | None = None) -> None:
        with self._lock:
            old = self._spans.pop(key, None)
            self._spans[key] = (span, token)
            evicted = [self._spans.popitem(last=False)[1][0] for _ in range(len(self._spans) - self.limit)]
        for stale in [*evicted, *([old[0]] if old else [])]:
            stale.set_attribute(ABANDONED, True)
            stale.end()

    def pop(self, key: Hashable) -> tuple[Span, Token[otel_context.Context] | None] | None:
        with self._lock:
            return self._spans.pop(key, None)

    def __len__(self) -> int:
        return len(self._spans)


def _job_attributes(job: Job) -> dict[str, Any]:
    return {
        "messaging.system": MESSAGING_SYSTEM,
        "messaging.destination.name": job.queue_name,
        "messaging.message.id": job.job_id,
        JOB_ID: job.job_id,
        FUNCTION: job.function,
    }


class TracingPlugin:
    """The naq plugin object; ``naq_opentelemetry.plugin`` is the one the entry point loads.

    ``tracer_provider``: where spans go; ``None`` (the default) uses OpenTelemetry's global
    provider, set by the application (``trace.set_tracer_provider``) or by
    ``opentelemetry-instrument``. With none configured every span is a no-op and nothing
    is added to messages beyond a trace context that was already current.

    ``propagator``: how the context is written into and read from headers; ``None`` uses the
    global one (``OTEL_PROPAGATORS``, by default W3C trace context and baggage).

    ``max_pending``: how many spans may wait for their closing hook (see the module).
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        propagator: TextMapPropagator | None = None,
        max_pending: int = 10_000,
    ) -> None:
        from naq_opentelemetry import __version__

        self._tracer = trace.get_tracer(__name__, __version__, tracer_provider=tracer_provider)
        self._provider_seen = tracer_provider is not None  # spans can record from now on
        self._next_provider_check = 0.0  # time.monotonic() of the next look at the global one
        self._propagator = propagator
        self.producing = _Pending(max_pending)
        self.consuming = _Pending(max_pending)

    def _inject(self, carrier: dict[str, str], ctx: otel_context.Context) -> None:
        (self._propagator or propagate.get_global_textmap()).inject(carrier, context=ctx)

    def _extract(self, headers: Any) -> otel_context.Context:
        return (self._propagator or propagate.get_global_textmap()).extract(dict(headers))

    # --- producer -----------------------------------------------------------------------

    @hookimpl
    def naq_job_headers(self, job: Job) -> dict[str, str] | None:
        span = self._tracer.start_span(
            f"send {job.queue_name}",
            kind=SpanKind.PRODUCER,
            attributes={
                **_job_attributes(job),
                "messaging.operation.type": "send",
                "messaging.operation.name": "send",
            },
        )
        carrier: dict[str, str] = {}
        self._inject(carrier, trace.set_span_in_context(span))
        if span.is_recording():
            self.producing.add((job.queue_name, job.job_id), span)
        return carrier or None

    @hookimpl
    def naq_job_enqueued(self, job: Job) -> None:
        pending = self.producing.pop((job.queue_name, job.job_id))
        if pending is not None:
            pending[0].end()

    # --- worker -------------------------------------------------------------------------

    def _recording_impossible(self) -> bool:
        """No tracer provider is configured (yet): every span would be a no-op one.

        Asking OpenTelemetry reads the environment each time, so the global provider is
        looked at once a second until one is set (then never again: it is set once)."""
        if self._provider_seen:
            return False
        now = time.monotonic()
        if now < self._next_provider_check:
            return True
        self._next_provider_check = now + _PROVIDER_CHECK_EVERY
        self._provider_seen = not isinstance(trace.get_tracer_provider(), _NO_OP_PROVIDERS)
        return not self._provider_seen

    @hookimpl
    def naq_job_started(self, job: Job, worker_id: str) -> None:
        if self._recording_impossible():  # skip extracting and building a no-op span per job
            return
        span = self._tracer.start_span(
            f"process {job.queue_name}",
            context=self._extract(job.headers),
            kind=SpanKind.CONSUMER,
            attributes={
                **_job_attributes(job),
                "messaging.operation.type": "process",
                "messaging.operation.name": "process",
                "messaging.client.id": worker_id,
                ATTEMPT: job.attempt,
            },
        )
        if not span.is_recording():
            return
        # Current for the rest of this attempt: the worker runs the task in the same asyncio
        # task as this hook, so the task's own spans become children of this one.
        token = otel_context.attach(trace.set_span_in_context(span))
        self.consuming.add((worker_id, job.queue_name, job.job_id, job.attempt), span, token)

    @hookimpl
    def naq_job_finished(self, job: Job, outcome: Outcome, worker_id: str) -> None:
        pending = self.consuming.pop((worker_id, job.queue_name, job.job_id, job.attempt))
        if pending is None:
            return
        span, token = pending
        try:
            span.set_attribute(OUTCOME, outcome.status.value)
            if outcome.status in _FAILED:
                error_type = outcome.error_type or "Exception"
                span.set_attribute("error.type", error_type)
                if outcome.retry_in is not None:
                    span.set_attribute(RETRY_IN, outcome.retry_in)
                span.add_event(
                    "exception",
                    {
                        "exception.type": error_type,
                        "exception.message": outcome.error or "",
                        "exception.stacktrace": outcome.traceback or "",
                    },
                )
                span.set_status(Status(StatusCode.ERROR, f"{error_type}: {outcome.error or ''}"))
            span.end()
        finally:
            if token is not None:  # a token of another context is logged by OpenTelemetry
                otel_context.detach(token)
