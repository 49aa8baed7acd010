"""The DeadLetterSinkContract: a correct sink passes it, a lossy one is caught."""

from __future__ import annotations

import subprocess
import sys
from typing import Any, cast

import attrs
import pytest

from naq_core import DeadLetter, DeadLetterReason
from naq_core.testing import DeadLetterSinkContract
from naq_core.testing.sink_contract import assert_same_letter, sample_letter


class MemorySink:
    name = "memory"

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []
        self.closed = False

    async def store(self, letter: DeadLetter) -> None:
        self.letters.append(letter)

    async def aclose(self) -> None:
        self.closed = True


class TestMemorySink(DeadLetterSinkContract):
    @pytest.fixture
    def sink(self) -> MemorySink:
        return MemorySink()

    def read_back(self, sink: MemorySink) -> list[DeadLetter]:
        return sink.letters


class TestWithoutReadBack(DeadLetterSinkContract):
    """``read_back`` is optional: the suite then checks that storing works."""

    @pytest.fixture
    def sink(self) -> MemorySink:
        return MemorySink()


def test_sample_letter_sets_every_field() -> None:
    letter = sample_letter()
    unset = [a.name for a in attrs.fields(DeadLetter) if getattr(letter, a.name) in (None, {}, b"", 0)]
    assert unset == []
    with pytest.raises(UnicodeDecodeError):
        letter.payload.decode("utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"payload": b"changed"}, "payload changed"),
        ({"headers": {}}, "headers changed"),
        ({"traceback": "short"}, "traceback changed"),
        ({"attempts": 9}, "attempts changed"),
        ({"reason": DeadLetterReason.POISON}, "reason changed"),
    ],
)
def test_a_lossy_sink_is_caught(change: dict[str, Any], message: str) -> None:
    letter = sample_letter()
    with pytest.raises(AssertionError, match=message):
        assert_same_letter(letter, attrs.evolve(letter, **change))


def test_reason_must_come_back_as_the_enum() -> None:
    letter = sample_letter()
    as_text = attrs.evolve(letter, reason=cast(DeadLetterReason, "retries exhausted"))
    with pytest.raises(AssertionError, match="not DeadLetterReason"):
        assert_same_letter(letter, as_text)


async def test_close_sink_calls_aclose() -> None:
    sink = MemorySink()
    await DeadLetterSinkContract().close_sink(sink)
    assert sink.closed


def test_importing_naq_core_testing_does_not_import_pytest() -> None:
    code = (
        "import sys, naq_core.testing; assert 'pytest' not in sys.modules; "
        "naq_core.testing.DeadLetterSinkContract"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=None)
