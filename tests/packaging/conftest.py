"""The built distributions the packaging tests check and install.

``NAQ_DIST_DIR`` names a directory that ``build_dists.py`` filled (``nox -s packaging`` builds
one in its temporary folder first); without it the distributions are built here, once per
test run, into a temporary directory. Never a registry: these are the files users would get.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from build_dists import build_all


@pytest.fixture(scope="session")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("NAQ_DIST_DIR")
    if given:
        path = Path(given).resolve()
        assert any(path.glob("*.whl")), f"NAQ_DIST_DIR={given} holds no wheel"
        return path
    out = tmp_path_factory.mktemp("dist")
    build_all(out)
    return out
