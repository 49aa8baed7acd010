"""A griffe extension for the docs site: naq's reST docstrings rendered as Markdown.

naq's docstrings use Sphinx roles (``:class:`~naq_core.job.Job```) and ``::`` literal
blocks, as ``docs/gen_hooks.py`` expects. mkdocstrings renders docstrings as Markdown, so
this extension (listed under ``extensions`` in ``mkdocs.yml``) rewrites each docstring
before it is parsed:

* a role naming a ``naq_core`` object becomes an autorefs cross-reference,
  ``[`Job`][naq_core.job.Job]``, which ``mkdocs build --strict`` fails on when the target is
  not on any page;
* a role naming anything else (``asyncio.Event``, a private ``naq_core._name`` module)
  becomes inline code;
* double backquotes become single ones, and a paragraph ending in ``::`` introduces a
  fenced Python block (``rst_to_markdown`` of ``docs/gen_hooks.py``).

Relative targets (``:class:`Queue``` inside ``naq_core.queue``) are resolved against the
object's module, then ``naq_core`` itself.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import griffe

__all__ = ["RstDocstrings"]

_ROLE = re.compile(r":(?:class|func|meth|data|mod|attr|exc|obj):`(?P<tilde>~?)(?P<target>[^`]+)`")


def _gen_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_hooks", Path(__file__).with_name("gen_hooks.py"))
    if spec is None or spec.loader is None:
        raise ImportError("docs/gen_hooks.py cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_RST_TO_MARKDOWN = _gen_hooks().rst_to_markdown


def _resolve(target: str, obj: griffe.Object, loader: griffe.GriffeLoader) -> str | None:
    """The full path of ``target`` as seen from ``obj``, or None if griffe does not know it."""
    target = target.lstrip(".").removesuffix("()")
    module = obj.module
    candidates = [target]
    if not target.startswith("naq_core"):
        candidates = [f"{module.path}.{target}", f"{obj.path}.{target}", f"naq_core.{target}"]
    for candidate in candidates:
        try:
            found = loader.modules_collection.get_member(candidate)
        except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
        try:
            return str(found.final_target.path if found.is_alias else found.path)
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            return str(found.path)
    return None


def convert(text: str, obj: griffe.Object, loader: griffe.GriffeLoader) -> str:
    """``text`` with its roles as cross-references or code, then the rest of its reST as Markdown."""

    def role(match: re.Match[str]) -> str:
        target = match["target"]
        shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
        path = _resolve(target, obj, loader)
        if path is None or not path.startswith("naq_core") or "._" in path:
            return f"``{shown}``"
        return f"[``{shown}``][{path}]"

    return _RST_TO_MARKDOWN(_ROLE.sub(role, text))


class RstDocstrings(griffe.Extension):
    """Rewrite every loaded docstring once its package is loaded (so targets resolve)."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = convert(obj.docstring.value, obj, loader)


def _walk(obj: griffe.Object) -> list[griffe.Object]:
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias:
            found += _walk(member)  # type: ignore[arg-type]
    return found
