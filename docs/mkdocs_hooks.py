"""MkDocs hooks for the docs site (listed under ``hooks`` in ``mkdocs.yml``).

The Markdown in ``docs/`` is written to read well on a code host, where a link may point
anywhere in the repository: ``../plugins/json-serializer/README.md``, a folder such as
``examples/01-hello-world``. The site has only what is under ``docs/``, so this hook

* adds every plugin's README (``plugins/*/README.md``, ``contrib/*/README.md``) as a page of
  its own, under the same path (``plugins/json-serializer/README.md``), with a "Plugins"
  section in the navigation listing them;
* rewrites relative links by where they lead in the repository: into ``docs/``, to a plugin's
  README, to a folder that has a README (which becomes the link to that README), or to the
  top-level README (the site's home page). A link that leads nowhere is left as it is, so
  that ``mkdocs build --strict`` reports it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

__all__ = ["on_config", "on_files", "on_page_markdown"]

ROOT = Path(__file__).resolve().parent.parent
_PACKAGE_READMES = ("plugins/*/README.md", "contrib/*/README.md")
_LINK = re.compile(r"(?P<open>!?\[[^\]]*\]\()(?P<target>[^)\s]+)(?P<close>\))")


def _package_readmes() -> list[str]:
    """Repository paths of the plugins' READMEs, plugins before contrib, by name."""
    found: list[str] = []
    for pattern in _PACKAGE_READMES:
        found += sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob(pattern))
    return found


def _title(readme: str) -> str:
    for line in (ROOT / readme).read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip().strip("`")
    return readme.split("/")[1]


def on_config(config: MkDocsConfig, **kwargs: Any) -> MkDocsConfig:
    nav = config.nav
    if nav is not None:
        nav.append({"Plugins": [{_title(r): r} for r in _package_readmes()]})
    return config


def on_files(files: Files, config: MkDocsConfig, **kwargs: Any) -> Files:
    for readme in _package_readmes():
        files.append(File.generated(config, readme, content=(ROOT / readme).read_text(encoding="utf-8")))
    return files


def _source(uri: str) -> str:
    """The repository path a page of the site comes from."""
    return uri if uri in _package_readmes() else f"docs/{uri}"


def _site_uri(repo_path: str) -> str | None:
    """The page (or file) of the site at ``repo_path`` of the repository, if it has one."""
    target = ROOT / repo_path
    if target.is_dir() and (target / "README.md").is_file():
        repo_path = f"{repo_path.rstrip('/')}/README.md"
    if repo_path == "README.md":
        return "index.md"
    if repo_path in _package_readmes():
        return repo_path
    if repo_path.startswith("docs/") and (ROOT / repo_path).exists():
        return repo_path.removeprefix("docs/")
    return None


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files, **kwargs: Any) -> str:
    uri = page.file.src_uri
    source_dir = posixpath.dirname(_source(uri))

    def rewrite(match: re.Match[str]) -> str:
        target = match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return match[0]
        path, hash_, anchor = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(source_dir, path))
        site = _site_uri(repo_path)
        if site is None:
            return match[0]
        new = posixpath.relpath(site, posixpath.dirname(uri) or ".")
        return f"{match['open']}{new}{hash_}{anchor}{match['close']}"

    return _LINK.sub(rewrite, markdown)
