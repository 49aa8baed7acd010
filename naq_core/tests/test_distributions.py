"""The distributions named in the docs are the ones on disk: derived from the workspace, never
listed by hand, so docs/architecture.md and the README's install line cannot go stale."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_NAME = re.compile(r"(?<![\w./<-])naq(?:-[a-z0-9]+)*(?![\w/.<-])")
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_SKELETONS = ("contrib/plugin-template",)  # copied and renamed by users, versioned on their own


def _project(directory: Path) -> dict[str, Any]:
    with (directory / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def _member_dirs() -> list[Path]:
    """Every workspace member (globs expanded) plus every contrib project on disk."""
    members = _project(ROOT)["tool"]["uv"]["workspace"]["members"]
    dirs = [path for pattern in members for path in sorted(ROOT.glob(pattern))]
    dirs += sorted(path.parent for path in ROOT.glob("contrib/*/pyproject.toml"))
    skeletons = {ROOT / s for s in _SKELETONS}  # copied by users, not distributions of the repo
    return [path for path in dirs if (path / "pyproject.toml").is_file() and path not in skeletons]


def _distributions() -> dict[str, Path]:
    """Distribution name -> its directory, the root ``naq`` meta distribution included."""
    found = {_project(path)["project"]["name"]: path for path in [ROOT, *_member_dirs()]}
    assert "naq" in found and "naq-core" in found, found
    return found


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def _requirement_name(requirement: str) -> str:
    match = _REQUIREMENT.match(requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-")


def test_every_plugin_on_disk_is_a_workspace_member() -> None:
    members = set(_member_dirs())
    on_disk = {path.parent for path in ROOT.glob("plugins/*/pyproject.toml")}
    assert on_disk, "no plugin found under plugins/"
    assert on_disk <= members, f"not in [tool.uv.workspace] members: {sorted(on_disk - members)}"


def test_architecture_lists_exactly_the_distributions() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = _section(text, "## Distributions and layers")
    block = section.split("```")[1]  # the picture of the repository
    named = set(_NAME.findall(block))
    expected = set(_distributions())
    assert named == expected, (
        f"docs/architecture.md is missing {sorted(expected - named)} and names {sorted(named - expected)}, "
        "which are not distributions of this repository"
    )


def test_readme_install_line_installs_every_first_party_plugin_of_naq() -> None:
    distributions = _distributions()
    first_party = {
        name
        for name in map(_requirement_name, _project(ROOT)["project"]["dependencies"])
        if name in distributions and name != "naq-core"
    }
    assert first_party, "naq depends on no first-party plugin?"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line for line in readme.splitlines() if "pip install ./naq_core" in line]
    assert len(lines) == 1, lines
    installed = set(re.findall(r"(?<=\s)\./\S+|(?<=\s)\.(?=\s)", lines[0]))
    wanted = {"./" + distributions[name].relative_to(ROOT).as_posix() for name in first_party}
    wanted |= {"./naq_core", "."}
    assert wanted <= installed, f"README's install line does not install {sorted(wanted - installed)}"


# One version for the naq family (tests/packaging/bump_version.py sets it everywhere).


def _family_dirs(root: Path = ROOT) -> list[Path]:
    dirs = [root, root / "naq_core"]
    dirs += sorted(p.parent for p in root.glob("plugins/*/pyproject.toml"))
    dirs += sorted(p.parent for p in root.glob("contrib/*/pyproject.toml"))
    return [d for d in dirs if d.relative_to(root).as_posix() not in _SKELETONS]


def _version_problems(root: Path) -> list[str]:
    """Every disagreement with the root ``naq`` version, one line each."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    dirs = _family_dirs(root)
    projects = {d: _project(d)["project"] for d in dirs}
    version = projects[root]["version"]
    names = {canonicalize_name(p["name"]) for p in projects.values()}
    problems = [
        f"{d.relative_to(root).as_posix() or '.'}: version {p['version']}, not {version}"
        for d, p in projects.items()
        if p["version"] != version
    ]
    every = [*_family_dirs(root), *(root / s for s in _SKELETONS if (root / s / "pyproject.toml").is_file())]
    for directory in every:
        project = _project(directory)["project"]
        requirements = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            requirements += extra
        for line in requirements:
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) in names and Version(version) not in requirement.specifier:
                problems.append(f"{directory.relative_to(root).as_posix() or '.'}: {line} excludes {version}")
    for directory in dirs:
        changelog = directory / "CHANGELOG.md"
        where = (directory.relative_to(root) / "CHANGELOG.md").as_posix()
        if not changelog.is_file():
            problems.append(f"{where} is missing")
        elif not re.search(rf"^## {re.escape(version)}\b", changelog.read_text(encoding="utf-8"), re.M):
            problems.append(f"{where} has no '## {version}' section")
    return problems


def test_the_naq_family_has_one_version_and_pins_it() -> None:
    problems = _version_problems(ROOT)
    assert not problems, "versions disagree (run `nox -s bump -- <version>`):\n" + "\n".join(problems)


def test_every_distribution_ships_the_license() -> None:
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    differ = [
        d.relative_to(ROOT).as_posix()
        for d in _family_dirs()[1:]
        if not (d / "LICENSE").is_file() or (d / "LICENSE").read_text(encoding="utf-8") != license_text
    ]
    assert not differ, f"no copy of the root LICENSE in {differ} (an sdist holds only its own directory)"


def _bump_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bump_version", ROOT / "tests/packaging/bump_version.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _copy_projects(target: Path) -> None:
    import shutil

    dirs = _family_dirs() + [ROOT / s for s in _SKELETONS if (ROOT / s / "pyproject.toml").is_file()]
    for directory in dirs:
        there = target / directory.relative_to(ROOT)
        there.mkdir(parents=True, exist_ok=True)
        for name in ("pyproject.toml", "CHANGELOG.md"):
            if (directory / name).is_file():
                shutil.copy(directory / name, there / name)


def test_bump_sets_one_version_everywhere(tmp_path: Path) -> None:
    _copy_projects(tmp_path)
    assert not _version_problems(tmp_path)
    core = tmp_path / "naq_core" / "pyproject.toml"
    text = core.read_text(encoding="utf-8")
    core.write_text(text.replace('version = "', 'version = "9', 1), encoding="utf-8")
    assert any(p.startswith("naq_core: version 9") for p in _version_problems(tmp_path))

    _bump_module().bump("7.4.0", tmp_path)

    assert not _version_problems(tmp_path)
    assert _project(tmp_path)["project"]["version"] == "7.4.0"
    core_deps = _project(tmp_path)["project"]["dependencies"]
    assert "naq-core[server]==7.4.0" in core_deps, core_deps
    for skeleton in _SKELETONS:
        if (tmp_path / skeleton).is_dir():
            before = _project(ROOT / skeleton)["project"]["version"]
            assert _project(tmp_path / skeleton)["project"]["version"] == before
