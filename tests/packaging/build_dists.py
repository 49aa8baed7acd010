"""Build a wheel and an sdist of every naq distribution: ``python tests/packaging/build_dists.py OUT``.

The projects are those of :func:`check_dist.projects` (the root ``naq``, ``naq_core``,
``plugins/*``, ``contrib/*`` but skeletons). ``uv build`` makes each sdist and then the wheel
from that sdist, so a file missing from an sdist breaks its wheel here, not on a user's
machine. ``uv`` is taken from ``PATH``, else ``python -m uv``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from check_dist import ROOT, projects

__all__ = ["build_all", "main", "uv_command"]


def uv_command() -> list[str]:
    """How to run uv here: the ``uv`` on PATH, else the ``uv`` module of this interpreter."""
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def build_all(out: Path, root: Path = ROOT) -> list[Path]:
    """Build every distribution into ``out`` (emptied first); the files made."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for directory in projects(root).values():
        subprocess.run(
            [
                *uv_command(),
                "build",
                "--quiet",
                "--no-create-gitignore",
                "--out-dir",
                str(out),
                str(directory),
            ],
            check=True,
        )
    return sorted(p for p in out.iterdir() if p.name.endswith((".whl", ".tar.gz")))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: build_dists.py OUT_DIR", file=sys.stderr)
        return 2
    for path in build_all(Path(args[0]).resolve()):
        print(path.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
