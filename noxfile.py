"""Everything the repository runs: ``nox`` (the default sessions) is the whole check.

Default sessions, each in a fresh environment so that a missing dependency cannot hide
behind a sibling package:

* ``tests_core``: ``naq-core[server]`` (+ the JSON serializer its tests use), ``naq_core/tests``
* ``tests_json_serializer``, ``tests_pickle_unsafe``, ``tests_confirm_purge``: one plugin with
  ``naq-core``, its ``tests/``
* ``tests_dashboard``: naq-dashboard with naq-core, the JSON serializer and dlq-stream, its
  ``tests/`` (Starlette's test client against a real server, and headless Debian Chromium)
* ``tests_dlq_stream``, ``tests_dlq_jsonl``: a dead-letter sink with ``naq-core`` and the JSON
  serializer, its ``tests/``
* ``tests_opentelemetry``: contrib's tracing plugin with ``naq-core``, the JSON serializer and
  the OpenTelemetry SDK (its ``test`` extra), its ``tests/``
* ``tests_prometheus``: contrib's metrics plugin with ``naq-core``, the JSON serializer and
  naq-dashboard (for its panel test), its ``tests/``
* ``integration``: everything installed (the ``naq`` meta distribution), ``tests/integration``
* ``packaging``: builds every distribution into a temporary directory, checks the wheels and
  sdists (``tests/packaging/check_dist.py``) and installs ``naq naq-dashboard`` from them into a
  fresh venv (``tests/packaging``)
* ``lint``: ``ruff check``, ``ruff format --check``, and ``lint-imports`` (the import-linter
  contracts in ``pyproject.toml``: layers point one way, plugins use public core modules only)
* ``typecheck``: ``mypy`` (strict, configured in ``pyproject.toml``) over every ``src/``
* ``docs``: the docs site (``mkdocs.yml``) built with ``mkdocs build --strict`` into a
  temporary directory, after checking that ``docs/hooks.md`` is current

``chaos_short`` (default) runs the chaos suite, ``tests/chaos``, at short sizes (each case
under ~30 s); ``nox -s chaos`` (never part of the default run) runs it at full size, soak
included, and prints each case's figures (``-- --basetemp DIR`` keeps the workers' logs).

``nox -s build`` (not a default session) builds and checks every distribution into ``dist/``;
``nox -s bump -- 0.3.0`` gives the whole naq family a new version (then write the CHANGELOGs).
``nox -s bench`` (never part of the default run) prints the benchmark table; pass
``-- --json out.json`` to keep the figures. Extra arguments after ``--`` go to pytest in the
test sessions (``nox -s tests_core -- -k worker -x``).

The packages are installed from their local directories, all in one install command so the
resolver sees the local ``naq-core`` that the plugins pin (none of them is on a registry).
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_external_run = True
nox.options.sessions = [
    "tests_core",
    "tests_json_serializer",
    "tests_pickle_unsafe",
    "tests_dlq_stream",
    "tests_dlq_jsonl",
    "tests_opentelemetry",
    "tests_prometheus",
    "tests_confirm_purge",
    "tests_dashboard",
    "integration",
    "packaging",
    "chaos_short",
    "lint",
    "typecheck",
    "docs",
]

PYTHON = "3.11"
ROOT = Path(__file__).parent
CORE = "./naq_core[server]"
JSON_SERIALIZER = "./plugins/json-serializer"
PICKLE_UNSAFE = "./plugins/pickle-unsafe"
DLQ_STREAM = "./plugins/dlq-stream"
DLQ_JSONL = "./contrib/dlq-jsonl"
OPENTELEMETRY = "./contrib/opentelemetry[test]"
PROMETHEUS = "./contrib/prometheus"
CONFIRM_PURGE = "./plugins/confirm-purge"
DASHBOARD = "./plugins/dashboard"
# cryptography: test_auth makes its TLS certificates (no openssl binary needed)
TEST_DEPS = (
    "pytest>=8.3",
    "pytest-asyncio>=0.24",
    "pytest-timeout>=2.3",
    "hypothesis>=6.100",
    "cryptography>=42",
)
# The dashboard's tests: Starlette's test client (httpx2) and Playwright for Python, which
# drives Debian's /usr/bin/chromium (it never downloads a browser; .ci/run installs chromium).
DASHBOARD_TEST_DEPS = ("httpx2>=2.16", "playwright>=1.50")
LINT_DEPS = ("ruff==0.17.6",)  # pinned: the same verdict locally and in CI
IMPORT_LINTER = "import-linter==2.17"
TYPECHECK_DEPS = ("mypy==2.4.1",)
# Building and checking the distributions (tests/packaging/): uv builds, twine checks.
PACKAGING_DEPS = ("uv>=0.5", "twine>=6.1", "trove-classifiers", "packaging>=24.2")
# The docs site (mkdocs.yml). mkdocs < 2: Material and the plugins are built for 1.x.
DOCS_DEPS = ("mkdocs>=1.6,<2", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.27", "mkdocs-click>=0.8")


def _exists(path: str) -> bool:
    """True if ``path`` (``./dir`` or ``./dir[extra]``) is a project with a pyproject.toml."""
    directory = path.split("[", 1)[0]
    return (ROOT / directory / "pyproject.toml").is_file()


def _plugins() -> list[str]:
    """Every first-party plugin that exists in this checkout, as ``./plugins/<name>``."""
    return sorted(f"./{p.parent.relative_to(ROOT).as_posix()}" for p in ROOT.glob("plugins/*/pyproject.toml"))


def _install_local(session: nox.Session, *paths: str, extra: tuple[str, ...] = ()) -> None:
    """Install local projects (editable, in one resolver run) plus ``extra`` requirements.

    Editable, so that uv's wheel cache (keyed on pyproject.toml) can never hand a session
    stale code from an earlier build of the same directory.
    """
    missing = [p for p in paths if not _exists(p)]
    if missing:
        session.skip(f"not in this checkout yet: {', '.join(missing)}")
    args: list[str] = []
    for path in paths:
        args += ["-e", path]
    session.install(*args, *extra)


def _pytest(session: nox.Session, *targets: str) -> None:
    session.run("pytest", *targets, *session.posargs)


@nox.session(python=PYTHON)
def tests_core(session: nox.Session) -> None:
    """naq-core's own tests (the JSON serializer is the serializer they run jobs with)."""
    _install_local(session, CORE, JSON_SERIALIZER, extra=TEST_DEPS)
    _pytest(session, "naq_core/tests")


