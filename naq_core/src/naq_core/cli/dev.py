"""``naq dev``: an embedded NATS server, a worker and sample jobs in one command.

Like ``temporal server start-dev``: everything a developer needs to see naq work, gone on
Ctrl-C (data lives in a temporary directory unless ``--store-dir`` is given).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from naq_core.cli._state import CliState, add_cwd_to_path, get_state, run_async, sigterm_as_interrupt
from naq_core.cli.server import port_option, start_and_announce, store_dir_option

__all__ = ["dev"]

_STOP_TIMEOUT = 10.0


def _start_dashboard(
    ctx: click.Context, state: CliState, url: str, port: int
) -> subprocess.Popen[bytes] | None:
    """Run ``naq dashboard`` (from naq-dashboard) against ``url`` in a child process."""
    if importlib.util.find_spec("naq_dashboard") is None:
        click.echo("Dashboard: not installed (pip install naq-dashboard for a web UI)")
        return None
    root = ctx.find_root()
    group = root.command
    if not isinstance(group, click.Group) or group.get_command(root, "dashboard") is None:
        click.echo(
            "Dashboard: naq-dashboard is installed but its plugin is not loaded (see NAQ_LOAD_PLUGINS)"
        )
        return None
    argv = [sys.executable, "-m", "naq_core.cli"]
    if state.config_path is not None:
        argv += ["--config", str(state.config_path)]
    if state.log_level:
        argv += ["--log-level", state.log_level]
    if state.log_format:
        argv += ["--log-format", state.log_format]
    argv += ["dashboard", "--port", str(port)]
    env = {**os.environ, "NAQ_NATS_URL": url}
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL)
    click.echo(f"Dashboard: http://127.0.0.1:{port} (pid {proc.pid})")
    return proc


def _stop_child(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=_STOP_TIMEOUT)


@click.command()
@port_option
@store_dir_option(help="Keep JetStream data here (default: a temporary directory, deleted on exit).")
@click.option("-c", "--concurrency", type=click.IntRange(min=1), help="Worker concurrency. Default: 10.")
@click.option("--no-samples", is_flag=True, help="Do not enqueue the sample jobs.")
@click.option(
    "--exit-after-samples",
    "--once",
    "once",
    is_flag=True,
    help="Run the samples, print their results and exit (0 if all ended as intended).",
)
@click.option(
    "--dashboard-port",
    type=click.IntRange(1, 65535),
    default=8080,
    show_default=True,
    help="Port of the dashboard, when naq-dashboard is installed.",
)
@click.option("--no-dashboard", is_flag=True, help="Do not start the dashboard.")
@click.pass_context
def dev(
    ctx: click.Context,
    port: int,
    store_dir: Path | None,
    concurrency: int | None,
    no_samples: bool,
    once: bool,
    dashboard_port: int,
    no_dashboard: bool,
) -> None:
    """Run NATS, a worker, sample jobs and the dashboard, for development.

    The worker runs the sample tasks of naq_core.cli.samples plus the config's `tasks`, and a few
    sample jobs are enqueued to show results, retries, failures and dependencies. Ctrl-C
    drains the worker and stops the server.
    """
    from naq_core.cli._devrun import run_dev
    from naq_core.server import EmbeddedServer

    if once and no_samples:
        raise click.UsageError("--exit-after-samples needs the samples; drop --no-samples", ctx)
    state = get_state(ctx)
    state.default_log_level = "info"
    state.config()  # a bad config fails before anything starts
    add_cwd_to_path()
    temporary = store_dir is None
    store = Path(tempfile.mkdtemp(prefix="naq-dev-")) if store_dir is None else store_dir
    embedded = EmbeddedServer(port=port, store_dir=store)
    dashboard: subprocess.Popen[bytes] | None = None
    with sigterm_as_interrupt():
        try:
            start_and_announce(embedded, store_note=", deleted on exit" if temporary else "")
            config = state.config(nats_url=embedded.url, concurrency=concurrency)
            if not once and not no_dashboard:
                dashboard = _start_dashboard(ctx, state, embedded.url, dashboard_port)
            run_async(run_dev(config, samples=not no_samples, once=once))
            click.echo("Stopped." if not once else "Done.")
        except KeyboardInterrupt:
            click.echo("Stopped.", err=True)
        finally:
            if dashboard is not None:
                _stop_child(dashboard)
            embedded.stop()
            if temporary:
                shutil.rmtree(store, ignore_errors=True)
