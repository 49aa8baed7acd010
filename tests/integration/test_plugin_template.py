"""contrib/plugin-template works as its README says: copy, rename, install, list, test.

A copy of the template is renamed with its own ``rename.py`` (to ``naq-acme-audit``),
installed into a fresh venv with naq-core and the JSON serializer from this checkout (its
``test`` extra from the package index), listed by that venv's ``naq --plugins --json``, its
settings table shown by ``naq config show --json``, and its own test suite run there, from
the copy's folder (where its ``tests/conftest.py`` is the root conftest).

naq-core and the serializer are installed editable (``venv_support.fresh_venv``), so no
build cache can hand the venv older code than the checkout's.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from venv_support import INSTALL_TIMEOUT, clean_env, fresh_venv, run

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "contrib" / "plugin-template"
NAME = "acme-audit"
RUN_TIMEOUT = 200.0  # seconds for the copied plugin's own test suite
TEMPLATE_SPELLINGS = re.compile(r"plugin[-_]example|PLUGIN_EXAMPLE")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(INSTALL_TIMEOUT + RUN_TIMEOUT + 120)]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A renamed copy of the template (``naq-acme-audit``)."""
    copy = tmp_path_factory.mktemp("template") / f"naq-{NAME}"
    ignore = shutil.ignore_patterns(
        "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "*.egg-info"
    )
    shutil.copytree(TEMPLATE, copy, ignore=ignore)
    out = run([sys.executable, "rename.py", NAME], cwd=copy, timeout=60).stdout
    assert f"renamed to naq-{NAME}" in out
    return copy


@pytest.fixture(scope="module")
def venv_bin(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with naq-core and the JSON serializer of this checkout and the renamed plugin."""
    local = ["-e", f"{ROOT / 'naq_core'}[server]", "-e", str(ROOT / "plugins" / "json-serializer")]
    return fresh_venv(tmp_path_factory.mktemp("venv") / "venv", local, [f"{project}[test]"], cwd=project)


def test_rename_leaves_no_trace_of_the_template_name(project: Path) -> None:
    assert (project / "src" / "naq_acme_audit" / "__init__.py").is_file()
    assert not (project / "src" / "naq_plugin_example").exists()
    left = [
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and path.name != "rename.py" and TEMPLATE_SPELLINGS.search(path.read_text())
    ]
    assert left == []
    pyproject = (project / "pyproject.toml").read_text()
    assert 'name = "naq-acme-audit"' in pyproject
    assert 'acme-audit = "naq_acme_audit"' in pyproject


def test_rename_refuses_a_bad_name(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(TEMPLATE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "rename.py", "My Plugin"], cwd=copy, capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert "not a plugin name: 'My Plugin'" in result.stderr
    assert (copy / "src" / "naq_plugin_example").is_dir()  # nothing renamed


def test_naq_lists_the_installed_plugin(venv_bin: Path, project: Path) -> None:
    out = run([venv_bin / "naq", "--plugins", "--json"], cwd=project, timeout=60).stdout
    plugins = {entry["name"]: entry for entry in json.loads(out)}
    assert plugins[NAME] == {
        "name": NAME,
        "distribution": f"naq-{NAME}",
        "version": "0.1.0",
        "hooks": ["naq_plugin_settings", "naq_register_dead_letter_sinks"],
    }


def test_naq_config_show_validates_and_shows_its_table(venv_bin: Path, tmp_path: Path) -> None:
    (tmp_path / "naq.toml").write_text('[acme_audit]\ndirectory = "letters"\n')
    out = run([venv_bin / "naq", "config", "show", "--json"], cwd=tmp_path, timeout=60).stdout
    assert json.loads(out)["acme_audit.directory"]["value"] == "letters"
    (tmp_path / "naq.toml").write_text('[acme_audit]\ndirectory = "letters"\ndirectroy = "typo"\n')
    result = subprocess.run(
        [venv_bin / "naq", "config", "show"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "acme_audit: unknown key 'directroy'" in result.stderr, result.stderr


def test_the_copied_plugins_own_tests_pass_there(venv_bin: Path, project: Path) -> None:
    result = run(
        [venv_bin / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        timeout=RUN_TIMEOUT,
    )
    summary = result.stdout.strip().splitlines()[-1]
    # Every test ran and passed: nothing skipped, deselected or failed.
    assert re.fullmatch(r"\d+ passed in [\d.]+s", summary), result.stdout
    assert int(summary.split()[0]) >= 10, result.stdout  # the contract suite is there too
