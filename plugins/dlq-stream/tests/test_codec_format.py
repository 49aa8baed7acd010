"""The stored letter's format is fixed: a message written by today's code reads back, and
encoding the same letter gives the same headers, byte for byte (the letter's fields go
through naq_core.records' converter)."""

from __future__ import annotations

from naq_core.deadletter import DeadLetter, DeadLetterReason
from naq_dlq_stream._codec import decode, encode

# What encode() wrote for LETTER (the headers of its message on the naq_dlq stream).
STORED_HEADERS = {
    "Naq-Dlq-Id": "j1",
    "Naq-Dlq-Reason": "retries exhausted",
    "Naq-Dlq-Headers": '{"Naq-Serializer":"json"}',
    "Naq-Dlq-Meta": (
        '{"reason":"retries exhausted","queue":"emails","job_id":"j1","function":"tasks:send",'
        '"error_type":"ValueError","error":"bad","traceback":"tb","attempts":3,'
        '"first_seen":1700000000.5,"last_seen":1700000010.25,"worker_id":"w1",'
        '"subject":"naq.queue.emails.j1"}'
    ),
}

LETTER = DeadLetter(
    reason=DeadLetterReason.RETRIES_EXHAUSTED,
    queue_name="emails",
    payload=b"\x00body",
    headers={"Naq-Serializer": "json"},
    job_id="j1",
    function="tasks:send",
    error_type="ValueError",
    error="bad",
    traceback="tb",
    attempts=3,
    first_seen=1700000000.5,
    last_seen=1700000010.25,
    worker_id="w1",
    subject="naq.queue.emails.j1",
)


def test_a_stored_letter_reads_back() -> None:
    stored = decode("naq.dlq.emails.j1", 7, STORED_HEADERS, b"\x00body", None)
    assert stored.letter == LETTER
    assert stored.letter.reason is DeadLetterReason.RETRIES_EXHAUSTED
    assert (stored.id, stored.seq, stored.stored_at, stored.payload_truncated) == (
        "j1",
        7,
        1700000010.25,
        None,
    )


def test_encoding_gives_the_same_message() -> None:
    assert encode(LETTER, "j1", 1 << 20) == ("naq.dlq.emails.j1", STORED_HEADERS, b"\x00body")


def test_unknown_meta_keys_of_a_newer_writer_are_ignored() -> None:
    headers = {**STORED_HEADERS, "Naq-Dlq-Meta": STORED_HEADERS["Naq-Dlq-Meta"][:-1] + ',"new_field":1}'}
    assert decode("naq.dlq.emails.j1", 7, headers, b"\x00body", None).letter == LETTER


def test_the_json_view_keeps_its_keys() -> None:
    stored = decode("naq.dlq.emails.j1", 7, STORED_HEADERS, b"\x00body", None)
    assert stored.to_dict(payload=True) == {
        "id": "j1",
        "seq": 7,
        "stored_at": 1700000010.25,
        "reason": "retries exhausted",
        "queue": "emails",
        "job_id": "j1",
        "function": "tasks:send",
        "error_type": "ValueError",
        "error": "bad",
        "traceback": "tb",
        "attempts": 3,
        "first_seen": 1700000000.5,
        "last_seen": 1700000010.25,
        "worker_id": "w1",
        "subject": "naq.queue.emails.j1",
        "headers": {"Naq-Serializer": "json"},
        "payload_size": 5,
        "payload_base64": "AGJvZHk=",
    }
