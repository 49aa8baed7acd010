from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import enum
import json
import threading
import uuid
from collections import OrderedDict
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naq_json_serializer
from naq_core.config import Config
from naq_core.errors import SerializationError
from naq_core.job import Job, JobStatus
from naq_core.plugins import new_plugin_manager
from naq_core.serializer import Serializer
from naq_core.testing.serializer_contract import SerializerContract, assert_same
from naq_json_serializer import JsonSerializer

# Any warning is a failure here: a hook called without an argument its spec declares
# (pluggy's UserWarning) must not slip by.
pytestmark = pytest.mark.filterwarnings("error")


class Color(enum.Enum):
    RED = "red"
    BLUE = (0, 0, 255)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Perm(enum.Flag):
    R = 4
    W = 2
    X = 1


class Outer:
    class Inner(enum.Enum):
        A = 1


class Foo:
    pass


PARIS = ZoneInfo("Europe/Paris")

EXTRA_VALUES: tuple[Any, ...] = (
    (),
    (1, "a", (2.5, None)),
    [(1, 2), ((3,),)],
    dt.datetime(2024, 5, 6, 7, 8, 9, 123456),
    dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
    dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))),
    dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=2), "CEST")),
    dt.datetime(2024, 7, 1, 12, tzinfo=PARIS),
    dt.datetime(2024, 10, 27, 2, 30, tzinfo=PARIS, fold=1),  # the repeated hour
    dt.datetime(2024, 10, 27, 2, 30, tzinfo=PARIS, fold=0),
    dt.date(1999, 12, 31),
    dt.time(23, 59, 59, 999999),
    dt.time(1, 2, tzinfo=dt.timezone(dt.timedelta(hours=9))),
    dt.time(1, 2, tzinfo=PARIS),
    dt.timedelta(days=-3, seconds=5, microseconds=7),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    decimal.Decimal("3.14159265358979323846264338327950288"),
    decimal.Decimal("-0.000"),
    decimal.Decimal("1E+400"),
    decimal.Decimal("NaN"),
    b"\x00\xffbinary",
    b"",
    bytearray(b"abc"),
    Color.RED,
    Color.BLUE,
    Level.HIGH,
    Perm.R | Perm.W,
    Outer.Inner.A,
    JobStatus.COMPLETED,
    {1, 2, 3},
    frozenset({"a", (1, 2)}),
    set(),
    {1: "int key", (1, "t"): "tuple key", None: "none key", Color.RED: "enum key", 2.5: "float"},
    {"$t": "tuple", "v": [1, 2]},
    {"$t": {"$t": "x"}},
    2**64,
    -(2**63) - 1,
    10**200,
    float("inf"),
    float("-inf"),
    complex(1.5, -2),
)


class TestJsonContract(SerializerContract):
    extra_roundtrip_values = EXTRA_VALUES
    unsupported_values = (Foo(), print, lambda: 1, threading.Lock(), OrderedDict(a=1))

    @pytest.fixture
    def serializer(self) -> Serializer:
        return JsonSerializer()


@pytest.fixture
def s() -> JsonSerializer:
    return JsonSerializer()


def test_attributes(s: JsonSerializer) -> None:
    assert (s.name, s.content_type, s.unsafe) == ("json", "application/json", False)


def test_registers_through_hook() -> None:
    pm = new_plugin_manager(load_entrypoints=False, plugins=[naq_json_serializer])
    found: list[Serializer] = []
    pm.hook.naq_register_serializers(register=found.append, config=Config())
    assert [type(x) for x in found] == [JsonSerializer]


def test_payload_is_plain_readable_json(s: JsonSerializer) -> None:
    env = {"v": 1, "id": "x", "queue": "q", "fn": "m:f", "args": (1, 2), "kwargs": {}, "at": 1.0}
    data = s.dumps(env)
    assert json.loads(data)["args"] == {"$t": "tuple", "v": [1, 2]}
    assert s.dumps({"a": [1, "b", None]}) == b'{"a":[1,"b",null]}'


def test_tuples_stay_tuples_at_any_depth(s: JsonSerializer) -> None:
    value = {"a": [(1, (2, [3, (4,)]))]}
    assert_same(value, s.loads(s.dumps(value)))


