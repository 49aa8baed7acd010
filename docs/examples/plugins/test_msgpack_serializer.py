"""The msgpack serializer keeps naq's serializer contract."""

from __future__ import annotations

import datetime as dt

import pytest
from msgpack_serializer import MsgpackSerializer

from naq_core import SerializationError, Serializer
from naq_core.testing import SerializerContract


class TestMsgpackSerializer(SerializerContract):
    extra_roundtrip_values = (b"\x00\xffbytes", (1, "two", (3.0,)))  # beyond JSON: bytes, tuples
    unsupported_values = (object(), {1, 2}, dt.date(2024, 1, 2))  # refused, never changed

    @pytest.fixture
    def serializer(self) -> Serializer:
        return MsgpackSerializer()


def test_the_refusal_names_the_position() -> None:
    with pytest.raises(SerializationError, match=r"^kwargs\.when: cannot serialize value of type 'date'"):
        MsgpackSerializer().dumps({"args": [], "kwargs": {"when": dt.date(2024, 1, 2)}})
