"""Install naq the way the README says — ``pip install naq naq-dashboard`` — from the built files.

A fresh venv gets ``naq`` and ``naq-dashboard`` with the built distributions as the only
source of naq's own packages (``--find-links``; their third-party dependencies come from the
package index as usual). Then, from that venv: ``naq --plugins``, ``naq dev
--exit-after-samples``, and ``naq dashboard`` serving a page against a test NATS server.
Every child is stopped by its pid.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from build_dists import uv_command

from naq_core.server import free_port
from naq_core.testing.process import ChildProcesses

# Slow: a fresh venv and its installs; the timeout covers the module's venv fixture.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

_INSTALL_TIMEOUT = 600.0
_TIMEOUT = 120.0
# What `pip install naq naq-dashboard` must bring, all from the built files.
_FAMILY = {"naq", "naq-core", "naq-json-serializer", "naq-dlq-stream", "naq-confirm-purge", "naq-dashboard"}
_PLUGINS = {"json", "dlq-stream", "confirm-purge", "dashboard"}


def _env(**extra: str) -> dict[str, str]:
    """This environment without any NAQ_* setting of the machine running the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NAQ_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(extra)
    return env


def _wheel_metadata(dist_dir: Path) -> dict[str, str]:
    """Distribution name -> METADATA text, for every wheel in ``dist_dir``."""
    found: dict[str, str] = {}
    for wheel in dist_dir.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            (name,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            text = archive.read(name).decode()
        found[_name_of(text)] = text
    return found


def _name_of(metadata: str) -> str:
    line = next(line for line in metadata.splitlines() if line.startswith("Name: "))
    return line.removeprefix("Name: ").strip().lower()


@pytest.fixture(scope="module")
def venv(dist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with ``naq naq-dashboard`` installed from ``dist_dir``; its bin directory."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    uv = uv_command()
    subprocess.run([*uv, "venv", "--quiet", "--python", sys.executable, str(root)], check=True, env=_env())
    python = root / "bin" / "python"
    # The README's `pip install naq naq-dashboard`, with the built files as naq's only source.
    install = ["pip", "install", "--quiet", "--python", str(python), "--find-links", str(dist_dir)]
    # Never a cached wheel of the same name and version built from an older checkout.
    for name in _wheel_metadata(dist_dir):
        install += ["--refresh-package", name]
    subprocess.run(
        [*uv, *install, "naq", "naq-dashboard"],
        check=True,
        env=_env(),
        timeout=_INSTALL_TIMEOUT,
    )
    return root / "bin"


def _installed_metadata(bin_dir: Path) -> dict[str, str]:
    script = (
        "import json, importlib.metadata as m\n"
        "print(json.dumps({d.metadata['Name'].lower(): d.read_text('METADATA') for d in m.distributions()}))"
    )
    answer = subprocess.run(
        [str(bin_dir / "python"), "-c", script], check=True, capture_output=True, text=True, env=_env()
    )
    found: dict[str, str] = json.loads(answer.stdout)
    return found


def test_naq_packages_come_from_the_built_files(venv: Path, dist_dir: Path) -> None:
    installed = _installed_metadata(venv)
    built = _wheel_metadata(dist_dir)
    family = {name for name in installed if name in built or name.startswith("naq")}
    assert family == _FAMILY, f"installed naq packages: {sorted(family)}"
    for name in _FAMILY:
        assert installed[name] == built[name], f"{name} was not installed from {dist_dir}"


def test_naq_plugins_lists_the_default_plugins(venv: Path, tmp_path: Path) -> None:
    answer = subprocess.run(
        [str(venv / "naq"), "--plugins", "--json"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=_TIMEOUT,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    plugins = {entry["name"]: entry for entry in json.loads(answer.stdout)}
    assert set(plugins) >= _PLUGINS, sorted(plugins)
    assert all(plugins[name]["hooks"] for name in _PLUGINS), plugins


def test_naq_dev_runs_its_samples(venv: Path, tmp_path: Path) -> None:
    argv = [str(venv / "naq"), "dev", "--exit-after-samples", "--port", str(free_port())]
    answer = subprocess.run(
        [*argv, "--dashboard-port", str(free_port())],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=_TIMEOUT,
        check=False,
    )
    assert answer.returncode == 0, f"{answer.stdout}\n{answer.stderr}"


def _get(url: str) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except OSError:
        return None


def _wait_for_page(url: str) -> tuple[int, str] | None:
    deadline = time.monotonic() + _TIMEOUT
    answer = None
    while answer is None and time.monotonic() < deadline:  # bounded: until the server listens
        answer = _get(url)
        if answer is None:
            time.sleep(0.2)
    return answer


def test_naq_dashboard_serves_a_page(
    venv: Path, tmp_path: Path, nats_url: str, child_processes: ChildProcesses
) -> None:
    port = free_port()
    env = _env(NAQ_NATS_URL=nats_url)
    dashboard = child_processes.start(
        [str(venv / "naq"), "dashboard", "--port", str(port)], env=env, cwd=tmp_path
    )
    page = _wait_for_page(f"http://127.0.0.1:{port}/overview/")
    assert page is not None, dashboard.output
    status, html = page
    assert status == 200, html
    for title in ("Overview", "Queues", "Workers", "Dead letters"):  # dead letters: dlq-stream's panel
        assert f">{title}</a>" in html, (title, html[:2000])
    css = _get(f"http://127.0.0.1:{port}/static/naq.css")
    assert css is not None and css[0] == 200 and css[1].strip(), "naq.css not served from the wheel"
    dashboard.stop()
    assert dashboard.popen.poll() is not None
