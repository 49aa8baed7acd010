"""docs/writing-plugins.md shows only code that runs.

Every Python block of the page starts with a comment naming a file of this repository
(``# docs/examples/plugins/msgpack_serializer.py``), and the rest of the block is a piece of
that file, verbatim. The files are the example plugins of docs/examples/plugins (each with
its tests) and contrib/plugin-template; the examples' tests run here in a fresh venv with
naq-core and the JSON serializer of this checkout plus msgpack and the test tools (msgpack
is installed in that throwaway venv only, never a dependency of a naq distribution), from a
copy of the folder, whose conftest.py and pytest.ini are the root of that run.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from venv_support import INSTALL_TIMEOUT, fresh_venv, run

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "writing-plugins.md"
EXAMPLES = ROOT / "docs" / "examples" / "plugins"
RUN_TIMEOUT = 200.0  # seconds for the examples' tests
TEST_TOOLS = (
    "msgpack>=1.0",
    "pytest>=8.3",
    "pytest-asyncio>=0.24",
    "pytest-timeout>=2.3",
    "hypothesis>=6.100",
)
# The files a block may come from: the example plugins and the template, nothing generated.
SOURCES = (EXAMPLES, ROOT / "contrib" / "plugin-template")


def python_blocks(markdown: str) -> list[str]:
    """The text of every ```python block of ``markdown``."""
    return re.findall(r"^```python\n(.*?)^```$", markdown, flags=re.DOTALL | re.MULTILINE)


def block_problem(block: str) -> str | None:
    """Why ``block`` is not a verbatim piece of the file its first line names (None: it is)."""
    first, _, body = block.partition("\n")
    match = re.fullmatch(r"# (\S+\.py)(?: \(.*\))?", first)
    if match is None:
        return f"the block must start with '# <path of the file it comes from>', not {first!r}"
    path = (ROOT / match.group(1)).resolve()
    if not any(path.is_relative_to(source) for source in SOURCES) or not path.is_file():
        return f"{match.group(1)} is not a file of docs/examples/plugins or contrib/plugin-template"
    if not body.strip():
        return f"the block from {match.group(1)} is empty"
    if body not in path.read_text(encoding="utf-8"):
        return f"the block is not a verbatim piece of {match.group(1)}:\n{body}"
    return None


def test_every_python_block_of_the_page_is_a_piece_of_a_real_file() -> None:
    blocks = python_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 10, "the page lost its examples"
    problems = [problem for block in blocks if (problem := block_problem(block)) is not None]
    assert problems == []


def test_the_block_check_catches_a_drifted_block() -> None:
    real = (
        "# docs/examples/plugins/stats_command.py\n"
        "@hookimpl\ndef naq_register_commands(cli: click.Group) -> None:\n"
    )
    assert block_problem(real) is None
    drifted = real.replace("cli: click.Group", "cli")
    assert "not a verbatim piece" in (block_problem(drifted) or "")
    assert "must start with" in (block_problem("import msgpack\n") or "")
    assert "is not a file" in (block_problem("# naq_core/src/naq_core/job.py\nclass Job:\n") or "")


def test_every_example_module_has_its_tests() -> None:
    modules = {p.stem for p in EXAMPLES.glob("*.py")} - {"conftest", "example_tasks"}
    plugins = {m for m in modules if not m.startswith("test_")}
    assert plugins, "no example plugins found"
    assert {f"test_{m}" for m in plugins} <= modules


@pytest.mark.slow
@pytest.mark.timeout(2 * INSTALL_TIMEOUT + RUN_TIMEOUT + 120)
def test_the_example_plugins_pass_their_tests(tmp_path: Path) -> None:
    copy = tmp_path / "plugins"
    shutil.copytree(EXAMPLES, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    local = ["-e", f"{ROOT / 'naq_core'}[server]", "-e", str(ROOT / "plugins" / "json-serializer")]
    venv_bin = fresh_venv(tmp_path / "venv", local, list(TEST_TOOLS), cwd=copy)
    result = run([venv_bin / "python", "-m", "pytest", "-q"], cwd=copy, timeout=RUN_TIMEOUT)
    summary = result.stdout.strip().splitlines()[-1]
    # Every test ran and passed: nothing skipped (msgpack is there), deselected or failed.
    assert re.fullmatch(r"\d+ passed in [\d.]+s", summary), result.stdout
    assert int(summary.split()[0]) >= 40, result.stdout  # both contract suites are there
