"""One dead letter <-> one message on the ``naq_dlq`` stream.

Subject ``naq.dlq.<queue>.<id>`` (``id`` is the job id, or a fresh id when the job id is not
known or cannot be a subject token). The body is the original payload, byte for byte. The
headers carry everything else, as ASCII JSON so any value survives:

- ``Naq-Dlq-Id``: the letter's id; ``Naq-Dlq-Reason``: the reason (``poison``, ...)
- ``Naq-Dlq-Meta``: JSON of every :class:`~naq_core.deadletter.DeadLetter` field except
  ``payload`` and ``headers``
- ``Naq-Dlq-Headers``: JSON of the original message headers (absent when there were none)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import attrs
from attrs import frozen
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from naq_core import records
from naq_core.config import QUEUE_NAME_RE
from naq_core.deadletter import DeadLetter
from naq_core.jetstream import queue_of_subject
from naq_core.job import new_job_id

__all__ = [
    "DLQ_STREAM",
    "DLQ_SUBJECTS",
    "StoredLetter",
    "decode",
    "encode",
    "is_token",
    "letter_id",
    "queue_token",
    "subject_for",
]

DLQ_STREAM = "naq_dlq"
DLQ_SUBJECTS = "naq.dlq.>"
ID_HEADER = "Naq-Dlq-Id"
REASON_HEADER = "Naq-Dlq-Reason"
META_HEADER = "Naq-Dlq-Meta"
HEADERS_HEADER = "Naq-Dlq-Headers"
TRACEBACK_LIMIT = 32 * 1024  # characters kept of a traceback (its head and its tail)
_HEADER_SLACK = 1024  # room for the header framing on top of the JSON values
# The letter's fields as stored in ``Naq-Dlq-Meta`` (and shown by --json), through core's record
# converter: every field but the payload and the headers, under the names letters always had
# (``queue`` for ``queue_name``).
attrs.resolve_types(DeadLetter)
_meta_of = make_dict_unstructure_fn(
    DeadLetter,
    records.converter,
    queue_name=override(rename="queue"),
    payload=override(omit=True),
    headers=override(omit=True),
)
_letter_from = make_dict_structure_fn(DeadLetter, records.converter, queue_name=override(rename="queue"))


@frozen(kw_only=True)
class StoredLetter:
    """A dead letter as stored: its id, stream sequence and storage time, and the letter."""

    id: str
    seq: int
    stored_at: float
    letter: DeadLetter
    #: Original payload size when the payload did not fit in one message and was cut.
    payload_truncated: int | None = None

    def to_dict(self, *, payload: bool = False) -> dict[str, Any]:
        """JSON-ready fields; ``payload=True`` adds the payload (base64) and a text preview."""
        import base64

        letter = self.letter
        data: dict[str, Any] = {"id": self.id, "seq": self.seq, "stored_at": self.stored_at}
        data.update(_meta_of(letter))
        data["headers"] = dict(letter.headers)
        data["payload_size"] = len(letter.payload)
        if self.payload_truncated is not None:
            data["payload_truncated"] = self.payload_truncated
        if payload:
            data["payload_base64"] = base64.b64encode(letter.payload).decode("ascii")
        return data


def is_token(value: str | None, limit: int = 256) -> bool:
    """Whether ``value`` can be one subject token (printable ASCII, no ``.``, ``*``, ``>``)."""
    return (
        bool(value)
        and len(value or "") <= limit
        and all(33 <= ord(c) <= 126 and c not in ".*>" for c in value or "")
    )


def queue_token(letter: DeadLetter) -> str:
    """The queue part of the subject: the letter's queue, else the original subject's."""
    if QUEUE_NAME_RE.match(letter.queue):
        return letter.queue
    queue = queue_of_subject(letter.subject or "")
    if queue is not None and QUEUE_NAME_RE.match(queue):
        return queue
    return "_unknown"


def letter_id(letter: DeadLetter) -> str:
    """The job id when it can be a subject token, else a fresh id."""
    return letter.job_id if letter.job_id is not None and is_token(letter.job_id) else new_job_id()


def subject_for(queue: str, ident: str) -> str:
    return f"naq.dlq.{queue}.{ident}"


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= TRACEBACK_LIMIT:
        return text
    head, tail = TRACEBACK_LIMIT // 8, TRACEBACK_LIMIT - TRACEBACK_LIMIT // 8
    return f"{text[:head]}\n... ({len(text) - head - tail} characters cut) ...\n{text[-tail:]}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def encode(letter: DeadLetter, ident: str, max_size: int) -> tuple[str, dict[str, str], bytes]:
    """``(subject, headers, body)`` for ``letter``; the body is cut only if it cannot fit."""
    meta: dict[str, Any] = _meta_of(letter)
    meta["traceback"] = _cut(letter.traceback)
    headers = {ID_HEADER: ident, REASON_HEADER: letter.reason.value}
    if letter.headers:
        headers[HEADERS_HEADER] = _json(dict(letter.headers))
    body = bytes(letter.payload)
    header_size = sum(len(k) + len(v) + 4 for k, v in headers.items()) + len(_json(meta)) + _HEADER_SLACK
    room = max_size - header_size - 64
    if len(body) > room:
        meta["payload_truncated"] = len(body)
        body = body[: max(room, 0)]
    headers[META_HEADER] = _json(meta)
    return subject_for(queue_token(letter), ident), headers, body


def decode(
    subject: str, seq: int, headers: Mapping[str, str] | None, data: bytes | None, stored: dt.datetime | None
) -> StoredLetter:
    """Rebuild a :class:`StoredLetter` from a message of the stream."""
    headers = headers or {}
    meta = json.loads(headers[META_HEADER])
    truncated = meta.pop("payload_truncated", None)
    original = json.loads(headers[HEADERS_HEADER]) if HEADERS_HEADER in headers else {}
    letter = _letter_from({**meta, "payload": bytes(data or b""), "headers": original})
    ident = headers.get(ID_HEADER) or subject.rsplit(".", 1)[-1]
    stored_at = stored.timestamp() if stored is not None else letter.last_seen
    return StoredLetter(id=ident, seq=seq, stored_at=stored_at, letter=letter, payload_truncated=truncated)
