"""``DeadLetterStore``: the Python API over the ``naq_dlq`` stream (the CLI uses it too)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

import nats.errors
import nats.js.errors
from attrs import evolve
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, DiscardPolicy, StorageType, StreamConfig

from naq_core.config import QUEUE_NAME_RE
from naq_core.deadletter import DeadLetter
from naq_core.errors import JobNotFoundError, NaqError
from naq_core.jetstream import job_subject, queue_of_subject
from naq_core.job import Job, JobStatus, new_job_id
from naq_core.logconfig import get_logger
from naq_core.results import ResultStore
from naq_dlq_stream._codec import (
    DLQ_STREAM,
    DLQ_SUBJECTS,
    StoredLetter,
    decode,
    encode,
    is_token,
    letter_id,
    subject_for,
)
from naq_dlq_stream.filters import LetterFilter
from naq_dlq_stream.settings import DlqSettings

if TYPE_CHECKING:
    from naq_core.jetstream import Connection

__all__ = ["DeadLetterNotFoundError", "DeadLetterStore", "requeue_subject"]

_SCAN_BATCH = 256
_SCAN_TIMEOUT = 5.0


class DeadLetterNotFoundError(JobNotFoundError):
    """No dead letter has the given id (never stored, requeued, deleted or expired)."""


def requeue_subject(stored: StoredLetter) -> str:
    """Where a requeued letter goes: the subject it came from, else its queue's subject."""
    letter = stored.letter
    subject = letter.subject or ""
    queue = queue_of_subject(subject)
    if queue is not None and QUEUE_NAME_RE.match(queue) and is_token(subject.rsplit(".", 1)[-1]):
        return subject
    if not QUEUE_NAME_RE.match(letter.queue_name):
        raise NaqError(
            f"dead letter {stored.id} names no valid queue ({letter.queue_name!r}); cannot requeue it"
        )
    ident = letter.job_id if letter.job_id is not None and is_token(letter.job_id) else stored.id
    return job_subject(letter.queue_name, ident)


#: JetStream's error code for deleting a message that is no longer in the stream.
_SEQUENCE_NOT_FOUND = 10043


