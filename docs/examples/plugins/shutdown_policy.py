"""naq-long-jobs: workers of the listed queues wait for their jobs for as long as they take."""

from __future__ import annotations

from collections.abc import Callable

from attrs import field, frozen

from naq_core import Config, ShutdownPolicy, Worker, hookimpl


@frozen(kw_only=True)
class LongJobsSettings:
    queues: list[str] = field(factory=list)  # [tool.naq.long_jobs] queues = ["reports"]


@hookimpl
def naq_plugin_settings(register: Callable[[str, type], None]) -> None:
    register("long_jobs", LongJobsSettings)


@hookimpl
def naq_shutdown_policy(worker: Worker, config: Config) -> ShutdownPolicy | None:
    settings: LongJobsSettings = config.plugin_settings("long_jobs")
    if set(worker.queues) & set(settings.queues):
        return ShutdownPolicy(grace=None)  # wait for ever: never cancel a report half-way
    return None  # defer: the next plugin, or naq's default (shutdown_timeout seconds)