def test_aware_datetime_keeps_zone_and_naive_stays_naive(s: JsonSerializer) -> None:
    aware = dt.datetime(2024, 3, 31, 3, 30, tzinfo=PARIS)
    back = s.loads(s.dumps(aware))
    assert back.tzinfo is PARIS
    assert back == aware
    assert back.utcoffset() == dt.timedelta(hours=2)
    naive = dt.datetime(2024, 3, 31, 3, 30)
    assert s.loads(s.dumps(naive)).tzinfo is None
    assert s.loads(s.dumps(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))).tzinfo is dt.UTC


def test_datetime_with_foreign_tzinfo_is_refused(s: JsonSerializer) -> None:
    class MyTz(dt.tzinfo):
        def utcoffset(self, _: dt.datetime | None) -> dt.timedelta:
            return dt.timedelta(0)

        def dst(self, _: dt.datetime | None) -> dt.timedelta:
            return dt.timedelta(0)

        def tzname(self, _: dt.datetime | None) -> str:
            return "MY"

    with pytest.raises(SerializationError, match=r"args\[0\]: .*tzinfo is a 'MyTz'"):
        s.dumps({"args": (dt.datetime(2020, 1, 1, tzinfo=MyTz()),)})


@pytest.mark.parametrize(
    ("value", "where", "type_name"),
    [
        ({"args": (1, Foo())}, "args[1]", "Foo"),
        ({"kwargs": {"user": Foo()}}, "kwargs.user", "Foo"),
        ({"result": Foo()}, "result", "Foo"),
        ({"args": ([0, {"deep": [1, Foo()]}],)}, "args[0][1].deep[1]", "Foo"),
        ({"kwargs": {"s": {1, Foo()}}}, "kwargs.s", "Foo"),
        ({"kwargs": {"d": {1: Foo()}}}, "kwargs.d[1]", "Foo"),
        ({"kwargs": {"d": {Foo(): 1}}}, "kwargs.d.<key>", "Foo"),
        (Foo(), "value", "Foo"),
        ([1, 2**70, Foo()], "[2]", "Foo"),
    ],
)
def test_error_names_position_and_type(s: JsonSerializer, value: Any, where: str, type_name: str) -> None:
    with pytest.raises(SerializationError) as info:
        s.dumps(value)
    message = str(info.value)
    assert message.startswith(f"{where}: cannot serialize value of type '{type_name}'"), message
    assert "naq-json-serializer supports" in message


def test_local_enum_is_refused(s: JsonSerializer) -> None:
    class Local(enum.Enum):
        A = 1

    with pytest.raises(SerializationError, match=r"args\[0\]: .*not importable"):
        s.dumps({"args": (Local.A,)})


def test_lone_surrogate_is_refused_with_position(s: JsonSerializer) -> None:
    with pytest.raises(SerializationError, match=r"kwargs\.name: string is not valid UTF-8"):
        s.dumps({"kwargs": {"name": "a\ud800b"}})


def test_reference_cycle_is_refused(s: JsonSerializer) -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(SerializationError, match="nested too deeply or contains a reference cycle"):
        s.dumps(loop)


def test_invalid_json(s: JsonSerializer) -> None:
    with pytest.raises(SerializationError, match="payload is not valid JSON"):
        s.loads(b"{not json")
    with pytest.raises(SerializationError, match="expected bytes"):
        s.loads("{}")  # type: ignore[arg-type]


