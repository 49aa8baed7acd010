"""naq-dlq-stream: dead letters on the JetStream stream ``naq_dlq``, and ``naq dlq``.

The plugin object (registered through the ``naq`` entry point ``dlq-stream``) is
:mod:`naq_dlq_stream.plugin`. From Python::

    from naq_dlq_stream import DeadLetterStore, LetterFilter

    async with Queue() as queue:
        store = DeadLetterStore(await queue.connection())
        for stored in await store.list(LetterFilter(reason=DeadLetterReason.POISON)):
            print(stored.id, stored.letter.error)
        await store.requeue(LetterFilter(queue="emails"))
"""

from __future__ import annotations

from naq_dlq_stream._codec import DLQ_STREAM, StoredLetter
from naq_dlq_stream.filters import LetterFilter, parse_reason, parse_when
from naq_dlq_stream.settings import DlqSettings
from naq_dlq_stream.sink import StreamSink
from naq_dlq_stream.store import DeadLetterNotFoundError, DeadLetterStore, requeue_subject

__all__ = [
    "DLQ_STREAM",
    "DeadLetterNotFoundError",
    "DeadLetterStore",
    "DlqSettings",
    "LetterFilter",
    "StoredLetter",
    "StreamSink",
    "__version__",
    "parse_reason",
    "parse_when",
    "requeue_subject",
]

__version__ = "0.2.0"
