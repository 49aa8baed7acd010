"""Every example of docs/examples runs end to end, exactly as its README says.

For each example folder (found on disk, so a new one is tested without touching this file):
a private NATS server, the ``naq worker ...`` line of its README run from a copy of the
folder, then ``python main.py`` with a bounded wait. The producer must exit 0 and print the
facts listed in ``EXPECTED`` (results, attempts, statuses). The worker is stopped by its pid.

Runs in the ``integration`` nox session and from a dev environment with every package
installed (``pytest tests/integration/test_examples.py``). The plugin example (a folder with
a pyproject.toml) is not installed: a throwaway distribution offers its entry points.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from naq_core.server import EmbeddedServer
from naq_core.testing.process import ChildProcess, ChildProcesses, naq_argv, stop_process, write_distribution

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
FOLDERS = sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and re.match(r"^\d\d-", p.name))
FILES = ("README.md", "tasks.py", "main.py")
START = 30.0  # seconds for a worker to start
RUN = 60.0  # seconds for a producer to end: each waits for its jobs with bounded timeouts
STOP = 20.0  # seconds for a worker to stop after SIGTERM (its jobs are done by then), else SIGKILL
# Machine paths and package-index hosts (spelled so that this file does not contain them).
FORBIDDEN = ("/" + "work/", "/" + "tmp/", r"/home/\w", r"/Users/\w", "py" + r"pi\.org", "python" + "hosted")

#: What each example's ``python main.py`` must print: regular expressions, each searched in
#: its stdout. Every example has an entry (see test_every_example_has_expectations).
EXPECTED: dict[str, list[str]] = {
    "01-hello-world": [
        r"enqueued tasks:add as job [0-9a-f]{32}\n",
        r"add\(2, 3\) = 5\n",
        r"greet\('naq'\) = 'hello, naq'\n",
        r"status of job [0-9a-f]{32}: completed\n",
    ],
    "02-sync-web-app": [
        r"POST /count -> job [0-9a-f]{32}\n",
        r'GET /jobs/<id> -> status completed, result \{"be": 2, "not": 1, "or": 1, "to": 2\}\n',
        r'GET /wait/<id> -> \{"result": \{"naq": 3\}, "status": "completed"\}\n',
        r"GET /jobs/no-such-job -> 404 no job no-such-job\n",
    ],
    "03-retries": [
        r"exponential backoff: result 'succeeded on attempt 3' after 3 attempts\n",
        r"list backoff, retry_on=\[ConnectionError\]: result 'succeeded on attempt 3' after 3 attempts\n",
        r"always down, max_retries=2: failed \(ConnectionError\) after 3 attempts\n",
        r"ignore_on=\[PermissionError\]: failed \(PermissionError\) after 1 attempt\n",
        r"ValueError with retry_on=\['ConnectionError'\]: failed \(ValueError\) after 1 attempt\n",
    ],
    "04-dependencies": [
        r"merge is waiting until a and b complete\n",
        r"report built after the merge\n",
        r"merged a\.csv, b\.csv\n",
        r"merge: dependency_failed \(DependencyFailed: dependency deps\.[0-9a-f]{32} ended failed\)\n",
        r"report: dependency_failed "
        r"\(DependencyFailed: dependency deps\.[0-9a-f]{32} ended dependency_failed\)\n",
        r"download of missing\.csv: failed \(FileNotFoundError\)\n",
    ],
    "05-scheduling": [
        r"enqueue_in: job [0-9a-f]{32} is scheduled\n",
        r"enqueue_in\(1 s\) -> reminded ada\n",
        r"enqueue_at\(now \+ 2 s\) -> reminded grace\n",
        r"cancelled one-off: cancelled\n",
        r"interval: fired 2 times, now done\n",
        r"interval: last firing -> interval tick\n",
        r"cron: fired at least 2 times, then cancelled\n",
        r"cron: the cancelled schedule is gone\n",
        r"active schedules left on this queue: 0\n",
    ],
    "06-queues-and-results": [
        r"enqueued 10 jobs on 'reports' in one batch\n",
        r"squares: \[1, 4, 9, 16, 25, 36, 49, 64, 81, 100\]\n",
        r"total: 385\n",
        r"email: sent 'Your report' to ada@example\.com\n",
        r"workers that ran these jobs: 1\n",
    ],
    "07-error-handling": [
        r"failed: ValueError: not an amount: 'twelve'\n",
        r"remote traceback: 2 frames in tasks\.py, the last in _parse\n",
        r"timeout=0\.5: JobTimeoutError: job exceeded its timeout of 0\.5 s\n",
        r"waited 0\.1 s: TimeoutError, the job is still (pending|running)\n",
        r"waited longer: slept 1 s\n",
        r"unknown job id: JobNotFoundError\n",
        r"unknown task: TaskNotFoundError\n",
        r"charge_card: ConnectionError after 2 attempts\n",
        r"dead letter: reason 'retries exhausted', 2 attempts, payment provider refused card 4242\n",
    ],
    "08-dead-letter-plugin": [
        r"plugin example-sink from naq-example-sink: naq_register_dead_letter_sinks\n",
        r"job failed: ConnectionError\n",
        r"example-dead-letters\.jsonl: tasks:import_orders retries exhausted after 2 attempts\n",
    ],
}


def _name(path: Path) -> str:
    return path.parent.name if path.name == "README.md" else path.name


def _worker_command(readme: str) -> list[str]:
    """The ``naq worker ...`` line of a README, as arguments after ``naq``."""
    lines = [line.strip() for line in readme.splitlines() if line.strip().startswith("naq worker ")]
    assert len(lines) == 1, f"expected one `naq worker` line in the README, found {lines}"
    argv = shlex.split(lines[0])
    assert "-t" in argv or "--tasks" in argv, lines[0]
    return argv[1:]


def _env(nats_url: str) -> dict[str, str]:
    """This environment without the machine's NAQ_* settings, pointed at the test server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAQ_")}
    env["NAQ_NATS_URL"] = nats_url
    env["NO_COLOR"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _as_installed(folder: Path, env: dict[str, str]) -> None:
    """If the example is a plugin project (pyproject.toml), make it look ``pip install -e .``-ed.

    A throwaway distribution in ``folder/site`` offers the project's ``naq`` entry points, and
    the folder itself is on the path: what an editable install gives, without installing.
    """
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return
    project = tomllib.loads(pyproject.read_text())["project"]
    entry_points = project["entry-points"]["naq"]
    assert entry_points, "a plugin project offers at least one `naq` entry point"
    site = folder / "site"
    write_distribution(site, project["name"], entry_points, version=project["version"])
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(folder), *[p for p in sys.path if p]])


