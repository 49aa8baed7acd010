"""Give the whole naq family one new version: ``nox -s bump -- 0.3.0``.

The naq distributions (the root ``naq``, ``naq_core``, ``plugins/*``, ``contrib/*``) share
one version. This rewrites, in every ``pyproject.toml`` of the repository:

* ``version = "..."`` of each family project (a skeleton such as ``contrib/plugin-template``
  keeps its own version);
* every exact pin of a family distribution (``naq-core==0.2.0``, ``naq-core[server]==0.2.0``);
* every ``>=A.B,<A.C`` range on a family distribution (contrib plugins and the template
  declare the minor series they were tested with) to the new minor series;

and opens a ``## <version> (unreleased)`` section at the top of each family CHANGELOG.md
that has none yet (an ``## Unreleased`` heading is renamed instead). Write what changed for
users there before releasing; ``naq_core/tests/test_distributions.py`` fails until every
version, pin and changelog agrees.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.version import InvalidVersion, Version

__all__ = ["bump", "main"]

ROOT = Path(__file__).resolve().parents[2]
SKELETONS = ("contrib/plugin-template",)
_VERSION_LINE = re.compile(r'^(version\s*=\s*")([^"]+)(")', re.MULTILINE)


def _project_dirs(root: Path) -> list[Path]:
    dirs = [root, root / "naq_core"]
    dirs += sorted(p.parent for p in root.glob("plugins/*/pyproject.toml"))
    dirs += sorted(p.parent for p in root.glob("contrib/*/pyproject.toml"))
    return dirs


def _name(directory: Path) -> str:
    with (directory / "pyproject.toml").open("rb") as file:
        name: str = tomllib.load(file)["project"]["name"]
    return name


def _rewrite_requirements(text: str, names: set[str], version: Version) -> str:
    family = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    pinned = re.compile(rf'("(?:{family})(?:\[[^\]]*\])?)==[^",;\s]+')
    text = pinned.sub(lambda m: f"{m.group(1)}=={version}", text)
    ranged = re.compile(rf'("(?:{family})(?:\[[^\]]*\])?)>=\d+(?:\.\d+)+,\s*<\d+(?:\.\d+)+')
    series = f">={version.major}.{version.minor},<{version.major}.{version.minor + 1}"
    return ranged.sub(lambda m: f"{m.group(1)}{series}", text)


def _open_changelog(path: Path, version: Version) -> None:
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    if re.search(rf"^## {re.escape(str(version))}\b", text, re.MULTILINE):
        return
    heading = f"## {version} (unreleased)"
    if re.search(r"^## Unreleased[ \t]*$", text, re.MULTILINE):
        text = re.sub(r"^## Unreleased[ \t]*$", heading, text, count=1, flags=re.MULTILINE)
    else:
        match = re.search(r"^## ", text, re.MULTILINE)
        at = match.start() if match else len(text)
        entry = f"{heading}\n\n- Released with naq {version}; no change of its own yet.\n\n"
        text = text[:at] + entry + text[at:]
    path.write_text(text, encoding="utf-8")


def bump(new: str, root: Path = ROOT) -> list[Path]:
    """Set the family version to ``new`` under ``root``; return the files changed."""
    version = Version(new)
    dirs = _project_dirs(root)
    family = [d for d in dirs if d.relative_to(root).as_posix() not in SKELETONS]
    names = {_name(d) for d in family}
    changed: list[Path] = []
    for directory in dirs:
        pyproject = directory / "pyproject.toml"
        text = pyproject.read_text(encoding="utf-8")
        new_text = _rewrite_requirements(text, names, version)
        if directory in family:
            new_text = _VERSION_LINE.sub(lambda m: f"{m.group(1)}{version}{m.group(3)}", new_text, count=1)
            _open_changelog(directory / "CHANGELOG.md", version)
        if new_text != text:
            pyproject.write_text(new_text, encoding="utf-8")
            changed.append(pyproject)
    return changed


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: bump_version.py NEW_VERSION (e.g. 0.3.0)", file=sys.stderr)
        return 2
    try:
        changed = bump(args[0])
    except InvalidVersion:
        print(f"not a version: {args[0]!r}", file=sys.stderr)
        return 2
    for path in changed:
        print(path.relative_to(ROOT).as_posix())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
