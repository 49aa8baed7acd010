"""Plugin discovery: entry points of group ``naq``, the NAQ_LOAD_PLUGINS allow-list."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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
