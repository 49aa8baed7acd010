"""The pieces without a server: message codec, filters, settings, requeue subjects."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from naq_core import ConfigurationError, DeadLetter, DeadLetterReason, NaqError, load_config
from naq_core.testing.sink_contract import assert_same_letter, sample_letter
from naq_dlq_stream import DlqSettings, LetterFilter, StoredLetter, parse_reason, parse_when, requeue_subject
from naq_dlq_stream._codec import TRACEBACK_LIMIT, decode, encode, letter_id


def _roundtrip(letter: DeadLetter, max_size: int = 1024 * 1024) -> StoredLetter:
    ident = letter_id(letter)
    subject, headers, body = encode(letter, ident, max_size)
    assert all(value.isascii() and "\n" not in value for value in headers.values())
    return decode(subject, 7, headers, body, dt.datetime.now(dt.UTC))


def test_every_field_survives_the_message() -> None:
    letter = sample_letter(headers={"Naq-Serializer": "json", "X-Odd": "é: \u2713"})
    stored = _roundtrip(letter)
    assert_same_letter(letter, stored.letter)
    assert stored.id == letter.job_id and stored.seq == 7


def test_subject_uses_queue_and_job_id() -> None:
    letter = sample_letter()
    subject, headers, _ = encode(letter, letter_id(letter), 1 << 20)
    assert subject == f"naq.dlq.emails.{letter.job_id}"
    assert headers["Naq-Dlq-Reason"] == "retries exhausted"


def test_ids_that_cannot_be_tokens_get_a_fresh_one_but_are_kept() -> None:
    for bad in ("a.b", "with space", "star*", "ünï", None):
        letter = sample_letter(job_id=bad, queue="not a queue!", subject="naq.queue.real_q.x")
        ident = letter_id(letter)
        assert ident != bad and len(ident) == 32
        subject, _, _ = encode(letter, ident, 1 << 20)
        assert subject == f"naq.dlq.real_q.{ident}"
        assert_same_letter(letter, _roundtrip(letter).letter)


def test_long_traceback_keeps_head_and_tail() -> None:
    trace = "Traceback (most recent call last):\n" + "x" * (TRACEBACK_LIMIT * 2) + "\nValueError: end"
    stored = _roundtrip(sample_letter(traceback=trace)).letter
    assert stored.traceback is not None and len(stored.traceback) < TRACEBACK_LIMIT + 100
    assert stored.traceback.startswith("Traceback") and stored.traceback.endswith("ValueError: end")
    assert "characters cut" in stored.traceback


def test_payload_too_big_for_one_message_is_cut_and_flagged() -> None:
    letter = sample_letter(payload=b"x" * 10_000)
    stored = _roundtrip(letter, max_size=4096)
    assert stored.payload_truncated == 10_000
    assert 0 < len(stored.letter.payload) < 4096
    assert stored.to_dict()["payload_truncated"] == 10_000


def test_to_dict_is_json_ready() -> None:
    stored = _roundtrip(sample_letter(payload=b"\xff\x00"))
    data = stored.to_dict(payload=True)
    assert data["reason"] == "retries exhausted" and data["payload_base64"] == "/wA="
    assert data["payload_size"] == 2 and "payload_base64" not in stored.to_dict()


def test_requeue_subject() -> None:
    def stored(letter: DeadLetter) -> StoredLetter:
        return StoredLetter(id="fresh", seq=1, stored_at=0.0, letter=letter)

    letter = sample_letter()
    assert requeue_subject(stored(letter)) == letter.subject
    moved = attrs.evolve(letter, subject=None)
    assert requeue_subject(stored(moved)) == f"naq.queue.emails.{letter.job_id}"
    poison = attrs.evolve(letter, subject=None, job_id=None)
    assert requeue_subject(stored(poison)) == "naq.queue.emails.fresh"
    with pytest.raises(NaqError, match="no valid queue"):
        requeue_subject(stored(attrs.evolve(poison, queue="a.b")))


def test_parse_when() -> None:
    now = 1_700_000_000.0
    assert parse_when("90s", now=now) == now - 90
    assert parse_when("1.5h", now=now) == now - 5400
    assert parse_when("2d", now=now) == now - 2 * 86400
    assert parse_when("2024-05-01T12:00:00+00:00") == dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC).timestamp()
    with pytest.raises(ConfigurationError, match="invalid time 'yesterday'"):
        parse_when("yesterday")


def test_parse_reason() -> None:
    assert parse_reason("unknown task") is DeadLetterReason.UNKNOWN_TASK
    assert parse_reason("UNKNOWN_TASK") is DeadLetterReason.UNKNOWN_TASK
    assert parse_reason("max-deliveries") is DeadLetterReason.MAX_DELIVERIES
    with pytest.raises(ConfigurationError, match="unknown reason 'nope'"):
        parse_reason("nope")


def test_filter_matches_and_describes() -> None:
    letter = sample_letter(last_seen=1000.0)
    assert LetterFilter().matches(letter) and LetterFilter().describe() == "all dead letters"
    assert LetterFilter(queue="emails", reason=DeadLetterReason.RETRIES_EXHAUSTED).matches(letter)
    assert not LetterFilter(queue="other").matches(letter)
    assert not LetterFilter(function="x:y").matches(letter)
    assert LetterFilter(since=1000.0, until=1000.5).matches(letter)
    assert not LetterFilter(until=1000.0).matches(letter)
    assert LetterFilter(queue="q", reason=DeadLetterReason.POISON).describe() == "queue=q, reason=poison"


def test_settings_defaults_and_table(tmp_path: object) -> None:
    config = load_config(env={}, search=False, overrides={"replicas": 3})
    assert DlqSettings.from_config(config) == DlqSettings(max_age=30 * 86400.0, max_bytes=-1, replicas=3)
    configured = attrs.evolve(config, plugins={"dlq_stream": {"max_age": 3600, "max_bytes": 1 << 20}})
    assert DlqSettings.from_config(configured) == DlqSettings(max_age=3600.0, max_bytes=1 << 20, replicas=3)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"max_age": "long"}, "max_age: expected a number"),
        ({"max_bytes": -5}, "max_bytes: must be >= -1"),
        ({"replicas": 7}, "replicas 1-5"),
        ({"retention": 1}, "unknown key 'retention'"),
    ],
)
def test_settings_errors_name_the_key(table: dict[str, object], message: str) -> None:
    config = attrs.evolve(load_config(env={}, search=False), plugins={"dlq_stream": table})
    with pytest.raises(ConfigurationError, match=message):
        DlqSettings.from_config(config)
