"""Tasks defined in the script being run (``__main__``), unknown tasks, and a worker with none.

A function of ``python app/jobs.py`` is enqueued as ``jobs:func`` (what ``naq worker -t
jobs`` registers), one of ``python -m pkg.jobs`` as ``pkg.jobs:func``; where no worker could
import ``__main__`` (``python -c``, standard input) the enqueue is refused with a message
saying what to do.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
import types
import uuid
from pathlib import Path

import pytest
import structlog
from support import collect_dead_letters

from naq_core import ConfigurationError, JobFailedError, Queue, task
from naq_core import registry as registry_module
from naq_core import worker as worker_module
from naq_core.registry import TaskRegistry, main_module_name, task_name
from naq_core.testing.process import ChildProcesses, naq_argv, naq_env
from naq_core.testing.worker import running_worker, wait_until

RUN_TIMEOUT = 60.0


def _script(enqueue_each: str) -> str:
    """A user's script: tasks ``double`` and ``triple`` (one ``@task``), and a ``main(url, queue)``
    that runs ``enqueue_each`` for each with ``q`` and ``func``, run when the file is ``__main__``."""
    return f"""\
import asyncio
import sys

from naq_core import ConfigurationError, Queue, task


def double(x):
    return 2 * x


@task
def triple(x):
    return 3 * x


async def main(url, queue):
    async with Queue(queue, url) as q:
        for func in (double, triple):
{textwrap.indent(textwrap.dedent(enqueue_each), " " * 12)}

if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


# A script in a file a worker can import (`-t`): prints each job's name and result.
SCRIPT = _script("""\
    job = await q.enqueue(func, 7)
    print(job.function, await q.fetch_job_result(job, timeout=30), flush=True)
""")

# What a user types after `python -c` (or pipes into `python -`): nothing a worker can import.
INLINE = _script("""\
    try:
        await q.enqueue(func, 7)
    except ConfigurationError as exc:
        print("refused:", exc, flush=True)
    else:
        print("enqueued", func.__name__, flush=True)
""")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return naq_env(tmp_path, {"json": "naq_json_serializer"})


