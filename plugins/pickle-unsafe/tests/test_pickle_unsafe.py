from __future__ import annotations

import datetime as dt
import decimal
import enum
import pickle
import threading
import uuid
from typing import Any

import pytest

import naq_pickle_unsafe
from naq_core.config import Config
from naq_core.errors import SerializationError
from naq_core.job import Job
from naq_core.plugins import new_plugin_manager
from naq_core.serializer import Serializer
from naq_core.testing.serializer_contract import SerializerContract
from naq_pickle_unsafe import PickleSerializer

# Any warning is a failure here: a hook called without an argument its spec declares
# (pluggy's UserWarning) must not slip by.
pytestmark = pytest.mark.filterwarnings("error")


class Color(enum.Enum):
    RED = 1


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self) -> int:
        return hash((self.x, self.y))


def _generator() -> Any:
    yield 1


class TestPickleContract(SerializerContract):
    extra_roundtrip_values = (
        (1, (2, 3)),
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        dt.date(2024, 1, 2),
        uuid.UUID(int=7),
        decimal.Decimal("1.10"),
        b"\x00bytes",
        {1, 2},
        frozenset({"a"}),
        {1: "int key", (1, 2): "tuple key"},
        Color.RED,
        Point(1, 2),
        2**100,
        float("inf"),
    )
    unsupported_values = (threading.Lock(), _generator())

    @pytest.fixture
    def serializer(self) -> Serializer:
        return PickleSerializer()


@pytest.fixture
def s() -> PickleSerializer:
    return PickleSerializer()


def test_attributes(s: PickleSerializer) -> None:
    assert (s.name, s.content_type, s.unsafe) == ("pickle", "application/x-python-pickle", True)


def test_registers_through_hook_as_unsafe() -> None:
    pm = new_plugin_manager(load_entrypoints=False, plugins=[naq_pickle_unsafe])
    found: list[Serializer] = []
    pm.hook.naq_register_serializers(register=found.append, config=Config())
    assert len(found) == 1
    assert isinstance(found[0], PickleSerializer)
    assert found[0].name == "pickle"
    assert found[0].unsafe is True


def test_lambdas_and_local_functions_roundtrip(s: PickleSerializer) -> None:
    offset = 10

    def add(x: int) -> int:
        return x + offset

    back = s.loads(s.dumps({"args": (add, lambda y: y * 2)}))
    assert back["args"][0](1) == 11
    assert back["args"][1](3) == 6


def test_job_envelope_with_objects(s: PickleSerializer) -> None:
    job = Job(function="m:f", args=(Point(1, 2),), kwargs={"p": Point(3, 4)})
    assert Job.from_envelope(s.loads(s.dumps(job.to_envelope()))) == job


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"args": (1, threading.Lock())}, "args[1]"),
        ({"kwargs": {"fine": 1, "lock": threading.Lock()}}, "kwargs.lock"),
        ({"args": ([0, {"deep": threading.Lock()}],)}, "args[0][1]"),
        ({"result": threading.Lock()}, "result"),
        (threading.Lock(), "value"),
    ],
)
def test_error_names_position_and_type(s: PickleSerializer, value: Any, where: str) -> None:
    with pytest.raises(SerializationError) as info:
        s.dumps(value)
    assert str(info.value).startswith(f"{where}"), str(info.value)
    assert "'lock'" in str(info.value)


def test_loads_wraps_every_error(s: PickleSerializer) -> None:
    with pytest.raises(SerializationError, match="not a valid pickle"):
        s.loads(b"not a pickle")
    # A pickle naming a missing global: AttributeError/ModuleNotFoundError inside pickle.
    with pytest.raises(SerializationError, match="not a valid pickle"):
        s.loads(b"cno_such_module_xyz\nthing\n.")
    with pytest.raises(SerializationError):
        s.loads(pickle.dumps(1)[:-1])
