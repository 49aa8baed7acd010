"""Render ``docs/hooks.md`` from the docstrings and signatures in ``naq_core/hookspecs.py``.

Usage, from the repository root::

    python docs/gen_hooks.py          # rewrite docs/hooks.md
    python docs/gen_hooks.py --check  # exit 1 if docs/hooks.md is out of date

``naq_core/tests/test_docs.py`` runs :func:`render` and compares it with the committed file,
so a hookspec changed without regenerating the reference fails the tests. The signatures
come from the source (``ast``), exactly as written; the grouping from the
``# --- area ---`` comments between the hookspecs; whether a hook is ``firstresult`` from
pluggy's own marker.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from attrs import frozen

__all__ = ["HookDoc", "collect", "main", "render", "rst_to_markdown"]

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "hooks.md"
SOURCE = "naq_core/src/naq_core/hookspecs.py"

_SECTION = re.compile(r"^# -+ (?P<title>.+?) -+$")
_ROLE = re.compile(r":(?:class|func|meth|data|mod|attr|exc|obj):`(?P<tilde>~?)(?P<target>[^`]+)`")
_LITERAL = re.compile(r"``(?P<text>[^`]+)``")

_PREAMBLE = """\
Every hook is a plain function named `naq_*`, marked with `naq_core.hookimpl`, in a
module or object that naq registers as a plugin (see [writing-plugins.md](writing-plugins.md)).

- **broadcast** hooks call every implementation.
- **firstresult** hooks stop at the first implementation that returns something other
  than `None`; return `None` to defer. naq's built-in answer (the plugin
  `naq_core.builtin` in `naq --plugins`) is registered with `trylast=True`, so any
  plugin's answer wins over it.
- A worker checks once at start whether anything implements `naq_job_started` and
  `naq_job_finished`, and skips the calls when nothing does."""


@frozen(kw_only=True)
class HookDoc:
    """One hookspec: name, area, arguments, source signature, kind and docstring."""

    name: str
    area: str
    argnames: tuple[str, ...]
    signature: str
    firstresult: bool
    doc: str

    @property
    def call(self) -> str:
        """``naq_job_finished(job, outcome)``: the name with its exact argument names."""
        return f"{self.name}({', '.join(self.argnames)})"

    @property
    def kind(self) -> str:
        return "firstresult" if self.firstresult else "broadcast"


def _import_hookspecs() -> ModuleType:
    try:
        from naq_core import hookspecs
    except ImportError:  # run from a checkout without naq-core installed
        sys.path.insert(0, str(ROOT / "naq_core" / "src"))
        from naq_core import hookspecs
    return hookspecs


def rst_to_markdown(text: str) -> str:
    """Turn the reST bits the hookspec docstrings use into Markdown.

    ``:class:`~a.b.C``` becomes ```C```, ``:class:`a.b.C``` becomes ```a.b.C```, double
    backquotes become single ones, and a paragraph ending in ``::`` introduces a Python
    code block (the indented lines after it).
    """
    text = _ROLE.sub(lambda m: f"`{m['target'].rsplit('.', 1)[-1] if m['tilde'] else m['target']}`", text)
    text = _LITERAL.sub(lambda m: f"`{m['text']}`", text)
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            out.append(line.rstrip()[:-1])
            i += 1
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
                block.append(lines[i][4:] if lines[i].startswith("    ") else "")
                i += 1
            while block and not block[0]:
                block.pop(0)
            while block and not block[-1]:
                block.pop()
            out += ["", "```python", *block, "```", ""]
            continue
        out.append(line)
        i += 1
    return "\n".join(out).strip()


def _sections(source: str) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        match = _SECTION.match(line.strip())
        if match:
            found.append((number, match["title"].strip()))
    return found


def _is_hookspec(node: ast.FunctionDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name) and target.id == "hookspec":
            return True
    return False


def collect(module: ModuleType | None = None) -> list[HookDoc]:
    """Every hookspec of ``module`` (default: ``naq_core.hookspecs``), in source order."""
    module = module or _import_hookspecs()
    source = inspect.getsource(module)
    sections = _sections(source)
    specs: list[HookDoc] = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef) or not _is_hookspec(node):
            continue
        area = ""
        for line, title in sections:
            if line < node.lineno:
                area = title
        func: Any = getattr(module, node.name)
        options = getattr(func, "naq_spec", None) or {}
        arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
        specs.append(
            HookDoc(
                name=node.name,
                area=area,
                argnames=tuple(a.arg for a in arguments),
                signature=f"def {node.name}({ast.unparse(node.args)}){returns}: ...",
                firstresult=bool(options.get("firstresult")),
                doc=inspect.cleandoc(func.__doc__ or ""),
            )
        )
    return specs


def render(module: ModuleType | None = None) -> str:
    """The full text of ``docs/hooks.md``."""
    module = module or _import_hookspecs()
    specs = collect(module)
    summary, _, body = inspect.cleandoc(module.__doc__ or "").partition("\n")
    out = [
        f"<!-- Generated by docs/gen_hooks.py from {SOURCE}. Do not edit by hand: change the",
        "     docstrings there and run `python docs/gen_hooks.py`. -->",
        "",
        "# Hook reference",
        "",
        rst_to_markdown(summary),
        "",
        rst_to_markdown(body),
        "",
        _PREAMBLE,
        "",
        "| hook | kind | area |",
        "|---|---|---|",
    ]
    out += [f"| [`{s.call}`](#{s.name}) | {s.kind} | {s.area} |" for s in specs]
    area = None
    for spec in specs:
        if spec.area != area:
            area = spec.area
            out += ["", f"## {area[:1].upper()}{area[1:]}"]
        out += [
            "",
            f'<a id="{spec.name}"></a>',
            "",
            f"### `{spec.call}`",
            "",
            "```python",
            f"@hookimpl{'  # firstresult: return None to defer' if spec.firstresult else ''}",
            spec.signature,
            "```",
            "",
            f"*{spec.kind}*",
            "",
            rst_to_markdown(spec.doc),
        ]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/hooks.md is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run python docs/gen_hooks.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(collect())} hooks)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
