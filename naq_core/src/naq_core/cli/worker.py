"""``naq worker``: run jobs from one or more queues until SIGTERM / Ctrl-C."""

from __future__ import annotations

import click

from naq_core.cli._complete import complete_queue
from naq_core.cli._state import add_cwd_to_path, get_state, sigterm_as_interrupt
from naq_core.cli.params import QUEUE_NAME

__all__ = ["worker"]


@click.command()
@click.argument("queues", nargs=-1, type=QUEUE_NAME, metavar="[QUEUE]...", shell_complete=complete_queue)
@click.option(
    "-t",
    "--tasks",
    "task_modules",
    multiple=True,
    metavar="MODULE",
    help="Module whose public functions the worker may run (repeatable; added to the config's tasks).",
)
@click.option("-c", "--concurrency", type=click.IntRange(min=1), help="Jobs run at once. Default: 10.")
@click.option(
    "--shutdown-timeout",
    type=click.FloatRange(min=0),
    metavar="S",
    help="Seconds running jobs get to finish after SIGTERM. Default: 30.",
)
@click.option("--name", metavar="NAME", help="Worker name (default: the host name); shown by `naq workers`.")
@click.pass_context
def worker(
    ctx: click.Context,
    queues: tuple[str, ...],
    task_modules: tuple[str, ...],
    concurrency: int | None,
    shutdown_timeout: float | None,
    name: str | None,
) -> None:
    """Run jobs from QUEUE(s) (default: the config's default_queue).

    Only registered tasks run: functions decorated with @task in imported modules, and the
    public functions of every module named with -t or in the config's `tasks`. The current
    directory is importable, so `naq worker -t myapp.tasks` works from your project. A
    worker with no task registered warns (no_tasks_registered) when it starts.
    SIGTERM or Ctrl-C stops fetching and lets running jobs finish (--shutdown-timeout).
    """
    from naq_core.worker import Worker

    state = get_state(ctx)
    state.default_log_level = "info"
    config = state.config(concurrency=concurrency, shutdown_timeout=shutdown_timeout)
    add_cwd_to_path()
    tasks = tuple(dict.fromkeys((*config.tasks, *task_modules)))
    with sigterm_as_interrupt():  # until the worker installs its own handlers
        runner = Worker(list(queues) or None, config=config, tasks=tasks, worker_name=name)
        runner.run_sync()