@nox.session(python=PYTHON)
def tests_json_serializer(session: nox.Session) -> None:
    """The JSON serializer plugin with naq-core, nothing else."""
    _install_local(session, CORE, JSON_SERIALIZER, extra=TEST_DEPS)
    _pytest(session, f"{JSON_SERIALIZER}/tests")


@nox.session(python=PYTHON)
def tests_pickle_unsafe(session: nox.Session) -> None:
    """The pickle plugin with naq-core, nothing else."""
    _install_local(session, CORE, PICKLE_UNSAFE, extra=TEST_DEPS)
    _pytest(session, f"{PICKLE_UNSAFE}/tests")


@nox.session(python=PYTHON)
def tests_dlq_stream(session: nox.Session) -> None:
    """The dlq-stream plugin with naq-core (+ the JSON serializer its workers use)."""
    _install_local(session, CORE, JSON_SERIALIZER, DLQ_STREAM, extra=TEST_DEPS)
    _pytest(session, f"{DLQ_STREAM}/tests")


@nox.session(python=PYTHON)
def tests_dlq_jsonl(session: nox.Session) -> None:
    """contrib/dlq-jsonl, a sink on public hooks only (+ the JSON serializer)."""
    _install_local(session, CORE, JSON_SERIALIZER, DLQ_JSONL, extra=TEST_DEPS)
    _pytest(session, f"{DLQ_JSONL}/tests")


@nox.session(python=PYTHON)
def tests_opentelemetry(session: nox.Session) -> None:
    """contrib/opentelemetry, tracing on public hooks only (+ the JSON serializer, the OTel SDK)."""
    _install_local(session, CORE, JSON_SERIALIZER, OPENTELEMETRY, extra=TEST_DEPS)
    _pytest(session, "./contrib/opentelemetry/tests")


@nox.session(python=PYTHON)
def tests_prometheus(session: nox.Session) -> None:
    """contrib/prometheus, metrics on public hooks only (+ the JSON serializer, and the dashboard
    with Starlette's test client so that its panel test runs)."""
    _install_local(
        session, CORE, JSON_SERIALIZER, DASHBOARD, PROMETHEUS, extra=(*TEST_DEPS, *DASHBOARD_TEST_DEPS[:1])
    )
    _pytest(session, f"{PROMETHEUS}/tests")


@nox.session(python=PYTHON)
def tests_confirm_purge(session: nox.Session) -> None:
    """The confirm-purge plugin with naq-core[server], nothing else (its tests bring a serializer)."""
    _install_local(session, CORE, CONFIRM_PURGE, extra=TEST_DEPS)
    _pytest(session, f"{CONFIRM_PURGE}/tests")


@nox.session(python=PYTHON)
def tests_dashboard(session: nox.Session) -> None:
    """naq-dashboard with naq-core, the JSON serializer and dlq-stream (whose panel it shows)."""
    _install_local(
        session, CORE, JSON_SERIALIZER, DLQ_STREAM, DASHBOARD, extra=(*TEST_DEPS, *DASHBOARD_TEST_DEPS)
    )
    _pytest(session, f"{DASHBOARD}/tests")


@nox.session(python=PYTHON)
def integration(session: nox.Session) -> None:
    """Everything installed the way users install it (``naq`` + every plugin)."""
    # uv: the plugin-template and writing-plugins tests make fresh venvs with it (pip is slower)
    _install_local(session, ".", CORE, *_plugins(), extra=(*TEST_DEPS, *DASHBOARD_TEST_DEPS, "uv"))
    _pytest(session, "tests/integration")


