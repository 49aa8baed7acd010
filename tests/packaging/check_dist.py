"""Check the built distributions of the naq family: ``python tests/packaging/check_dist.py DIST_DIR``.

Every project of the repository (the root ``naq``, ``naq_core``, ``plugins/*``, ``contrib/*``
with a ``pyproject.toml``) must have exactly one wheel and one sdist in ``DIST_DIR``, at the
version its ``pyproject.toml`` says, and each of them must pass ``twine check --strict``
(metadata and README rendering) and carry:

* ``License-Expression: MIT`` and the license file (no deprecated ``License ::`` classifier);
* valid classifiers naming a development status, the Python versions and a topic;
* ``py.typed`` in every top-level package of the wheel (and ``Typing :: Typed``);
* the entry points of its ``pyproject.toml`` (the plugins' ``naq`` group, the ``naq`` script);
* every file of its ``src/`` tree (templates, static assets, ``py.typed``) in the wheel and
  the sdist;
* naq-family requirements pinned to the same version.

Prints one line per problem and exits 1 if there is any; prints a size table otherwise.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

__all__ = ["check", "main", "projects"]

ROOT = Path(__file__).resolve().parents[2]
LICENSE = "MIT"
# Projects meant to be copied and renamed, not published as part of the naq family.
SKELETONS = ("contrib/plugin-template",)
REQUIRED_CLASSIFIER_PREFIXES = (
    "Development Status :: ",
    "Programming Language :: Python :: 3.",
    "Topic :: ",
    "Intended Audience :: ",
)


def projects(root: Path = ROOT) -> dict[str, Path]:
    """Distribution name -> project directory, for every project of the repository."""
    dirs = [root, root / "naq_core"]
    dirs += sorted(p.parent for p in root.glob("plugins/*/pyproject.toml"))
    dirs += sorted(p.parent for p in root.glob("contrib/*/pyproject.toml"))
    found: dict[str, Path] = {}
    for directory in dirs:
        if directory.relative_to(root).as_posix() in SKELETONS:
            continue
        found[_pyproject(directory)["project"]["name"]] = directory
    return found


def _pyproject(directory: Path) -> dict[str, Any]:
    with (directory / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def _source_files(directory: Path) -> set[str]:
    """Files under ``src/`` as wheel paths (``naq_dashboard/static/naq.css``)."""
    src = directory / "src"
    if directory == ROOT or not src.is_dir():
        return set()
    return {
        path.relative_to(src).as_posix()
        for path in src.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def _metadata(text: str) -> Message:
    return HeaderParser().parsestr(text)


def _check_metadata(label: str, meta: Message, project: dict[str, Any], family: set[str]) -> list[str]:
    problems: list[str] = []
    version = project["version"]
    if meta["Version"] != version:
        problems.append(f"{label}: version {meta['Version']} but pyproject.toml says {version}")
    if meta["License-Expression"] != LICENSE:
        problems.append(f"{label}: License-Expression is {meta['License-Expression']!r}, not {LICENSE!r}")
    if not meta.get_all("License-File"):
        problems.append(f"{label}: no License-File")
    if meta["Description-Content-Type"] != "text/markdown" or not (meta.get_payload() or "").strip():
        problems.append(f"{label}: no Markdown README as its description")
    if not meta["Requires-Python"]:
        problems.append(f"{label}: no Requires-Python")
    classifiers = meta.get_all("Classifier") or []
    for prefix in REQUIRED_CLASSIFIER_PREFIXES:
        if not any(c.startswith(prefix) for c in classifiers):
            problems.append(f"{label}: no classifier starting with {prefix!r}")
    problems += [
        f"{label}: deprecated license classifier {c!r}" for c in classifiers if c.startswith("License ::")
    ]
    try:
        from trove_classifiers import classifiers as known
    except ImportError:  # pragma: no cover - the nox session installs it
        known = None
    if known is not None:
        problems += [f"{label}: unknown classifier {c!r}" for c in classifiers if c not in known]
    for line in meta.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) in family and str(requirement.specifier).startswith("=="):
            pinned = str(requirement.specifier).removeprefix("==")
            if pinned != version:
                problems.append(f"{label}: pins {requirement.name}=={pinned}, not {version}")
    return problems


def _entry_points(project: dict[str, Any]) -> dict[str, set[str]]:
    groups = {group: set(entries) for group, entries in project.get("entry-points", {}).items()}
    if project.get("scripts"):
        groups["console_scripts"] = set(project["scripts"])
    return groups


def _parse_entry_points(text: str) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            groups.setdefault(current, set())
        elif "=" in line and current:
            groups[current].add(line.split("=", 1)[0].strip())
    return groups


def _check_wheel(path: Path, name: str, directory: Path, family: set[str]) -> list[str]:
    project = _pyproject(directory)["project"]
    label = path.name
    with zipfile.ZipFile(path) as wheel:
        names = set(wheel.namelist())
        info = next((n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA")), None)
        if info is None:
            return [f"{label}: no .dist-info/METADATA"]
        meta = _metadata(wheel.read(f"{info}/METADATA").decode())
        entry_text = (
            wheel.read(f"{info}/entry_points.txt").decode() if f"{info}/entry_points.txt" in names else ""
        )
    problems = _check_metadata(label, meta, project, family)
    licenses = [n for n in names if n.startswith(f"{info}/licenses/")]
    if not licenses:
        problems.append(f"{label}: no license file under {info}/licenses/")
    packages = sorted(
        {n.split("/")[0] for n in names if "/" in n and not n.split("/")[0].endswith(".dist-info")}
    )
    classifiers = meta.get_all("Classifier") or []
    for package in packages:
        if f"{package}/py.typed" not in names:
            problems.append(f"{label}: {package} has no py.typed")
    if packages and "Typing :: Typed" not in classifiers:
        problems.append(f"{label}: typed packages but no 'Typing :: Typed' classifier")
    if directory != ROOT and not packages:
        problems.append(f"{label}: no package in the wheel")
    missing = sorted(_source_files(directory) - names)
    problems += [f"{label}: {file} from src/ is not in the wheel" for file in missing]
    wanted = _entry_points(project)
    found = _parse_entry_points(entry_text)
    for group, entries in wanted.items():
        lost = entries - found.get(group, set())
        if lost:
            problems.append(f"{label}: entry points {sorted(lost)} of group {group!r} missing")
    if directory.parent.name in {"plugins", "contrib"} and not found.get("naq"):
        problems.append(f"{label}: a plugin without an entry point in the group 'naq'")
    return problems


def _check_sdist(path: Path, name: str, directory: Path, family: set[str]) -> list[str]:
    project = _pyproject(directory)["project"]
    label = path.name
    with tarfile.open(path) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name and m.isfile()}
        top = sdist.getmembers()[0].name.split("/")[0]
        pkg_info = sdist.extractfile(f"{top}/PKG-INFO")
        if pkg_info is None:
            return [f"{label}: no PKG-INFO"]
        meta = _metadata(pkg_info.read().decode())
    problems = _check_metadata(label, meta, project, family)
    for required in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md"):
        if required not in members:
            problems.append(f"{label}: {required} is not in the sdist")
    missing = sorted(f"src/{f}" for f in _source_files(directory))
    problems += [f"{label}: {file} is not in the sdist" for file in missing if file not in members]
    if directory == ROOT:
        extra = sorted(m for m in members if "/" in m)
        problems += [f"{label}: the meta distribution's sdist carries {m}" for m in extra[:5]]
    return problems


def _run_twine(files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def _twine(files: list[Path]) -> list[str]:
    """``twine check --strict`` over all files at once; per file only to name a failure."""
    if not files or _run_twine(files).returncode == 0:
        return []
    problems: list[str] = []
    for file in files:
        result = _run_twine([file])
        if result.returncode != 0:
            message = " ".join((result.stdout + result.stderr).split())
            problems.append(f"{file.name}: twine check --strict: {message}")
    return problems


def check(dist: Path, root: Path = ROOT) -> tuple[list[str], list[tuple[str, int]]]:
    """Problems found in ``dist`` (one line each) and the (file, size) of every distribution."""
    problems: list[str] = []
    found = projects(root)
    family = {canonicalize_name(n) for n in found}
    files: list[Path] = []
    for name, directory in found.items():
        version = _pyproject(directory)["project"]["version"]
        stem = f"{name.replace('-', '_')}-{version}"
        wheels = sorted(dist.glob(f"{stem}-*.whl"))
        sdists = sorted(dist.glob(f"{stem}.tar.gz"))
        if len(wheels) != 1:
            problems.append(f"{name}: {len(wheels)} wheels {stem}-*.whl in {dist}, wanted 1")
        if len(sdists) != 1:
            problems.append(f"{name}: {len(sdists)} sdists {stem}.tar.gz in {dist}, wanted 1")
        for wheel in wheels:
            problems += _check_wheel(wheel, name, directory, family)
        for sdist in sdists:
            problems += _check_sdist(sdist, name, directory, family)
        files += wheels + sdists
    problems += _twine(files)
    sizes = [(f.name, f.stat().st_size) for f in files]
    return problems, sizes


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: check_dist.py DIST_DIR", file=sys.stderr)
        return 2
    problems, sizes = check(Path(args[0]))
    for problem in problems:
        print(problem)
    if problems:
        return 1
    for file, size in sizes:
        print(f"{size / 1024:8.1f} KiB  {file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
