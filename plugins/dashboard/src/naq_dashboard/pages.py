"""Helpers for panel handlers: bounded query parameters, forms, pages, redirects, JSON answers.

Every query parameter a page reads goes through :func:`int_param`, :func:`text_param` or
:func:`choice_param`, so none is unbounded (a page size of 10⁹, a filter of a megabyte):
a value out of bounds is a 400 with one line saying what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from naq_core.panels import panel_host

__all__ = [
    "MAX_TEXT",
    "choice_param",
    "int_param",
    "json_response",
    "read_form",
    "redirect",
    "render",
    "text_param",
]

#: The longest text a query parameter or a form field may hold.
MAX_TEXT = 200
_MAX_FORM_FIELDS = 1000


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """Query parameter ``name`` as a whole number in ``[low, high]`` (``default`` when absent)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HTTPException(400, f"{name} must be a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise HTTPException(400, f"{name} must be a whole number from {low} to {high}")
    return value


def text_param(request: Request, name: str, limit: int = MAX_TEXT) -> str | None:
    """Query parameter ``name`` stripped (``None`` when absent or empty); at most ``limit`` characters."""
    raw = request.query_params.get(name)
    if raw is None or not raw.strip():
        return None
    if len(raw) > limit:
        raise HTTPException(400, f"{name} must be at most {limit} characters")
    return raw.strip()


def choice_param(request: Request, name: str, choices: Iterable[str]) -> str | None:
    """Query parameter ``name``, one of ``choices`` (``None`` when absent or empty)."""
    allowed = list(choices)
    raw = text_param(request, name)
    if raw is not None and raw not in allowed:
        raise HTTPException(400, f"{name} must be one of: {', '.join(allowed)}")
    return raw


async def read_form(request: Request) -> FormData:
    """The posted form (bounded: at most 1,000 fields, no files)."""
    return await request.form(max_files=0, max_fields=_MAX_FORM_FIELDS)


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """``template`` rendered in the dashboard's layout by the host serving ``request``."""
    response: Response = panel_host(request).render(request, template, context, status_code)
    return response


def redirect(
    request: Request, route: str, message: str | None = None, **path_params: Any
) -> RedirectResponse:
    """A 303 to the route named ``route`` (``panel:name``), with ``message`` shown on arrival."""
    url = str(request.url_for(route, **path_params))
    if message:
        url += "?" + urlencode({"msg": message[:MAX_TEXT]})
    return RedirectResponse(url, status_code=303)


def json_response(data: Any, status_code: int = 200) -> JSONResponse:
    """A JSON answer of the API."""
    return JSONResponse(data, status_code=status_code)
