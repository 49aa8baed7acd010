"""Queues: every queue's counts, pause and resume (consumer pause), purge with a typed confirmation.

A purge shows how many jobs will go, asks the user to type the queue's name (checked here,
on the server), then asks the ``naq_confirm_destructive`` hook with ``force=True`` (the
typed name is the confirmation) so a policy plugin can still refuse. Every action has a
JSON twin under ``/api/queues``.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from naq_core.config import validate_queue_name
from naq_core.errors import ConfigurationError
from naq_core.job_control import pause, resume
from naq_core.panels import Panel, panel_host
from naq_core.plugins import Hooks, get_hooks
from naq_core.queue import Queue
from naq_dashboard.pages import MAX_TEXT, json_response, read_form, redirect, render
from naq_dashboard.panels.overview import TOPICS
from naq_dashboard.queue_state import DISCOVERY_SUBJECTS, QueueState, read_board, read_queue

__all__ = ["PurgeRefused", "panel"]


class PurgeRefused(Exception):
    """A purge not done: wrong typed confirmation (400), or a policy plugin said no (403)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _queue(request: Request) -> str:
    """The queue named in the URL (400 when it is not a valid queue name)."""
    name = str(request.path_params["queue"])
    try:
        return validate_queue_name(name[: MAX_TEXT + 1])
    except ConfigurationError as exc:
        raise HTTPException(400, str(exc)) from None


async def _known(request: Request, queue: str) -> QueueState:
    state = await read_queue(await panel_host(request).connection(), queue)
    if state is None:
        raise HTTPException(404, f"no queue {queue!r}: no worker ever served it and no job waits in it")
    return state


def _hooks(request: Request) -> Hooks:
    hooks = getattr(panel_host(request), "hooks", None)
    return hooks if isinstance(hooks, Hooks) else get_hooks()


async def _purge(request: Request, queue: str, typed: str) -> int:
    """Purge ``queue`` if ``typed`` is its name and no policy refuses; how many jobs went."""
    state = await _known(request, queue)
    if typed.strip() != queue:
        raise PurgeRefused(f"not purged: type the queue name {queue!r} to confirm", 400)
    if not _hooks(request).confirm_destructive(action="purge", target=queue, count=state.jobs, force=True):
        raise PurgeRefused(f"not purged: a confirmation policy refused to purge {queue}", 403)
    conn = await panel_host(request).connection()
    return await Queue(queue, connection=conn).purge()


# --- pages ------------------------------------------------------------------------------


async def page(request: Request) -> Response:
    host = panel_host(request)
    board = await read_board(await host.connection())
    context = {
        "active": "queues",
        "page_title": "Queues",
        "board": board,
        "topics": TOPICS,
        "discovery": DISCOVERY_SUBJECTS,
    }
    return render(request, "queues/page.html", context)


async def purge_form(request: Request) -> Response:
    queue = _queue(request)
    state = await _known(request, queue)
    context = {"active": "queues", "page_title": f"Purge {queue}", "q": state}
    return render(request, "queues/purge.html", context)


async def _pause_or_resume(request: Request, paused: bool) -> str:
    """Pause (or resume) the known queue named in the URL; its name."""
    queue = _queue(request)
    await _known(request, queue)
    await (pause if paused else resume)(await panel_host(request).connection(), queue)
    return queue


async def pause_action(request: Request) -> Response:
    queue = await _pause_or_resume(request, paused=True)
    return redirect(request, "queues:page", f"Paused {queue}: its workers receive no new jobs")


async def resume_action(request: Request) -> Response:
    queue = await _pause_or_resume(request, paused=False)
    return redirect(request, "queues:page", f"Resumed {queue}")


async def purge_action(request: Request) -> Response:
    queue = _queue(request)
    form = await read_form(request)
    try:
        purged = await _purge(request, queue, str(form.get("confirm") or ""))
    except PurgeRefused as exc:
        return redirect(request, "queues:purge", str(exc), queue=queue)
    return redirect(request, "queues:page", f"Purged {purged} job{'' if purged == 1 else 's'} from {queue}")


# --- API --------------------------------------------------------------------------------


async def api_list(request: Request) -> Response:
    board = await read_board(await panel_host(request).connection())
    now = time.time()
    return json_response({"queues": [q.to_dict(now) for q in board.queues], "complete": board.complete})


async def api_one(request: Request) -> Response:
    return json_response((await _known(request, _queue(request))).to_dict())


async def api_pause(request: Request) -> Response:
    queue = await _pause_or_resume(request, paused=True)
    return json_response(await _after(request, queue, "paused"))


async def api_resume(request: Request) -> Response:
    queue = await _pause_or_resume(request, paused=False)
    return json_response(await _after(request, queue, "resumed"))


async def _after(request: Request, queue: str, done: str) -> dict[str, Any]:
    return {"queue": queue, "done": done, "state": (await _known(request, queue)).to_dict()}


async def api_purge(request: Request) -> Response:
    queue = _queue(request)
    typed = request.query_params.get("confirm")
    if typed is None:
        form = await read_form(request)
        typed = str(form.get("confirm") or "")
    try:
        purged = await _purge(request, queue, typed[:MAX_TEXT])
    except PurgeRefused as exc:
        return json_response({"queue": queue, "purged": 0, "error": str(exc)}, status_code=exc.status)
    return json_response({"queue": queue, "purged": purged})


def panel() -> Panel:
    return Panel(
        name="queues",
        title="Queues",
        routes=[
            Route("/", page, name="page"),
            Route("/{queue}/purge", purge_form, methods=["GET"], name="purge"),
            Route("/{queue}/purge", purge_action, methods=["POST"], name="purge-action"),
            Route("/{queue}/pause", pause_action, methods=["POST"], name="pause"),
            Route("/{queue}/resume", resume_action, methods=["POST"], name="resume"),
        ],
        api_routes=[
            Route("/", api_list, name="queues"),
            Route("/{queue}", api_one, name="queue"),
            Route("/{queue}/pause", api_pause, methods=["POST"], name="pause"),
            Route("/{queue}/resume", api_resume, methods=["POST"], name="resume"),
            Route("/{queue}/purge", api_purge, methods=["POST"], name="purge"),
        ],
        templates="naq_dashboard",
        order=10,
    )