def _stop(worker: ChildProcess) -> int | None:
    """SIGTERM by pid, a bounded wait, SIGKILL if it is still running. Its exit code."""
    if worker.popen.poll() is None:
        os.kill(worker.pid, signal.SIGTERM)
    try:
        return worker.popen.wait(timeout=STOP)
    except subprocess.TimeoutExpired:
        stop_process(worker.popen)
        return None


def test_examples_are_found() -> None:
    assert len(FOLDERS) >= 8, [p.name for p in FOLDERS]
    assert [p.name[:2] for p in FOLDERS] == [f"{n:02d}" for n in range(1, len(FOLDERS) + 1)]


@pytest.mark.parametrize("folder", FOLDERS, ids=_name)
def test_every_example_has_readme_tasks_and_main(folder: Path) -> None:
    for name in FILES:
        assert (folder / name).is_file(), f"{folder.name} has no {name}"
    readme = (folder / "README.md").read_text()
    _worker_command(readme)
    assert "python main.py" in readme
    assert f"]({folder.name}" in (EXAMPLES / "README.md").read_text(), f"{folder.name} is not in the index"


@pytest.mark.parametrize("page", [EXAMPLES / "README.md", *(f / "README.md" for f in FOLDERS)], ids=_name)
def test_readme_links_point_to_existing_files(page: Path) -> None:
    links = re.findall(r"\]\(([^)\s#]+)[^)]*\)", page.read_text())
    for target in links:
        if not re.match(r"^[a-z]+:", target):
            assert (page.parent / target).exists(), f"{page}: broken link {target}"


@pytest.mark.parametrize("folder", FOLDERS, ids=_name)
def test_no_machine_paths_or_registry_hosts(folder: Path) -> None:
    for path in [EXAMPLES / "README.md", *sorted(folder.iterdir())]:
        if path.is_file():
            for pattern in FORBIDDEN:
                assert not re.search(pattern, path.read_text()), f"{path.name} contains {pattern!r}"


@pytest.mark.parametrize("folder", FOLDERS, ids=_name)
def test_every_example_has_expectations(folder: Path) -> None:
    assert EXPECTED.get(folder.name), f"add what {folder.name}/main.py must print to EXPECTED"


@pytest.mark.parametrize("folder", FOLDERS, ids=_name)
def test_example_runs_end_to_end(
    folder: Path, fresh_nats_server: EmbeddedServer, child_processes: ChildProcesses, tmp_path: Path
) -> None:
    work = tmp_path / folder.name  # a copy: nothing the run writes lands in the repository
    shutil.copytree(folder, work, ignore=shutil.ignore_patterns("__pycache__", "*.jsonl", "*.egg-info"))
    env = _env(fresh_nats_server.url)
    _as_installed(work, env)

    worker = child_processes.start(
        naq_argv(*_worker_command((work / "README.md").read_text())), env=env, cwd=work
    )
    worker.wait_for("worker_started", timeout=START)
    producer = child_processes.start([sys.executable, "main.py"], env=env, cwd=work)
    code = producer.wait(timeout=RUN)
    out = producer.stdout
    worker_alive = worker.popen.poll() is None
    worker_code = _stop(worker)

    report = f"--- main.py output:\n{producer.output}\n--- worker output:\n{worker.output}"
    assert code == 0, report
    assert worker_alive, report
    for pattern in EXPECTED[folder.name]:
        assert re.search(pattern, out), f"{pattern!r} not printed\n{report}"
    assert "Traceback" not in producer.stderr, report
    assert worker_code == 0, report
