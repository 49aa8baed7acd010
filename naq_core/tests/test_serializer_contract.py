"""The serializer contract itself: it must pass good serializers and catch broken ones."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from naq_core.errors import SerializationError
from naq_core.testing.serializer_contract import SerializerContract, assert_same


class NaiveJson:
    """Plain json: turns tuples into lists and leaks json's exceptions."""

    name = "naive"
    content_type = "application/json"
    unsafe = False

    def dumps(self, value: Any) -> bytes:
        return json.dumps(value).encode()

    def loads(self, data: bytes) -> Any:
        return json.loads(data)


class WrappedJson(NaiveJson):
    """Refuses what it cannot do, names the position, never leaks other exceptions."""

    def dumps(self, value: Any) -> bytes:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, list | tuple):
                    for index, sub in enumerate(item):
                        self._check(sub, f"{key}[{index}]")
                elif isinstance(item, dict):
                    for name, sub in item.items():
                        self._check(sub, f"{key}.{name}")
                else:
                    self._check(item, key)
        return json.dumps(value, allow_nan=True).encode()

    @staticmethod
    def _check(value: Any, where: str) -> None:
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise SerializationError(f"{where}: cannot serialize {type(value).__name__}") from None

    def loads(self, data: bytes) -> Any:
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SerializationError(str(exc)) from exc


class TestWrappedJsonPassesTheBasics(SerializerContract):
    unsupported_values = (object(),)

    @pytest.fixture
    def serializer(self) -> WrappedJson:
        return WrappedJson()


class RefusesObjects(SerializerContract):
    unsupported_values = (object(),)


class RoundTripsTuples(SerializerContract):
    extra_roundtrip_values = ((1, 2),)


def test_naive_json_fails_the_contract() -> None:
    with pytest.raises(json.JSONDecodeError):  # leaked: pytest.raises(SerializationError) misses it
        SerializerContract().test_loads_empty(NaiveJson())
    with pytest.raises(TypeError):  # leaked instead of a SerializationError naming args[0]
        RefusesObjects().test_unsupported_values_refused_with_position(NaiveJson())


def test_tuples_turned_into_lists_are_caught() -> None:
    with pytest.raises(AssertionError, match="expected tuple"):
        RoundTripsTuples().test_extra_values_roundtrip(WrappedJson())


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (1, 1.0),
        (1, True),
        (0.0, -0.0),
        ((1,), [1]),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
        ([1.5], [1.5, 2]),
        (
            dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            dt.datetime(2024, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ),
        (dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, fold=1)),
    ],
    ids=repr,
)
def test_assert_same_is_strict(expected: Any, actual: Any) -> None:
    with pytest.raises(AssertionError):
        assert_same(expected, actual)


def test_assert_same_accepts_equal_values() -> None:
    assert_same({"a": [1, (2.0, None)], "n": float("nan")}, {"a": [1, (2.0, None)], "n": float("nan")})
