"""Rename this template to your plugin: ``python rename.py my-plugin``.

Run it once, from anywhere, on a fresh copy of the template. With the name ``my-plugin``:

=====================  ======================  ===========================
what                   template                becomes
=====================  ======================  ===========================
distribution           ``naq-plugin-example``  ``naq-my-plugin``
import package         ``naq_plugin_example``  ``naq_my_plugin`` (folder too)
entry point, sink      ``plugin-example``      ``my-plugin``
settings table         ``plugin_example``      ``my_plugin``
environment variables  ``NAQ_PLUGIN_EXAMPLE_`` ``NAQ_MY_PLUGIN_``
=====================  ======================  ===========================

Every text file of the project is rewritten in one pass (this script excepted), then the
package folder is renamed. A name is lower-case words joined by ``-`` (``naq-`` in front is
dropped: ``naq-my-plugin`` is the same as ``my-plugin``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

__all__ = ["rename", "replacements"]

TEMPLATE = "plugin-example"
_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "dist"}
_TEXT_SUFFIXES = {".py", ".toml", ".md", ".txt", ".cfg", ".ini", ".typed", ""}


def replacements(name: str) -> dict[str, str]:
    """What each spelling of the template's name becomes for ``name`` (``my-plugin``)."""
    name = name.removeprefix("naq-")
    if not _NAME.fullmatch(name) or name == TEMPLATE:
        raise ValueError(f"not a plugin name: {name!r} (lower-case words joined by '-', e.g. my-plugin)")
    snake = name.replace("-", "_")
    return {
        f"naq-{TEMPLATE}": f"naq-{name}",
        f"naq_{TEMPLATE.replace('-', '_')}": f"naq_{snake}",
        TEMPLATE: name,
        TEMPLATE.replace("-", "_"): snake,
        TEMPLATE.replace("-", "_").upper(): snake.upper(),
    }


def rename(root: Path, name: str) -> list[Path]:
    """Rename the template project in ``root`` to ``name``; return the files changed."""
    mapping = replacements(name)
    package = root / "src" / "naq_plugin_example"
    if not package.is_dir():
        raise FileNotFoundError(f"{package} not found: is {root} an unrenamed copy of the template?")
    pattern = re.compile("|".join(re.escape(old) for old in sorted(mapping, key=len, reverse=True)))
    changed = []
    for path in sorted(root.rglob("*")):
        if path.resolve() == Path(__file__).resolve() or not path.is_file():
            continue
        if _SKIP_DIRS.intersection(path.relative_to(root).parts) or path.suffix not in _TEXT_SUFFIXES:
            continue
        text = path.read_text(encoding="utf-8")
        new = pattern.sub(lambda match: mapping[match.group()], text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    package.rename(package.with_name(mapping["naq_plugin_example"]))
    return changed


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python rename.py NAME   (for instance: python rename.py my-plugin)", file=sys.stderr)
        return 2
    try:
        changed = rename(Path(__file__).resolve().parent, argv[0])
    except (ValueError, FileNotFoundError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    name = argv[0].removeprefix("naq-")
    print(f"renamed to naq-{name}: {len(changed)} files rewritten; rename.py is no longer needed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