# The chaos suite's workers load the JSON serializer and dlq-stream (dead letters).
CHAOS_PACKAGES = (CORE, JSON_SERIALIZER, DLQ_STREAM)


def _chaos(session: nox.Session, scale: str) -> None:
    _install_local(session, *CHAOS_PACKAGES, extra=TEST_DEPS)
    env = {"NAQ_CHAOS_SCALE": scale, "NAQ_CHAOS_FULL": "1" if scale == "full" else "0"}
    timeout = ["--timeout", "7200"] if scale == "full" else []
    session.run("pytest", "tests/chaos", *timeout, *session.posargs, env=env)


@nox.session(python=PYTHON)
def chaos_short(session: nox.Session) -> None:
    """The chaos suite at short sizes (workers killed, stopped, outlived; servers stopped)."""
    _chaos(session, "short")


@nox.session(python=PYTHON, default=False)
def chaos(session: nox.Session) -> None:
    """The chaos suite at full size, with the 1,000,000-job soak (``NAQ_CHAOS_SOAK_JOBS``)."""
    _chaos(session, "full")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint rules and formatting, the whole repository) and the import-linter contracts.

    ``lint-imports`` reads the packages' import graph, so every package is installed
    (editable, as in ``typecheck``), contrib's dead-letter sink included.
    """
    _install_local(
        session, CORE, *_plugins(), DLQ_JSONL, OPENTELEMETRY, PROMETHEUS, extra=(*LINT_DEPS, IMPORT_LINTER)
    )
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict (see pyproject.toml) over naq-core and every plugin's sources."""
    plugins = _plugins()
    # naq_core.testing imports pytest and hypothesis: their types are part of the check.
    _install_local(session, CORE, *plugins, extra=(*TYPECHECK_DEPS, *TEST_DEPS))
    sources = ["naq_core/src", *(f"{p.removeprefix('./')}/src" for p in plugins)]
    session.run("mypy", *sources, *session.posargs)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """The docs site, built with ``mkdocs build --strict`` into a temporary directory.

    Fails on a broken link or anchor, a page missing from the nav, a docstring cross-reference
    that leads nowhere, or a stale ``docs/hooks.md``. The CLI reference is generated from the
    click commands during the build, plugin commands included (every plugin is installed).
    """
    # LINT_DEPS brings ruff, which mkdocstrings formats the signatures with
    _install_local(session, CORE, *_plugins(), DLQ_JSONL, extra=(*DOCS_DEPS, *LINT_DEPS))
    session.run("python", "docs/gen_hooks.py", "--check")
    site = Path(session.create_tmp()).resolve() / "site"
    session.run("mkdocs", "build", "--strict", "--site-dir", str(site), env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Throughput and latency figures against raw nats-py (``-- --jobs 2000 --json out.json``)."""
    _install_local(session, ".", CORE, *_plugins(), extra=("taskiq-nats",))
    session.run("python", "tests/benchmarks/run.py", *session.posargs)


def _build_dists(session: nox.Session, out: Path) -> None:
    """A wheel and an sdist of every distribution into ``out`` (tests/packaging/build_dists.py)."""
    session.install(*PACKAGING_DEPS)
    session.run("python", "tests/packaging/build_dists.py", str(out))


@nox.session(python=PYTHON, default=False)
def build(session: nox.Session) -> None:
    """Wheels and sdists of naq, naq-core, every plugin and contrib project into dist/, checked."""
    dist = ROOT / "dist"
    _build_dists(session, dist)
    session.run("python", "tests/packaging/check_dist.py", str(dist))


@nox.session(python=PYTHON)
def packaging(session: nox.Session) -> None:
    """Build every distribution afresh, check its metadata, install it the README's way.

    tests/packaging installs ``naq naq-dashboard`` from the built files into a fresh venv and
    runs ``naq --plugins``, ``naq dev --exit-after-samples`` and ``naq dashboard``.
    """
    dist = Path(session.create_tmp()).resolve() / "dist"
    _build_dists(session, dist)
    # The test process itself needs naq-core's fixtures: from the built wheel, not the tree.
    (core,) = dist.glob("naq_core-*.whl")
    session.install(f"naq-core[server] @ {core.as_uri()}", *TEST_DEPS)
    session.run("pytest", "tests/packaging", *session.posargs, env={"NAQ_DIST_DIR": str(dist)})


@nox.session(python=PYTHON, default=False)
def bump(session: nox.Session) -> None:
    """One new version for the whole naq family: ``nox -s bump -- 0.3.0`` (then the CHANGELOGs)."""
    if len(session.posargs) != 1:
        session.error("usage: nox -s bump -- NEW_VERSION")
    session.install("packaging>=24.2")
    session.run("python", "tests/packaging/bump_version.py", *session.posargs)
