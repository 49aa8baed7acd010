"""Fresh venvs for the integration tests that install a project the way a user does.

The venv is made with uv when it can be found (PATH, ``$UV``, or the ``uv`` package of this
interpreter), else with ``venv`` and pip. Every command runs with a bounded time, without
naq's, pytest's or a venv's variables of the caller, and fails with its output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["INSTALL_TIMEOUT", "clean_env", "fresh_venv", "run"]

INSTALL_TIMEOUT = 400.0  # seconds: a cold package cache downloads pytest and the NATS server wheel


def clean_env() -> dict[str, str]:
    """This process's environment without naq's, pytest's or a venv's variables."""
    dropped = ("NAQ_", "PYTEST_", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "COV_")
    return {key: value for key, value in os.environ.items() if not key.startswith(dropped)}


def run(argv: list[str | Path], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` to its end (killed at ``timeout``); fail with its output if it failed."""
    result = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def _uv() -> str | None:
    found = shutil.which("uv") or os.environ.get("UV")
    if found:
        return found
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found]
    except ImportError:
        return None
    return str(find_uv_bin())


def fresh_venv(venv: Path, local: list[str], others: list[str], cwd: Path) -> Path:
    """A new venv at ``venv`` with the ``local`` projects and the ``others``; returns its ``bin``.

    ``others`` may depend on ``local`` ones (a plugin requiring naq-core): pip gets them in a
    second install, as it resolves them only against what is installed.
    """
    python = venv / "bin" / "python"
    uv = _uv()
    if uv is not None:
        run([uv, "venv", "--quiet", "--python", sys.executable, venv], cwd=cwd, timeout=60)
        install = [uv, "pip", "install", "--quiet", "--python", python, *local, *others]
        run(install, cwd=cwd, timeout=INSTALL_TIMEOUT)
    else:
        run([sys.executable, "-m", "venv", venv], cwd=cwd, timeout=120)
        pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        run([*pip, *local], cwd=cwd, timeout=INSTALL_TIMEOUT)
        run([*pip, *others], cwd=cwd, timeout=INSTALL_TIMEOUT)
    return venv / "bin"
