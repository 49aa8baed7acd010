"""Every hookspec is exercised here, through the ``Hooks`` facade core code uses.

Each test registers a throwaway plugin with ``new_plugin_manager(load_entrypoints=False,
plugins=[...])``. The lifecycle hooks run a real Queue and Worker against the session's
nats-server. ``test_every_hookspec_is_exercised`` fails when a hook is added without a test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import click
import pytest
from click.testing import CliRunner
from support import ListSink

import naq_json_serializer
from naq_core import Job, JobFailedError, Outcome, Queue, Worker, hookimpl, task
from naq_core.config import Config, load_config
from naq_core.errors import ConfigurationError, PluginError, UnknownSerializerError
from naq_core.panels import Panel
from naq_core.plugins import Hooks, new_plugin_manager, reset_plugin_manager
from naq_core.shutdown import ShutdownPolicy

F = TypeVar("F", bound=Callable[..., Any])

EXERCISED: set[str] = set()


def exercises(*hooks: str) -> Callable[[F], F]:
    """Mark a test as the one that exercises ``hooks``."""
    EXERCISED.update(hooks)

    def mark(test: F) -> F:
        return test

    return mark


def hooks_with(*plugins: object) -> Hooks:
    return Hooks(new_plugin_manager(load_entrypoints=False, plugins=plugins))


def bare_config(**overrides: Any) -> Config:
    return load_config(search=False, env={}, overrides=overrides)


@pytest.fixture
def reset_hooks() -> Callable[..., Hooks]:
    """Install a process-wide manager for one test (conftest restores the previous one)."""

    def install(*plugins: object) -> Hooks:
        pm = new_plugin_manager(load_entrypoints=False, plugins=[naq_json_serializer, *plugins])
        reset_plugin_manager(pm)
        return Hooks(pm)

    return install


# --- the plugin manager ------------------------------------------------------------------


def test_every_hookspec_is_exercised() -> None:
    pm = new_plugin_manager(load_entrypoints=False)
    specs = {name for name in dir(pm.hook) if name.startswith("naq_")}
    assert specs - EXERCISED == set(), "hookspecs without a test in test_hookspecs.py"
    assert EXERCISED - specs == set(), "tests claim hooks that do not exist"


# --- serializers ---------------------------------------------------------------------------


class Reversed:
    """A throwaway serializer: reversed UTF-8 of repr (enough for the facade)."""

    name = "reversed"
    content_type = "text/plain"
    unsafe = False

    def dumps(self, value: Any) -> bytes:
        return repr(value).encode()[::-1]

    def loads(self, data: bytes) -> Any:
        return data[::-1].decode()


@exercises("naq_register_serializers")
def test_serializers_register_and_look_up_by_name() -> None:
    serializer = Reversed()

    class Plugin:
        @hookimpl
        def naq_register_serializers(self, register: Callable[[Any], None]) -> None:
            register(serializer)

    hooks = hooks_with(Plugin(), naq_json_serializer)
    config = bare_config()
    assert hooks.serializer("reversed", config=config) is serializer
    assert sorted(hooks.serializers(config=config)) == ["json", "reversed"]
    with pytest.raises(UnknownSerializerError, match=r"'yaml'.*installed serializers: json, reversed"):
        hooks.serializer("yaml", config=config)


def test_a_serializer_registered_with_capitals_is_found_by_any_case() -> None:
    serializer = Reversed()
    serializer.name = "MsgPack"

    class Plugin:
        @hookimpl
        def naq_register_serializers(self, register: Callable[[Any], None]) -> None:
            register(serializer)

    hooks = hooks_with(Plugin())
    config = bare_config()
    assert hooks.serializer("msgpack", config=config) is serializer  # NAQ_SERIALIZER=MsgPack reads so
    assert hooks.serializer("MsgPack", config=config) is serializer


def test_unknown_serializer_without_any_installed_says_what_to_install() -> None:
    with pytest.raises(UnknownSerializerError, match="none \\(pip install naq-json-serializer\\)"):
        hooks_with().serializer("json", config=bare_config())


def test_two_serializers_with_one_name_are_an_error() -> None:
    class Twice:
        @hookimpl
        def naq_register_serializers(self, register: Callable[[Any], None]) -> None:
            register(Reversed())
            register(Reversed())

    with pytest.raises(PluginError, match="'reversed'"):
        hooks_with(Twice()).serializers(config=bare_config())


# --- dead letters ----------------------------------------------------------------------------


@exercises("naq_register_dead_letter_sinks")
def test_dead_letter_sinks_come_from_every_plugin() -> None:
    first, second = ListSink(), ListSink()

    class One:
        @hookimpl
        def naq_register_dead_letter_sinks(self, register: Callable[[Any], None]) -> None:
            register(first)

    class Two:
        @hookimpl
        def naq_register_dead_letter_sinks(self, register: Callable[[Any], None]) -> None:
            register(second)

    config = bare_config()
    worker = Worker("q", config=config, install_signal_handlers=False)
    sinks = hooks_with(One(), Two()).dead_letter_sinks(config=config, worker=worker)
    assert sorted(map(id, sinks)) == sorted([id(first), id(second)])
    assert hooks_with().dead_letter_sinks(config=config, worker=worker) == []


# --- dashboard and CLI ---------------------------------------------------------------------


@exercises("naq_register_dashboard_panels")
def test_dashboard_panels_from_every_plugin_in_navigation_order() -> None:
    seen: list[Config] = []

    class DeadLetters:
        @hookimpl
        def naq_register_dashboard_panels(self, register: Callable[[Panel], None], config: Config) -> None:
            seen.append(config)
            register(Panel(name="dead-letters", title="Dead letters", routes=["route"], order=50))

    class Metrics:
        @hookimpl
        def naq_register_dashboard_panels(self, register: Callable[[Panel], None]) -> None:
            register(Panel(name="metrics", title="Metrics", templates="naq_metrics"))
            register(Panel(name="latency", title="Latency"))

    config = bare_config()
    panels = hooks_with(Metrics(), DeadLetters()).dashboard_panels(config=config)
    assert [p.name for p in panels] == ["dead-letters", "latency", "metrics"]
    assert panels[0].routes == ("route",)
    assert panels[2].templates == "naq_metrics"
    assert seen == [config]
    assert hooks_with().dashboard_panels(config=config) == []


def test_two_panels_with_one_name_or_a_non_panel_are_errors() -> None:
    class Twice:
        @hookimpl
        def naq_register_dashboard_panels(self, register: Callable[[Any], None]) -> None:
            register(Panel(name="jobs", title="Jobs"))
            register(Panel(name="jobs", title="Jobs again"))

    class NotAPanel:
        @hookimpl
        def naq_register_dashboard_panels(self, register: Callable[[Any], None]) -> None:
            register({"name": "jobs"})

    with pytest.raises(PluginError, match="two plugins register the dashboard panel 'jobs'"):
        hooks_with(Twice()).dashboard_panels(config=bare_config())
    with pytest.raises(PluginError, match=r"must be a naq_core\.panels\.Panel"):
        hooks_with(NotAPanel()).dashboard_panels(config=bare_config())


def test_a_panel_name_is_a_url_slug() -> None:
    with pytest.raises(ValueError, match="name"):
        Panel(name="Dead letters", title="Dead letters")


@exercises("naq_register_commands")
def test_register_commands_adds_a_command_to_a_click_group() -> None:
    @click.command()
    @click.argument("who")
    def hello(who: str) -> None:
        click.echo(f"hello {who}")

    class Plugin:
        @hookimpl
        def naq_register_commands(self, cli: click.Group) -> None:
            cli.add_command(hello)

    group = click.Group("naq")
    hooks_with(Plugin()).register_commands(cli=group)
    assert group.commands["hello"] is hello
    result = CliRunner().invoke(group, ["hello", "plugins"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello plugins\n"


# --- shutdown and destructive actions ------------------------------------------------------


@exercises("naq_shutdown_policy")
def test_shutdown_policy_builtin_uses_config_and_a_plugin_wins() -> None:
    config = bare_config(shutdown_timeout=7)
    worker = Worker("q", config=config, install_signal_handlers=False)
    assert hooks_with().shutdown_policy(worker=worker, config=config) == ShutdownPolicy(grace=7.0)

    seen: list[tuple[Worker, Config]] = []

    class Patient:
        @hookimpl
        def naq_shutdown_policy(self, worker: Worker, config: Config) -> ShutdownPolicy:
            seen.append((worker, config))
            return ShutdownPolicy(grace=None)

    class Defers:
        @hookimpl
        def naq_shutdown_policy(self, worker: Worker, config: Config) -> None:
            return None

    assert hooks_with(Patient()).shutdown_policy(worker=worker, config=config) == ShutdownPolicy(grace=None)
    assert seen == [(worker, config)]
    assert hooks_with(Defers()).shutdown_policy(worker=worker, config=config).grace == 7.0


@exercises("naq_confirm_destructive")
def test_confirm_destructive_defaults_to_yes_and_a_refusal_wins() -> None:
    asked: list[tuple[str, str, int | None, bool]] = []

    class Defers:
        @hookimpl
        def naq_confirm_destructive(self, action: str, target: str, count: int | None, force: bool) -> None:
            asked.append((action, target, count, force))

    class Refuses:
        @hookimpl
        def naq_confirm_destructive(self, action: str, force: bool) -> bool | None:
            return None if force else False

    args: dict[str, Any] = {"action": "purge", "target": "emails", "count": 3, "force": False}
    assert hooks_with().confirm_destructive(**args) is True
    assert hooks_with(Defers()).confirm_destructive(**args) is True
    assert asked == [("purge", "emails", 3, False)]
    assert hooks_with(Defers(), Refuses()).confirm_destructive(**args) is False
    assert hooks_with(Refuses(), Defers()).confirm_destructive(**args) is False
    assert hooks_with(Refuses()).confirm_destructive(**{**args, "force": True}) is True


@exercises("naq_redact_arguments")
def test_redact_arguments_first_answer_wins_and_a_failure_hides_everything() -> None:
    class Hides:
        @hookimpl
        def naq_redact_arguments(self, function: str | None, args: list[Any], kwargs: dict[str, Any]) -> Any:
            if function != "billing:charge":
                return None
            return ["<card>" for _ in args], {k: "<hidden>" for k in kwargs}

    class Fails:
        @hookimpl
        def naq_redact_arguments(self, function: str | None) -> Any:
            raise RuntimeError("redactor bug")

    call: dict[str, Any] = {"function": "billing:charge", "args": ["4111"], "kwargs": {"cvc": "123"}}
    assert hooks_with().redact_arguments(**call) == (["4111"], {"cvc": "123"})
    assert hooks_with(Hides()).redact_arguments(**call) == (["<card>"], {"cvc": "<hidden>"})
    other = {**call, "function": "mail:send"}
    assert hooks_with(Hides()).redact_arguments(**other) == (["4111"], {"cvc": "123"})
    assert hooks_with(Fails()).redact_arguments(**call) == (["<hidden: redactor failed>"], {})


# --- lifecycle: a real Queue and Worker --------------------------------------------------------


@task
async def lifecycle_ok(x: int) -> int:
    return x * 2


@task
def lifecycle_fails() -> None:
    raise RuntimeError("nope")


class SyncRecorder:
    """Records every lifecycle call with plain functions."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    @hookimpl
    def naq_job_enqueued(self, job: Job) -> None:
        self.calls.append(("enqueued", job.job_id))

    @hookimpl
    def naq_job_started(self, job: Job, worker_id: str) -> None:
        self.calls.append(("started", job.job_id, job.attempt, worker_id))

    @hookimpl
    def naq_job_finished(self, job: Job, outcome: Outcome, worker_id: str) -> None:
        self.calls.append(("finished", job.job_id, job.attempt, outcome.status.value, worker_id))

    @hookimpl
    def naq_worker_started(self, worker: Worker) -> None:
        self.calls.append(("worker_started", worker.worker_id, worker.status))

    @hookimpl
    def naq_worker_stopped(self, worker: Worker) -> None:
        self.calls.append(("worker_stopped", worker.worker_id, worker.status))


