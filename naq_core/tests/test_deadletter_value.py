"""``DeadLetter.queue_name`` is the one name (as ``Job.queue_name``); ``queue`` still works."""

from __future__ import annotations

import attrs
import pytest

from naq_core import DeadLetter, DeadLetterReason, Job


def test_queue_name_is_the_field_and_queue_the_old_alias() -> None:
    letter = DeadLetter(reason=DeadLetterReason.POISON, queue_name="emails", payload=b"x")
    assert "queue_name" in attrs.fields_dict(DeadLetter)
    assert "queue_name" in attrs.fields_dict(Job)
    assert letter.queue == letter.queue_name == "emails"
    old_spelling = DeadLetter(reason=DeadLetterReason.POISON, queue="emails", payload=b"x")
    assert old_spelling == letter
    assert attrs.evolve(letter, queue="sms").queue_name == "sms"
    assert attrs.evolve(letter, queue_name="sms").queue_name == "sms"


def test_a_letter_needs_a_queue() -> None:
    with pytest.raises(TypeError, match="queue_name"):
        DeadLetter(reason=DeadLetterReason.POISON, payload=b"x")