def test_loads_accepts_bytearray_and_memoryview(s: JsonSerializer) -> None:
    data = s.dumps((1, 2))
    assert s.loads(bytearray(data)) == (1, 2)  # type: ignore[arg-type]
    assert s.loads(memoryview(data)) == (1, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "tree",
    [
        {"$t": "nope"},
        {"$t": 5},
        {"$t": "tuple", "v": 5},
        {"$t": "tuple"},
        {"$t": "dict", "v": [[1]]},
        {"$t": "dict", "v": [[[1, 2], "unhashable key"]]},
        {"$t": "set", "v": [[1]]},
        {"$t": "int", "v": "12x"},
        {"$t": "int", "v": "9" * 20_000},
        {"$t": "float", "v": "1.5"},
        {"$t": "datetime", "v": "yesterday"},
        {"$t": "datetime", "v": "2024-01-01T00:00:00", "zone": "../../etc/passwd"},
        {"$t": "datetime", "v": "2024-01-01T00:00:00", "zone": "No/Such_Zone"},
        {"$t": "datetime", "v": "2024-01-01T00:00:00", "tzname": "X"},
        {"$t": "datetime", "v": "2024-01-01T00:00:00", "fold": 2},
        {"$t": "timedelta", "v": [1, 2]},
        {"$t": "timedelta", "v": [10**10, 0, 0]},
        {"$t": "uuid", "v": "not-a-uuid"},
        {"$t": "decimal", "v": "1.2.3"},
        {"$t": "bytes", "v": "!!!"},
        {"$t": "complex", "v": ["a", 1.0]},
        {"$t": "enum", "cls": "os:system", "v": "echo pwned"},
        {"$t": "enum", "cls": "subprocess:Popen", "v": ["true"]},
        {"$t": "enum", "cls": "builtins:eval", "v": "1"},
        {"$t": "enum", "cls": "no_such_module_xyz:E", "v": 1},
        {"$t": "enum", "cls": "os; import os:E", "v": 1},
        {"$t": "enum", "cls": f"{__name__}:Color", "v": "green"},
        {"$t": "enum", "cls": f"{__name__}:Foo", "v": 1},
        {"$t": "enum", "cls": 3, "v": 1},
    ],
    ids=repr,
)
def test_malformed_tags_are_refused(s: JsonSerializer, tree: Any) -> None:
    with pytest.raises(SerializationError, match="payload is not a naq JSON value"):
        s.loads(orjson.dumps({"args": [tree]}))


def test_enum_decoding_never_calls_non_enums(s: JsonSerializer, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    monkeypatch.setattr("os.system", lambda *a: calls.append(a))
    with pytest.raises(SerializationError, match="not an Enum class"):
        s.loads(b'{"$t":"enum","cls":"os:system","v":"echo hi"}')
    assert calls == []


def test_enum_decoding_imports_the_module(s: JsonSerializer) -> None:
    # http.HTTPStatus lives in a module that may not be imported yet in a worker.
    data = b'{"$t":"enum","cls":"http:HTTPStatus","v":404}'
    import http

    assert s.loads(data) is http.HTTPStatus.NOT_FOUND


def _tagged_trees() -> st.SearchStrategy[Any]:
    tags = st.sampled_from(
        [
            *("tuple", "dict", "set", "frozenset", "int", "float", "datetime", "date", "time"),
            *("timedelta", "uuid", "decimal", "bytes", "bytearray", "complex", "enum", "bogus"),
        ]
    )
    leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    return st.recursive(
        leaves,
        lambda kids: (
            st.lists(kids, max_size=4)
            | st.dictionaries(st.text(max_size=4), kids, max_size=3)
            | st.fixed_dictionaries({"$t": tags, "v": kids})
        ),
        max_leaves=15,
    )


@settings(max_examples=200, deadline=None)
@given(tree=_tagged_trees())
def test_fuzzed_tag_trees_only_raise_serialization_error(tree: Any) -> None:
    try:
        data = json.dumps(tree).encode()
    except ValueError:
        return
    with contextlib.suppress(SerializationError):
        JsonSerializer().loads(data)


def test_nan_roundtrips(s: JsonSerializer) -> None:
    back = s.loads(s.dumps([float("nan")]))
    assert back[0] != back[0]


def test_envelope_with_rich_arguments_roundtrips(s: JsonSerializer) -> None:
    job = Job(
        function="app:task",
        args=(uuid.uuid4(), dt.datetime.now(dt.UTC), decimal.Decimal("1.10"), Color.RED, (1, 2)),
        kwargs={"when": dt.date.today(), "blob": b"\x01", "ids": frozenset({1, 2})},
    )
    rebuilt = Job.from_envelope(s.loads(s.dumps(job.to_envelope())))
    assert rebuilt == job
    assert_same(job.args, rebuilt.args)