class DeadLetterStore:
    """Store, list, inspect, requeue, delete and purge dead letters on ``naq_dlq``.

    ``conn`` is a :class:`naq_core.jetstream.Connection` (``await naq_core.jetstream.connect(config)``,
    or ``await Queue(...).connection()``). Reading never creates the stream; :meth:`add`
    creates it (or applies changed retention settings) on first use.
    """

    def __init__(self, conn: Connection, settings: DlqSettings | None = None) -> None:
        self.conn = conn
        self.settings = settings or DlqSettings.from_config(conn.config)
        self._ready = False
        self._lock = asyncio.Lock()

    # --- the stream ---------------------------------------------------------------------

    def _stream_config(self) -> StreamConfig:
        return StreamConfig(
            name=DLQ_STREAM,
            subjects=[DLQ_SUBJECTS],
            storage=StorageType.FILE,
            max_age=self.settings.max_age,
            max_bytes=self.settings.max_bytes,
            num_replicas=self.settings.replicas or self.conn.config.replicas,
            max_msgs_per_subject=1,  # one letter per job id: the latest
            discard=DiscardPolicy.OLD,
            allow_direct=True,
        )

    async def ensure(self) -> None:
        """Create ``naq_dlq``, or update its retention if the settings changed."""
        if self._ready:
            return
        async with self._lock:
            if self._ready:
                return  # type: ignore[unreachable]  # another task did it meanwhile
            wanted = self._stream_config()
            try:
                info = await self.conn.js.stream_info(DLQ_STREAM)
            except nats.js.errors.NotFoundError:
                try:
                    await self.conn.js.add_stream(wanted)
                except nats.js.errors.BadRequestError as exc:
                    if "already in use" not in str(exc) and getattr(exc, "err_code", 0) != 10058:
                        raise
            else:
                have = info.config
                if (have.max_age or 0, have.max_bytes, have.num_replicas) != (
                    wanted.max_age or 0,
                    wanted.max_bytes,
                    wanted.num_replicas,
                ):
                    get_logger(__name__).info(
                        "dlq_stream_updated",
                        max_age=wanted.max_age,
                        max_bytes=wanted.max_bytes,
                        replicas=wanted.num_replicas,
                    )
                    await self.conn.js.update_stream(wanted)
            self._ready = True

    # --- writing ------------------------------------------------------------------------

    async def add(self, letter: DeadLetter) -> str:
        """Store ``letter`` and wait until JetStream has it. Returns its id."""
        await self.ensure()
        ident = letter_id(letter)
        subject, headers, body = encode(letter, ident, self.conn.nc.max_payload)
        if "payload_truncated" in headers.get("Naq-Dlq-Meta", ""):
            get_logger(__name__).warning(
                "dlq_payload_truncated", id=ident, size=len(letter.payload), kept=len(body)
            )
        try:
            await self.conn.js.publish(subject, body, headers=headers, timeout=10)
        except nats.errors.NoRespondersError:  # the stream was deleted under us
            self._ready = False
            await self.ensure()
            await self.conn.js.publish(subject, body, headers=headers, timeout=10)
        return ident

    # --- reading ------------------------------------------------------------------------

    async def _scan(self, where: LetterFilter) -> list[StoredLetter]:
        """Every stored letter matching ``where``, oldest first (one ephemeral consumer)."""
        js = self.conn.js
        subject = (
            subject_for(where.queue, "*")
            if where.queue and QUEUE_NAME_RE.match(where.queue)
            else DLQ_SUBJECTS
        )
        name = f"naq-dlq-scan-{new_job_id()[:16]}"
        config = ConsumerConfig(
            name=name,
            filter_subject=subject,
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL,
            inactive_threshold=30.0,
            mem_storage=True,
            num_replicas=1,
        )
        try:
            info = await js.add_consumer(DLQ_STREAM, config)
        except nats.js.errors.NotFoundError:
            return []  # no stream yet: nothing was ever dead-lettered here
        found: list[StoredLetter] = []
        total, seen = info.num_pending or 0, 0
        if not total:
            await self._drop_consumer(name)
            return found
        sub = await js.pull_subscribe_bind(name, stream=DLQ_STREAM)
        try:
            while seen < total:
                try:
                    msgs = await sub.fetch(min(_SCAN_BATCH, total - seen), timeout=_SCAN_TIMEOUT)
                except TimeoutError:
                    break  # letters expired while we read
                for msg in msgs:
                    seen += 1
                    try:
                        meta = msg.metadata
                        stored = decode(
                            msg.subject, meta.sequence.stream, msg.headers, msg.data, meta.timestamp
                        )
                    except (KeyError, ValueError, TypeError):
                        get_logger(__name__).warning("dlq_foreign_message", subject=msg.subject)
                        continue
                    if where.matches(stored.letter):
                        found.append(stored)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            await self._drop_consumer(name)
        return found

    async def _drop_consumer(self, name: str) -> None:
        with contextlib.suppress(nats.errors.Error, TimeoutError):
            await self.conn.js.delete_consumer(DLQ_STREAM, name)

    async def count(self, where: LetterFilter | None = None) -> int:
        if where is None or where.empty:
            try:
                return int((await self.conn.js.stream_info(DLQ_STREAM)).state.messages)
            except nats.js.errors.NotFoundError:
                return 0
        return len(await self._scan(where))

    async def _find(self, ident: str) -> list[StoredLetter]:
        if not is_token(ident):
            return []
        try:
            info = await self.conn.js.stream_info(DLQ_STREAM, subjects_filter=subject_for("*", ident))
        except nats.js.errors.NotFoundError:
            return []
        found = []
        for subject in info.state.subjects or {}:
            try:
                raw = await self.conn.js.get_msg(DLQ_STREAM, subject=subject)
            except nats.js.errors.NotFoundError:
                continue
            found.append(decode(raw.subject or subject, raw.seq or 0, raw.headers, raw.data, raw.time))
        return sorted(found, key=lambda s: s.seq)

    async def get(self, ident: str) -> StoredLetter:
        """The letter stored under ``ident`` (a job id, or the id shown by ``list``)."""
        found = await self._find(ident)
        if not found:
            raise DeadLetterNotFoundError(
                f"no dead letter {ident!r}: unknown id, or requeued, deleted or expired"
            )
        return found[-1]

    async def _resolve(self, ids: Iterable[str]) -> list[StoredLetter]:
        """Every letter of ``ids``; raises naming the unknown ids before anything is done."""
        wanted = list(dict.fromkeys(ids))
        found = {ident: await self._find(ident) for ident in wanted}
        missing = [ident for ident, letters in found.items() if not letters]
        if missing:
            raise DeadLetterNotFoundError(
                f"no dead letter {', '.join(missing)}: unknown id, or requeued, deleted or expired"
            )
        return [stored for letters in found.values() for stored in letters]

    # --- acting on letters --------------------------------------------------------------

    async def requeue(self, target: Iterable[str] | LetterFilter) -> list[StoredLetter]:
        """Put letters (ids, or every letter matching a filter) back on their queues.

        The original bytes go back to ``naq.queue.<queue>.<job id>``: same job id, and
        attempts start again from 1 (it is a new message). The job's record goes back to
        ``pending``. Each letter is deleted from the stream once its job is queued.
        """
        items = await self.list(target) if isinstance(target, LetterFilter) else await self._resolve(target)
        for stored in items:
            await self.requeue_stored(stored)
        return items

    async def _requeued_before(self, stream: str, seq: int, subject: str) -> bool:
        """Whether the message a duplicate answer points at is this requeue's (same subject;
        once a worker took it, it is gone and counts as ours)."""
        try:
            first = await self.conn.js.get_msg(stream, seq)
        except nats.js.errors.NotFoundError:
            return True
        return first.subject == subject

    async def requeue_stored(self, stored: StoredLetter) -> None:
        """Requeue exactly this stored letter (the one read, by its sequence), then delete it.

        Deduplicated per stored letter, so repeating a requeue cut short stores the job once.
        """
        if stored.payload_truncated is not None:
            raise NaqError(
                f"dead letter {stored.id} keeps only part of its payload ({stored.payload_truncated} bytes "
                "did not fit in one message); it cannot be requeued"
            )
        letter = stored.letter
        subject, body, job = self._republish(stored)
        headers = {k: v for k, v in letter.headers.items() if not k.lower().startswith("nats-")}
        # Deduplicated per stored letter: repeating a requeue that was cut short is harmless.
        # Scoped to the queue; a header is free text, so a duplicate answer is checked too.
        queue = queue_of_subject(subject) or ""
        headers["Nats-Msg-Id"] = f"{queue}/naq-dlq-requeue-{stored.seq}-{stored.id}"
        if job is not None:  # first: the rerun's own records must come after this one
            await self._reset_record(job)
        try:
            ack = await self.conn.js.publish(subject, body, headers=headers, timeout=10)
            if ack.duplicate and not await self._requeued_before(ack.stream, ack.seq, subject):
                del headers["Nats-Msg-Id"]  # someone else published that id first
                await self.conn.js.publish(subject, body, headers=headers, timeout=10)
        except nats.errors.NoRespondersError:
            raise NaqError(f"no stream stores {subject}; start a worker (or enqueue a job) first") from None
        try:
            await self.conn.js.delete_msg(DLQ_STREAM, stored.seq)
        except nats.js.errors.NotFoundError:
            pass
        except nats.js.errors.BadRequestError as exc:
            if exc.err_code != _SEQUENCE_NOT_FOUND:
                raise
            # Already replaced: the job came back dead (one letter per job id) meanwhile.
        get_logger(__name__).info(
            "dead_letter_requeued",
            id=stored.id,
            job_id=letter.job_id,
            queue=letter.queue_name,
            subject=subject,
        )

    def _republish(self, stored: StoredLetter) -> tuple[str, bytes, Job | None]:
        """Subject, body and (if readable) job of a requeue: the original bytes, except for
        a schedule's firing, whose body carries the schedule's id: it goes back as the job
        itself, under its own id."""
        letter = stored.letter
        try:
            job: Job | None = Job.from_envelope(self.conn.serializer.loads(letter.payload))
        except Exception:  # poison, or another serializer: the bytes go back as they are
            job = None
        own_id = letter.job_id if letter.job_id is not None and is_token(letter.job_id) else None
        if job is not None and own_id is not None and (job.schedule_id is not None or job.job_id != own_id):
            job = evolve(job, job_id=own_id, schedule_id=None)
            queue = letter.queue_name if QUEUE_NAME_RE.match(letter.queue_name) else job.queue_name
            body = self.conn.serializer.dumps(job.to_envelope())
            return job_subject(queue, own_id), body, job
        return requeue_subject(stored), letter.payload, job

    async def _reset_record(self, job: Job) -> None:
        """The job's record says ``pending`` again, so waiting callers wait for the rerun."""
        try:
            await ResultStore(self.conn).write(job, JobStatus.PENDING, confirm=True)
        except nats.js.errors.NoStreamResponseError:
            pass  # no results bucket: no record to reset

    async def delete(self, ids: Iterable[str]) -> int:
        """Delete the letters ``ids`` (all of them exist, or nothing is deleted)."""
        items = await self._resolve(ids)
        return await self._delete(items)

    async def _delete(self, items: Iterable[StoredLetter]) -> int:
        deleted = 0
        for stored in items:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await self.conn.js.delete_msg(DLQ_STREAM, stored.seq)
                deleted += 1
        return deleted

    async def purge(self, where: LetterFilter | None = None) -> int:
        """Delete every letter matching ``where`` (all letters without it). Returns how many."""
        if where is not None and not where.empty:
            return await self._delete(await self._scan(where))
        try:
            reply = await self.conn.nc.request(f"$JS.API.STREAM.PURGE.{DLQ_STREAM}", b"{}", timeout=10)
        except nats.errors.NoRespondersError:
            return 0
        data = json.loads(reply.data)
        if "error" in data:
            if data["error"].get("err_code") == 10059:  # stream not found
                return 0
            raise nats.js.errors.APIError.from_error(data["error"])
        return int(data.get("purged", 0))

    # Last in the class, so that ``list`` in the annotations above is the builtin.
    async def list(
        self, where: LetterFilter | None = None, *, limit: int | None = None
    ) -> list[StoredLetter]:
        """Letters matching ``where``, oldest first; with ``limit`` only the newest ``limit``."""
        found = await self._scan(where or LetterFilter())
        if limit is not None and limit >= 0 and len(found) > limit:
            found = found[len(found) - limit :]
        return found
