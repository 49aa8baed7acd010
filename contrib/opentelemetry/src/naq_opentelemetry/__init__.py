"""naq-opentelemetry: OpenTelemetry spans for naq jobs, joined across NATS by W3C trace context.

Built only on naq's public hooks (``naq_job_headers``, ``naq_job_enqueued``,
``naq_job_started``, ``naq_job_finished``). Registered through the ``naq`` entry point
``opentelemetry``, which loads :data:`plugin`; spans go to OpenTelemetry's global tracer
provider. To send them elsewhere (tests, several providers), register your own
:class:`TracingPlugin` instead (``naq_core.testing.only_plugins(TracingPlugin(...))``).
"""

from __future__ import annotations

__version__ = "0.2.0"

from naq_opentelemetry.tracing import ATTEMPT, FUNCTION, JOB_ID, MESSAGING_SYSTEM, OUTCOME, TracingPlugin

__all__ = [
    "ATTEMPT",
    "FUNCTION",
    "JOB_ID",
    "MESSAGING_SYSTEM",
    "OUTCOME",
    "TracingPlugin",
    "__version__",
    "plugin",
]

#: The plugin object the ``naq`` entry point registers (global tracer provider).
plugin = TracingPlugin()