class AsyncRecorder(SyncRecorder):
    """The same records, from coroutine functions (naq awaits them)."""

    @hookimpl
    async def naq_job_enqueued(self, job: Job) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self.calls.append(("enqueued", job.job_id))

    @hookimpl
    async def naq_job_started(self, job: Job, worker_id: str) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self.calls.append(("started", job.job_id, job.attempt, worker_id))

    @hookimpl
    async def naq_job_finished(self, job: Job, outcome: Outcome, worker_id: str) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self.calls.append(("finished", job.job_id, job.attempt, outcome.status.value, worker_id))

    @hookimpl
    async def naq_worker_started(self, worker: Worker) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self.calls.append(("worker_started", worker.worker_id, worker.status))

    @hookimpl
    async def naq_worker_stopped(self, worker: Worker) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self.calls.append(("worker_stopped", worker.worker_id, worker.status))


def _count(recorder: SyncRecorder, kind: str) -> int:
    return sum(1 for call in recorder.calls if call[0] == kind)


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


@exercises(
    "naq_job_enqueued", "naq_job_started", "naq_job_finished", "naq_worker_started", "naq_worker_stopped"
)
async def test_lifecycle_hooks_see_jobs_and_outcomes(
    nats_url: str, queue_name: str, reset_hooks: Callable[..., Hooks]
) -> None:
    plain, coroutines = SyncRecorder(), AsyncRecorder()
    reset_hooks(plain, coroutines)
    worker = Worker(queue_name, nats_url, install_signal_handlers=False, concurrency=4)
    running = asyncio.create_task(worker.run())
    try:
        both = (plain, coroutines)
        await _until(lambda: all(_count(r, "worker_started") for r in both) or running.done(), timeout=15)
        assert not running.done(), running
        async with Queue(queue_name, nats_url) as queue:
            ok = await queue.enqueue(lifecycle_ok, 21)
            bad = await queue.enqueue(lifecycle_fails, max_retries=1, retry_delay=0.05)
            many = await queue.enqueue_many([(lifecycle_ok, (1,)), (lifecycle_ok, (2,))])
            assert await queue.fetch_job_result(ok, timeout=10) == 42
            assert [await queue.fetch_job_result(j, timeout=10) for j in many] == [2, 4]
            with pytest.raises(JobFailedError, match="RuntimeError: nope"):
                await queue.fetch_job_result(bad, timeout=10)
        ids = [ok.job_id, bad.job_id, *(j.job_id for j in many)]
        await _until(lambda: _count(plain, "finished") == 5 and _count(coroutines, "finished") == 5)
    finally:
        worker.request_stop()
        await asyncio.wait_for(running, timeout=30)

    for recorder in (plain, coroutines):
        calls = recorder.calls
        assert calls[0] == ("worker_started", worker.worker_id, "running")
        assert calls[-1] == ("worker_stopped", worker.worker_id, "stopped")
        assert [c[1] for c in calls if c[0] == "enqueued"] == ids
        started = sorted(c[1:] for c in calls if c[0] == "started")
        assert started == sorted(
            [
                (ok.job_id, 1, worker.worker_id),
                (bad.job_id, 1, worker.worker_id),
                (bad.job_id, 2, worker.worker_id),
                *((j.job_id, 1, worker.worker_id) for j in many),
            ]
        )
        outcomes = sorted(c[1:] for c in calls if c[0] == "finished")
        assert outcomes == sorted(
            [
                (ok.job_id, 1, "completed", worker.worker_id),
                (bad.job_id, 1, "retrying", worker.worker_id),
                (bad.job_id, 2, "failed", worker.worker_id),
                *((j.job_id, 1, "completed", worker.worker_id) for j in many),
            ]
        )
    assert sorted(plain.calls) == sorted(coroutines.calls)


