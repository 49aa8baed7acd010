"""The import-linter contracts in the root pyproject.toml cover every module of naq_core.

``nox -s lint`` runs ``lint-imports``; these tests keep its module lists from going stale
when a module is added (a private module missing from "plugins import no private core
module" would be allowed to plugins without anyone noticing).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

import naq_core

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _contracts() -> list[dict[str, Any]]:
    if not PYPROJECT.is_file():
        pytest.skip("not in a checkout of the repository (no root pyproject.toml)")
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _modules() -> set[str]:
    return {m.name for m in pkgutil.iter_modules(naq_core.__path__)}


def _private_modules() -> list[str]:
    """``naq_core._x``, and ``naq_core.pkg._x`` of each public package but the CLI and the
    pytest helpers (their private modules are theirs alone, not the API's plumbing)."""
    found = [f"naq_core.{name}" for name in _modules() if name.startswith("_")]
    for package in pkgutil.iter_modules(naq_core.__path__):
        if package.ispkg and not package.name.startswith("_") and package.name not in ("cli", "testing"):
            inner = importlib.import_module(f"naq_core.{package.name}")
            found += [
                f"{inner.__name__}.{m.name}"
                for m in pkgutil.iter_modules(inner.__path__)
                if m.name.startswith("_")
            ]
    return sorted(found)


def test_the_private_module_lists_name_every_private_module() -> None:
    private = _private_modules()
    assert "naq_core.schedules._store" in private
    lists = [
        c for c in _contracts() if c["type"] == "forbidden" and "naq_core._log" in c["forbidden_modules"]
    ]
    assert {c["name"] for c in lists} == {
        "Plugins import no private core module",
        "The CLI uses public core modules only",
    }
    for contract in lists:
        assert sorted(contract["forbidden_modules"]) == private, contract["name"]


def test_every_core_module_has_a_layer() -> None:
    (layers,) = [c for c in _contracts() if c["type"] == "layers" and c["containers"] == ["naq_core"]]
    placed = [name for layer in layers["layers"] for name in re.split(r"[\s|:]+", layer) if name]
    assert len(placed) == len(set(placed)), "a module is in two layers"
    assert set(placed) == _modules() - {"__main__"}
