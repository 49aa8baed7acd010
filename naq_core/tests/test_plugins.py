"""Plugin discovery (entry points of group ``naq``, the NAQ_LOAD_PLUGINS allow-list) and the
plugin manager's checks (check_pending, hook arguments, list_plugins)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pluggy
import pytest
import structlog

from naq_core import Job, Outcome, Worker, hookimpl
from naq_core.errors import PluginError
from naq_core.plugins import list_plugins, new_plugin_manager
from naq_core.testing.process import write_distribution

PLUGIN_SOURCE = """
from naq_core import hookimpl

class Upper:
    name = "upper"
    content_type = "text/plain"
    unsafe = False
    def dumps(self, value):
        return str(value).upper().encode()
    def loads(self, data):
        return data.decode()

@hookimpl
def naq_register_serializers(register):
    register(Upper())
"""


@pytest.fixture
def installed_plugins(tmp_path: Path) -> Iterator[Path]:
    """Two throwaway distributions with ``naq`` entry points, found by importlib.metadata."""
    (tmp_path / "naq_upper_plugin.py").write_text(PLUGIN_SOURCE)
    (tmp_path / "naq_broken_plugin.py").write_text("raise RuntimeError('broken on import')\n")
    write_distribution(tmp_path, "naq-upper", {"upper": "naq_upper_plugin"}, version="1.2.3")
    write_distribution(tmp_path, "naq-broken", {"broken": "naq_broken_plugin"}, version="1.2.3")
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("naq_upper_plugin", "naq_broken_plugin"):
            sys.modules.pop(name, None)


def test_allow_list_loads_only_named_plugins(
    installed_plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAQ_LOAD_PLUGINS", "upper")
    pm = new_plugin_manager()
    assert pm.get_plugin("upper") is not None
    assert pm.get_plugin("broken") is None
    rows = {row["name"]: row for row in list_plugins(pm)}
    assert rows["upper"]["distribution"] == "naq-upper"
    assert rows["upper"]["version"] == "1.2.3"
    assert rows["upper"]["hooks"] == ["naq_register_serializers"]
    assert "naq_shutdown_policy" in rows["naq_core.builtin"]["hooks"]


def test_an_unknown_name_in_the_allow_list_is_a_warning_naming_it(
    installed_plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAQ_LOAD_PLUGINS", "upper, uper")
    with structlog.testing.capture_logs() as logs:
        pm = new_plugin_manager()
    assert pm.get_plugin("upper") is not None
    (warning,) = [entry for entry in logs if entry["event"] == "unknown_plugin"]
    assert warning["log_level"] == "warning"
    assert warning["names"] == ["uper"]
    assert {"upper", "broken"} <= set(warning["installed"])


def test_no_allow_list_loads_every_entry_point_through_pluggy(
    installed_plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (installed_plugins / "naq_broken_plugin.py").write_text("")  # every plugin imports
    monkeypatch.delenv("NAQ_LOAD_PLUGINS", raising=False)
    pm = new_plugin_manager()
    dists = {plugin: dist.project_name for plugin, dist in pm.list_plugin_distinfo()}
    assert dists[pm.get_plugin("upper")] == "naq-upper"
    assert dists[pm.get_plugin("broken")] == "naq-broken"


def test_empty_allow_list_loads_nothing(installed_plugins: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAQ_LOAD_PLUGINS", "")
    pm = new_plugin_manager()
    assert [name for name, _ in pm.list_name_plugin()] == ["naq_core.builtin"]


def test_broken_plugin_is_one_clear_error(installed_plugins: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAQ_LOAD_PLUGINS", "upper,broken")
    with pytest.raises(PluginError, match=r"plugin .broken. .* failed to load: broken on import"):
        new_plugin_manager()


def test_nothing_is_loaded_at_import() -> None:
    code = "import naq_core, naq_core.plugins as p; print(p._hooks is None)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "True"


# --- the plugin manager ------------------------------------------------------------------


def test_check_pending_passes_with_the_builtins() -> None:
    pm = new_plugin_manager(load_entrypoints=False)
    pm.check_pending()
    assert pm.get_plugin("naq_core.builtin") is not None


def test_a_misspelled_hookimpl_fails_check_pending() -> None:
    class Typo:
        @hookimpl
        def naq_job_finishd(self, job: Job, outcome: Outcome) -> None:
            pass

    with pytest.raises(pluggy.PluginValidationError, match="naq_job_finishd"):
        new_plugin_manager(load_entrypoints=False, plugins=[Typo()])


def test_an_unknown_hook_argument_fails_registration() -> None:
    class WrongArgument:
        @hookimpl
        def naq_job_started(self, job: Job, worker: Worker) -> None:
            pass

    with pytest.raises(pluggy.PluginValidationError, match="worker"):
        new_plugin_manager(load_entrypoints=False, plugins=[WrongArgument()])


@pytest.mark.parametrize(
    "hook", ["naq_register_commands", "naq_register_serializers", "naq_confirm_destructive"]
)
def test_async_def_on_a_hook_used_at_once_is_refused(hook: str) -> None:
    async def impl() -> None:
        pass

    plugin = type("AsyncPlugin", (), {hook: staticmethod(hookimpl(impl, specname=hook))})()
    with pytest.raises(PluginError, match=rf"plugin 'async-plugin': {hook} must be a plain function"):
        new_plugin_manager(load_entrypoints=False).register(plugin, name="async-plugin")


def test_a_refused_plugin_is_not_left_registered() -> None:
    class AsyncCommands:
        @hookimpl
        async def naq_register_commands(self) -> None:
            pass

    pm = new_plugin_manager(load_entrypoints=False)
    with pytest.raises(PluginError):
        pm.register(AsyncCommands(), name="async-commands")
    assert pm.get_plugin("async-commands") is None
    assert pm.hook.naq_register_commands.get_hookimpls() == []


def test_an_async_observer_is_accepted_and_an_observer_wrapper_refused() -> None:
    class AsyncObserver:
        @hookimpl
        async def naq_job_enqueued(self, job: Job) -> None:
            pass

    class Wrapper:
        @hookimpl(wrapper=True)
        def naq_job_enqueued(self, job: Job) -> object:
            return (yield)

    pm = new_plugin_manager(load_entrypoints=False, plugins=[AsyncObserver()])
    with pytest.raises(PluginError, match="'wrapper': naq_job_enqueued is an observer hook"):
        pm.register(Wrapper(), name="wrapper")


def test_every_default_is_a_trylast_builtin() -> None:
    pm = new_plugin_manager(load_entrypoints=False)
    builtin = pm.get_plugin("naq_core.builtin")
    for caller in pm.get_hookcallers(builtin) or []:
        (impl,) = [i for i in caller.get_hookimpls() if i.plugin is builtin]
        assert impl.trylast, caller.name
    assert pm.hook.naq_confirm_destructive(action="purge", target="q", count=1, force=False) is True


def test_list_plugins_reports_a_plugins_hooks() -> None:
    class Recorder:
        @hookimpl
        def naq_job_enqueued(self, job: Job) -> None:
            pass

        @hookimpl
        def naq_worker_started(self, worker: Worker) -> None:
            pass

    pm = new_plugin_manager(load_entrypoints=False)
    pm.register(Recorder(), name="recorder")
    rows = {row["name"]: row for row in list_plugins(pm)}
    assert rows["recorder"]["hooks"] == ["naq_job_enqueued", "naq_worker_started"]
    assert rows["naq_core.builtin"]["hooks"] == ["naq_confirm_destructive", "naq_shutdown_policy"]
    assert set(rows["recorder"]) == {"name", "distribution", "version", "hooks"}