async def _run(
    argv: list[str], *, cwd: Path, env: dict[str, str], stdin: str | None = None
) -> tuple[int, str]:
    """Run ``argv`` to its end (bounded), on this loop so an in-process worker keeps working."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else None), RUN_TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_a_script_run_as_python_script_py_enqueues_tasks_a_worker_runs(
    nats_url: str, queue_name: str, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    module = f"jobs_{uuid.uuid4().hex[:8]}"
    (app / f"{module}.py").write_text(SCRIPT)
    monkeypatch.syspath_prepend(str(app))  # the worker's `-t`: its directory is importable
    async with running_worker(nats_url, queue_name, tasks=[module]):
        code, out = await _run(
            [sys.executable, str(app / f"{module}.py"), nats_url, queue_name], cwd=tmp_path, env=env
        )
    assert code == 0, out
    assert out.splitlines() == [f"{module}:double 14", f"{module}:triple 21"]


async def test_a_module_run_with_python_m_enqueues_under_its_dotted_name(
    nats_url: str, queue_name: str, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    package = f"pkg_{uuid.uuid4().hex[:8]}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "jobs.py").write_text(SCRIPT)
    monkeypatch.syspath_prepend(str(tmp_path))
    async with running_worker(nats_url, queue_name, tasks=[f"{package}.jobs"]):
        code, out = await _run(
            [sys.executable, "-m", f"{package}.jobs", nats_url, queue_name], cwd=tmp_path, env=env
        )
    assert code == 0, out
    assert out.splitlines() == [f"{package}.jobs:double 14", f"{package}.jobs:triple 21"]


@pytest.mark.parametrize("how", ["-c", "stdin"])
async def test_python_c_and_stdin_are_refused_at_enqueue_with_what_to_do(
    nats_url: str, queue_name: str, tmp_path: Path, env: dict[str, str], how: str
) -> None:
    if how == "-c":
        code, out = await _run([sys.executable, "-c", INLINE, nats_url, queue_name], cwd=tmp_path, env=env)
    else:
        code, out = await _run(
            [sys.executable, "-", nats_url, queue_name], cwd=tmp_path, env=env, stdin=INLINE
        )
    assert code == 0, out
    lines = out.splitlines()
    assert len(lines) == 2 and all(line.startswith("refused: ") for line in lines), out
    assert "cannot enqueue 'double'" in lines[0] and "cannot enqueue 'triple'" in lines[1]
    assert "Move the function into a module" in lines[0]
    assert "naq worker QUEUE -t tasks" in lines[0]
    async with Queue(queue_name, nats_url) as q:
        assert await q.count() == 0


def _fake_main(monkeypatch: pytest.MonkeyPatch, file: Path) -> types.ModuleType:
    main = types.ModuleType("__main__")
    main.__file__ = str(file)
    main.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", main)
    exec("def send(): pass", main.__dict__)  # a function whose __module__ is "__main__"
    return main


def test_a_script_in_a_package_folder_is_named_from_the_sys_path_entry_above_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "app" / "shop"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    script = package / "jobs.py"
    script.write_text("")
    main = _fake_main(monkeypatch, script)
    monkeypatch.setattr(sys, "path", [str(package), *sys.path])  # what `python app/shop/jobs.py` does
    assert main_module_name() == "jobs"
    monkeypatch.setattr(sys, "path", [str(package), str(tmp_path / "app"), *sys.path])
    assert main_module_name() == "shop.jobs"
    assert task_name(main.send) == "shop.jobs:send"
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in (str(package), str(tmp_path / "app"))])
    assert main_module_name() is None
    with pytest.raises(ConfigurationError, match="naq worker QUEUE -t tasks"):
        task_name(main.send)


def test_nested_functions_are_refused_with_what_to_do() -> None:
    def nested() -> None: ...

    with pytest.raises(ConfigurationError, match=r"module-level function.*naq worker QUEUE -t"):
        task_name(nested)


async def test_unknown_task_error_names_the_task_and_the_worker_command(
    nats_url: str, queue_name: str
) -> None:
    sink = collect_dead_letters()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name, tasks=["worker_tasks"]):
        billing = await q.enqueue("billing.tasks:charge", 10)
        stranded = await q.enqueue("__main__:charge", 10)
        with pytest.raises(JobFailedError) as billing_error:
            await q.fetch_job_result(billing, timeout=10)
        with pytest.raises(JobFailedError) as stranded_error:
            await q.fetch_job_result(stranded, timeout=10)
        await wait_until(lambda: len(sink.letters) == 2, timeout=10)
    expected = (
        f"unknown task 'billing.tasks:charge': not registered with this worker; "
        f"start it with `naq worker {queue_name} -t billing.tasks`"
    )
    assert billing_error.value.error_type == "TaskNotFoundError"
    assert billing_error.value.error.startswith(expected)
    assert "move the function into a module" in stranded_error.value.error
    letters = {letter.job_id: letter for letter in sink.letters}
    assert (letters[billing.job_id].error or "").startswith(expected)
    assert "move the function into a module" in (letters[stranded.job_id].error or "")


def test_registry_lookup_error_suggests_the_module() -> None:
    from naq_core.errors import TaskNotFoundError

    with pytest.raises(TaskNotFoundError, match=r"naq worker QUEUE -t billing\.tasks"):
        TaskRegistry().get("billing.tasks:charge")
    with pytest.raises(TaskNotFoundError, match=r"-t MODULE"):
        TaskRegistry().get("custom-name")


async def test_a_worker_with_no_tasks_warns_at_start(
    nats_url: str, queue_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "default_registry", TaskRegistry())  # no @task of other tests
    with structlog.testing.capture_logs() as logs:
        async with running_worker(nats_url, queue_name):
            pass
        async with running_worker(nats_url, queue_name, tasks=["worker_tasks"]):
            pass
    warnings = [e for e in logs if e["event"] == "no_tasks_registered"]
    assert len(warnings) == 1 and warnings[0]["log_level"] == "warning"
    assert "-t" in warnings[0]["hint"]


def test_naq_worker_with_no_tasks_warns_on_stderr(
    nats_url: str, queue_name: str, tmp_path: Path, env: dict[str, str]
) -> None:
    with ChildProcesses() as children:
        worker = children.start(naq_argv("--nats-url", nats_url, "worker", queue_name), env=env, cwd=tmp_path)
        worker.wait_for("worker_started")
        assert worker.signal(signal.SIGTERM) == 0, worker.output
    [line] = [line for line in worker.stderr.splitlines() if "no_tasks_registered" in line]
    assert "warning" in line.lower() and "-t myapp.tasks" in line


def test_a_decorated_task_in_an_unimportable_main_still_registers(monkeypatch: pytest.MonkeyPatch) -> None:
    """``@task`` in a notebook works for a worker in that notebook; enqueueing is refused."""
    registry = TaskRegistry()
    monkeypatch.setattr(registry_module, "default_registry", registry)
    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)  # like `python -c`: no __file__
    exec("def notebook_task(): return 1", main.__dict__)
    decorated = task(main.notebook_task)
    assert registry.get("__main__:notebook_task") is decorated
    with pytest.raises(ConfigurationError, match="cannot enqueue 'notebook_task'"):
        task_name(decorated)
