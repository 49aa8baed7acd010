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


def _project(directory: Path) -> dict[str, Any]:
    with (directory / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def _member_dirs() -> list[Path]:
    """Every workspace member (globs expanded) plus every contrib project on disk."""
    members = _project(ROOT)["tool"]["uv"]["workspace"]["members"]
    dirs = [path for pattern in members for path in sorted(ROOT.glob(pattern))]
    dirs += sorted(path.parent for path in ROOT.glob("contrib/*/pyproject.toml"))
    return [path for path in dirs if (path / "pyproject.toml").is_file()]


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