class HeaderTagger:
    """Adds a header per job at enqueue and records the headers each attempt arrives with."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, str]] = {}

    @hookimpl
    def naq_job_headers(self, job: Job) -> dict[str, str]:
        return {"X-Tag": f"tag-{job.job_id}", "Nats-Msg-Id": "not-ours"}

    @hookimpl
    def naq_job_finished(self, job: Job) -> None:
        self.seen[job.job_id] = dict(job.headers)


@exercises("naq_job_headers")
async def test_job_headers_travel_with_the_message_to_the_worker(
    nats_url: str, queue_name: str, reset_hooks: Callable[..., Hooks]
) -> None:
    class Broken:
        @hookimpl
        def naq_job_headers(self) -> Any:
            return {"X-Bad": "two\r\nlines"}

    job = Job(function="m:f")
    assert not hooks_with().headers_active() and hooks_with().job_headers(job=job) == {}
    with pytest.raises(PluginError, match="naq_job_headers must return"):
        hooks_with(Broken()).job_headers(job=job)

    tagger = HeaderTagger()
    reset_hooks(tagger)
    async with Queue(queue_name, nats_url) as queue:
        first = await queue.enqueue(lifecycle_ok, 1)
        after = await queue.enqueue(lifecycle_ok, 2, depends_on=first)  # held, then published
        many = await queue.enqueue_many([(lifecycle_ok, (3,))])
        worker = Worker(queue_name, nats_url, install_signal_handlers=False)
        running = asyncio.create_task(worker.run())
        try:
            jobs = [first, after, *many]
            assert [await queue.fetch_job_result(j, timeout=10) for j in jobs] == [2, 4, 6]
            await _until(lambda: len(tagger.seen) == 3)
        finally:
            worker.request_stop()
            await asyncio.wait_for(running, timeout=30)
    for job in jobs:
        headers = tagger.seen[job.job_id]
        assert headers["X-Tag"] == f"tag-{job.job_id}"
        assert headers["Nats-Msg-Id"] == f"{queue_name}/{job.job_id}"  # naq's own header wins
    assert first.headers == {}  # the producer's job carries none


# --- configuration -------------------------------------------------------------------------


@exercises("naq_plugin_settings")
def test_plugin_settings_declare_a_table_that_load_config_validates(
    reset_hooks: Callable[..., Hooks],
) -> None:
    import attrs

    @attrs.frozen(kw_only=True)
    class Limits:
        burst: int = 5

    class Declares:
        @hookimpl
        def naq_plugin_settings(self, register: Callable[[str, type], None]) -> None:
            register("limits", Limits)

    reset_hooks(Declares())
    assert bare_config().plugin_settings("limits") == Limits(burst=5)
    assert load_config(search=False, env={"NAQ_LIMITS_BURST": "9"}).plugin_settings("limits") == Limits(
        burst=9
    )
    with pytest.raises(
        ConfigurationError, match=r"^limits\.burst: expected a whole number, got 'x' \(NAQ_LIMITS_BURST\)$"
    ):
        load_config(search=False, env={"NAQ_LIMITS_BURST": "x"})
