"""The ``pickle`` serializer: any picklable value, and code execution for whoever can publish.

Decoding a pickle can run arbitrary code. Anyone who can publish to naq's subjects can
therefore run code on the workers: use this only on trusted networks with NATS auth.
"""

from __future__ import annotations

import pickle
from typing import Any

import cloudpickle  # type: ignore[import-untyped]

from naq_core.errors import SerializationError

__all__ = ["PickleSerializer"]

_MAX_DEPTH = 8  # how deep the search for the culprit of a failed dumps goes


class PickleSerializer:
    """Encodes with cloudpickle (lambdas and local functions included), decodes with pickle."""

    name = "pickle"
    content_type = "application/x-python-pickle"
    unsafe = True

    def dumps(self, value: Any) -> bytes:
        """Pickle ``value``; a failure raises :class:`SerializationError` naming the culprit."""
        try:
            data: bytes = cloudpickle.dumps(value)
            return data
        except RecursionError:
            raise SerializationError("value is nested too deeply to pickle") from None
        except Exception as exc:
            raise SerializationError(_failure_message(value, exc)) from None

    def loads(self, data: bytes) -> Any:
        """Unpickle ``data`` (this runs whatever code the payload names)."""
        try:
            return pickle.loads(data)
        except Exception as exc:
            raise SerializationError(f"payload is not a valid pickle: {type(exc).__name__}: {exc}") from None

    def __repr__(self) -> str:
        return "PickleSerializer()"


def _failure_message(value: Any, exc: Exception) -> str:
    found = _find_culprit(value, [], 0)
    path, culprit = found if found is not None else ("", value)
    return (
        f"{path or 'value'}: cannot serialize value of type {type(culprit).__qualname__!r} "
        f"with cloudpickle: {type(exc).__name__}: {exc}"
    )


def _find_culprit(value: Any, parts: list[str], depth: int) -> tuple[str, Any] | None:
    """The path and value of the innermost container item that fails to pickle alone."""
    if depth >= _MAX_DEPTH:
        return None
    children: list[tuple[str, Any]]
    if type(value) is dict:
        children = [(f".{k}" if type(k) is str else f"[{k!r}]", v) for k, v in value.items()]
    elif type(value) in (list, tuple):
        children = [(f"[{i}]", v) for i, v in enumerate(value)]
    else:
        return None
    for part, child in children:
        try:
            cloudpickle.dumps(child)
        except Exception:
            deeper = _find_culprit(child, [*parts, part], depth + 1)
            if deeper is not None:
                return deeper
            path = "".join([*parts, part])
            return (path[1:] if path.startswith(".") else path), child
    return None
