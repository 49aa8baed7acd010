"""The dashboard's "Dead letters" panel and its JSON API (``/dead-letters``, ``/api/dead-letters``).

Imported only by :func:`naq_dlq_stream.plugin.naq_register_dashboard_panels`, i.e. when a
dashboard builds its app: this module needs Starlette, which the dashboard brings;
naq-dlq-stream itself does not depend on the dashboard. Handlers reach the dashboard
through :func:`naq_core.panels.panel_host` only.

Reading uses :mod:`naq_dlq_stream.browse` (bounded direct gets, newest first, by cursor);
acting on one or a few letters uses :class:`~naq_dlq_stream.store.DeadLetterStore`; "all
that match" starts a :mod:`naq_dlq_stream.bulk` action in the background.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from naq_core.deadletter import DeadLetterReason
from naq_core.job import Job
from naq_core.masking import mask_secrets
from naq_core.panels import Panel, panel_host
from naq_core.plugins import get_hooks
from naq_dlq_stream._codec import StoredLetter
from naq_dlq_stream.browse import GROUP_WINDOW, group_letters, read_page
from naq_dlq_stream.bulk import SNAPSHOT_CAP, Action, bulk_actions
from naq_dlq_stream.filters import LetterFilter
from naq_dlq_stream.panel_params import filter_from, filter_values, ids_from, int_value
from naq_dlq_stream.store import DeadLetterNotFoundError, DeadLetterStore

if TYPE_CHECKING:
    from naq_core.jetstream import Connection

__all__ = ["NAME", "PREVIEW", "panel"]

NAME = "dead-letters"
#: Characters of a payload shown on a letter's page (and in its API answer).
PREVIEW = 2000
_MAX_LIMIT = 500
_MAX_SEQ = 2**63 - 1
_MAX_BODY = 256 * 1024


def _preview(payload: bytes) -> str:
    try:
        text = payload[: PREVIEW * 4].decode("utf-8")
    except UnicodeDecodeError:
        text = repr(payload[: PREVIEW // 2])
        return text + (" …" if len(payload) > PREVIEW // 2 else "")
    return text[:PREVIEW] + (" …" if len(text) > PREVIEW or len(payload) > PREVIEW * 4 else "")


def _payload_view(conn: Connection, stored: StoredLetter) -> tuple[str, bool]:
    """What a letter's page shows of its payload: ``(text, redacted)``.

    A payload that decodes as a job shows its function and arguments as the job page does:
    through the ``naq_redact_arguments`` hook, then secret-looking keys masked. Anything
    else (a poison message, another serializer's bytes) shows a preview of the raw bytes.
    """
    payload = stored.letter.payload
    try:
        job = Job.from_envelope(conn.serializer.loads(payload))
    except Exception:  # not a job this dashboard can read: the bytes, size-capped
        return _preview(payload), False
    args, kwargs = get_hooks().redact_arguments(
        function=job.function, args=list(job.args), kwargs=dict(job.kwargs)
    )
    shown = mask_secrets({"function": job.function, "args": args, "kwargs": kwargs})
    text = json.dumps(shown, indent=2, ensure_ascii=False, default=repr)
    return text[:PREVIEW] + (" …" if len(text) > PREVIEW else ""), True


def _letter_row(stored: StoredLetter) -> dict[str, Any]:
    data = stored.to_dict()
    data.pop("traceback", None)
    return data


def _redirect(request: Request, route: str, message: str, **params: Any) -> Response:
    url = str(request.url_for(f"{NAME}:{route}", **params)) + "?" + urlencode({"msg": message[:200]})
    return RedirectResponse(url, status_code=303)


def _plural(n: int) -> str:
    return f"{n} dead letter{'' if n == 1 else 's'}"


# --- pages --------------------------------------------------------------------------------


async def page(request: Request) -> Response:
    """The list, newest first, with filters, groups, paging and the actions."""
    host = panel_host(request)
    query = request.query_params
    where = filter_from(query)
    before = int_value(query, "before", None, 1, _MAX_SEQ)
    limit = int_value(query, "limit", 50, 1, _MAX_LIMIT) or 50
    conn = await host.connection()
    letters = await read_page(conn, where, before=before, limit=limit)
    # A live refresh swaps only the data-live regions: the groups are not one of them.
    groups = None if request.headers.get("X-NAQ-Live") else await group_letters(conn, where)
    values = filter_values(query)
    tasks = [t for t in bulk_actions(request.app.state, panel_host(request)).tasks.values() if t.active]
    base = str(request.url_for(f"{NAME}:page"))
    keep = {**values, **({"limit": str(limit)} if limit != 50 else {})}
    response: Response = host.render(
        request,
        f"{NAME}/page.html",
        {
            "active": NAME,
            "page_title": "Dead letters",
            "where": where,
            "values": values,
            "limit": limit,
            "before": before,
            "page": letters,
            "groups": groups,
            "group_window": GROUP_WINDOW,
            "cap": SNAPSHOT_CAP,
            "tasks": tasks,
            "reasons": [r.value for r in DeadLetterReason],
            "newest_url": f"{base}?{urlencode(keep)}" if keep else base,
            "older_url": f"{base}?{urlencode({**keep, 'before': letters.next_before})}",
        },
    )
    return response


async def letter(request: Request) -> Response:
    """One letter: every field, the traceback and a payload preview."""
    host = panel_host(request)
    ident = ids_from([request.path_params["letter_id"]])[0]
    conn = await host.connection()
    try:
        stored = await DeadLetterStore(conn).get(ident)
    except DeadLetterNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    preview, redacted = _payload_view(conn, stored)
    response: Response = host.render(
        request,
        f"{NAME}/letter.html",
        {
            "active": NAME,
            "page_title": f"Dead letter {stored.id}",
            "stored": stored,
            "preview": preview,
            "redacted": redacted,
            "preview_limit": PREVIEW,
        },
    )
    return response


async def _act(request: Request, action: Action) -> Response:
    form = await request.form(max_files=0, max_fields=1000)
    one = form.get("letter")
    ids = ids_from([one] if isinstance(one, str) and one else [v for v in form.getlist("id") if v])
    if not ids:
        return _redirect(request, "page", f"Nothing to {action}: select letters first")
    message = await _apply(request, action, ids)
    return _redirect(request, "page", message)


async def _apply(request: Request, action: Action, ids: list[str]) -> str:
    store = DeadLetterStore(await panel_host(request).connection())
    try:
        if action == "requeue":
            done = len(await store.requeue(ids))
            return f"Requeued {_plural(done)}: {', '.join(ids[:5])}{' …' if len(ids) > 5 else ''}"
        return f"Deleted {_plural(await store.delete(ids))}"
    except DeadLetterNotFoundError as exc:
        return str(exc)


async def requeue(request: Request) -> Response:
    """Requeue the letter of the clicked button (``letter``) or the ticked ones (``id``)."""
    return await _act(request, "requeue")


async def delete(request: Request) -> Response:
    """Delete the letter of the clicked button (``letter``) or the ticked ones (``id``)."""
    return await _act(request, "delete")


async def bulk(request: Request) -> Response:
    """Requeue or delete all that match the posted filter, in the background."""
    form = await request.form(max_files=0, max_fields=100)
    action = form.get("action")
    if action not in ("requeue", "delete"):
        raise HTTPException(400, "action must be requeue or delete")
    where = filter_from(form)
    task = await bulk_actions(request.app.state, panel_host(request)).start(
        await panel_host(request).connection(), cast(Action, action), where
    )
    message = f"Started: {action} all that match ({where.describe()})"
    return _redirect(request, "task", message, task_id=task.id)


async def task_page(request: Request) -> Response:
    """Progress of one bulk action (a live region)."""
    host = panel_host(request)
    task = bulk_actions(request.app.state, panel_host(request)).get(request.path_params["task_id"])
    if task is None:
        raise HTTPException(404, "no such bulk action in this dashboard (finished ones are kept for a while)")
    response: Response = host.render(
        request,
        f"{NAME}/task.html",
        {"active": NAME, "page_title": "Bulk action", "task": task, "cap": SNAPSHOT_CAP},
    )
    return response


# --- API ----------------------------------------------------------------------------------


async def api_list(request: Request) -> Response:
    query = request.query_params
    where = filter_from(query)
    before = int_value(query, "before", None, 1, _MAX_SEQ)
    limit = int_value(query, "limit", 50, 1, _MAX_LIMIT) or 50
    found = await read_page(await panel_host(request).connection(), where, before=before, limit=limit)
    return JSONResponse(
        {
            "filter": where.describe(),
            "letters": [_letter_row(s) for s in found.letters],
            "next_before": found.next_before,
            "cut_short": found.cut_short,
            "examined": found.examined,
            "total": found.total,
        }
    )


async def api_groups(request: Request) -> Response:
    where = filter_from(request.query_params)
    groups = await group_letters(await panel_host(request).connection(), where)
    return JSONResponse(
        {
            "filter": where.describe(),
            "by_function": [{"function": k, "count": n} for k, n in groups.by_function],
            "by_error": [{"error_type": k, "count": n} for k, n in groups.by_error],
            "counted": groups.counted,
            "examined": groups.examined,
            "partial": groups.partial,
        }
    )


async def api_letter(request: Request) -> Response:
    ident = ids_from([request.path_params["letter_id"]])[0]
    conn = await panel_host(request).connection()
    try:
        stored = await DeadLetterStore(conn).get(ident)
    except DeadLetterNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    data = stored.to_dict()
    data["payload_preview"], data["payload_redacted"] = _payload_view(conn, stored)
    return JSONResponse(data)


async def _api_act(request: Request, action: Action) -> Response:
    if int(request.headers.get("content-length") or 0) > _MAX_BODY:
        raise HTTPException(413, f"the body must be at most {_MAX_BODY} bytes")
    body = await request.body()
    try:
        data = json.loads(body[: _MAX_BODY + 1] or b"{}")
    except ValueError:
        raise HTTPException(400, 'the body must be JSON: {"ids": [...]} or {"filter": {...}}') from None
    if not isinstance(data, dict):
        raise HTTPException(400, 'the body must be a JSON object: {"ids": [...]} or {"filter": {...}}')
    if "ids" in data:
        if not isinstance(data["ids"], list) or not data["ids"]:
            raise HTTPException(400, "ids must be a non-empty list of letter ids")
        ids = ids_from(data["ids"])
        store = DeadLetterStore(await panel_host(request).connection())
        try:
            if action == "requeue":
                return JSONResponse({"requeued": [s.id for s in await store.requeue(ids)]})
            return JSONResponse({"deleted": await store.delete(ids)})
        except DeadLetterNotFoundError as exc:
            raise HTTPException(404, str(exc)) from None
    spec = data.get("filter")
    if not isinstance(spec, dict):
        raise HTTPException(400, 'give "ids": [...] or "filter": {...} ({} for every letter)')
    where: LetterFilter = filter_from(spec)
    task = await bulk_actions(request.app.state, panel_host(request)).start(
        await panel_host(request).connection(), action, where
    )
    answer = task.to_dict()
    answer["url"] = str(request.url_for(f"api-{NAME}:task", task_id=task.id))
    return JSONResponse(answer, status_code=202)


async def api_requeue(request: Request) -> Response:
    return await _api_act(request, "requeue")


async def api_delete(request: Request) -> Response:
    return await _api_act(request, "delete")


async def api_task(request: Request) -> Response:
    task = bulk_actions(request.app.state, panel_host(request)).get(request.path_params["task_id"])
    if task is None:
        raise HTTPException(404, "no such bulk action in this dashboard")
    return JSONResponse(task.to_dict())


def panel() -> Panel:
    """The "Dead letters" panel."""
    return Panel(
        name=NAME,
        title="Dead letters",
        routes=[
            Route("/", page, name="page"),
            Route("/letters/{letter_id}", letter, name="letter"),
            Route("/requeue", requeue, methods=["POST"], name="requeue"),
            Route("/delete", delete, methods=["POST"], name="delete"),
            Route("/bulk", bulk, methods=["POST"], name="bulk"),
            Route("/tasks/{task_id}", task_page, name="task"),
        ],
        api_routes=[
            Route("/", api_list, name="list"),
            Route("/groups", api_groups, name="groups"),
            Route("/tasks/{task_id}", api_task, name="task"),
            Route("/requeue", api_requeue, methods=["POST"], name="requeue"),
            Route("/delete", api_delete, methods=["POST"], name="delete"),
            Route("/{letter_id}", api_letter, name="letter"),
        ],
        templates="naq_dlq_stream",
        order=60,
    )
