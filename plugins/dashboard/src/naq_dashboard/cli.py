"""``naq dashboard``: serve the dashboard with uvicorn (loopback unless auth is configured)."""

from __future__ import annotations

import ipaddress

import click

from naq_core.cli.context import NaqContext, pass_naq_context
from naq_core.errors import ConfigurationError

__all__ = ["dashboard", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", help="Address to listen on. Default: 127.0.0.1 ([tool.naq.dashboard] host).")
@click.option(
    "--port", type=click.IntRange(1, 65535), help="Port. Default: 8080 ([tool.naq.dashboard] port)."
)
@click.option(
    "--read-only", is_flag=True, default=None, help="Turn every action off (enforced by the server)."
)
@pass_naq_context
def dashboard(ctx: NaqContext, /, host: str | None, port: int | None, read_only: bool | None) -> None:
    """Serve the web dashboard (queues, jobs, schedules, workers, dead letters)."""
    import uvicorn

    from naq_dashboard.app import create_app
    from naq_dashboard.settings import DashboardSettings

    config = ctx.config
    try:
        settings = DashboardSettings.from_config(config)
    except (ConfigurationError, TypeError) as exc:
        ctx.fail(str(exc))
    host = host or settings.host
    port = port or settings.port
    if not is_loopback(host) and not settings.has_auth:
        ctx.fail(
            f"refusing to serve the dashboard on {host} without authentication: set "
            "NAQ_DASHBOARD_TOKEN (or [tool.naq.dashboard] token, or username and password), "
            "or listen on 127.0.0.1"
        )
    app = create_app(config, read_only=read_only or None, hooks=ctx.hooks)
    where = f"[{host}]" if ":" in host else host
    click.echo(f"naq dashboard on http://{where}:{port} (Ctrl-C stops it)")
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")
    )
    server.run()
