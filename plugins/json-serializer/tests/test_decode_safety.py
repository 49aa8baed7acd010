"""Hostile payloads: tag resolution imports nothing, Flags cannot grow, costs are bounded."""

from __future__ import annotations

import decimal
import enum
import json
import subprocess
import sys
from typing import Any

import orjson
import pytest

import naq_json_serializer
from naq_core.config import Config
from naq_core.errors import SerializationError
from naq_json_serializer import (
    MAX_DECIMAL_EXPONENT,
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_EQUAL_HASHES,
    MAX_FLAG_PSEUDO_MEMBERS,
    JsonSerializer,
    JsonSettings,
)
from naq_json_serializer import _decode as decode_module

pytestmark = pytest.mark.filterwarnings("error")


class Perm(enum.Flag):
    R = 4
    W = 2
    X = 1


class Wide(enum.IntFlag):  # IntFlag keeps unknown bits by default (boundary KEEP)
    A = 1
    B = 2


class Bits(enum.Flag):  # 12 bits: 4096 combinations, more than the decoder may cache
    B0 = 1 << 0
    B1 = 1 << 1
    B2 = 1 << 2
    B3 = 1 << 3
    B4 = 1 << 4
    B5 = 1 << 5
    B6 = 1 << 6
    B7 = 1 << 7
    B8 = 1 << 8
    B9 = 1 << 9
    B10 = 1 << 10
    B11 = 1 << 11


class Lenient(enum.Enum):
    A = "a"

    @classmethod
    def _missing_(cls, value: object) -> Lenient:
        return cls.A


@pytest.fixture
def s() -> JsonSerializer:
    return JsonSerializer()


def _enum(cls: type[enum.Enum], value: Any) -> bytes:
    return orjson.dumps({"$t": "enum", "cls": f"{cls.__module__}:{cls.__qualname__}", "v": value})


_NO_IMPORT_SCRIPT = """
import asyncio, json, sys
from naq_core.errors import SerializationError
from naq_json_serializer import JsonSerializer
s = JsonSerializer()
paths = sys.argv[1:]
before = set(sys.modules)
refused = []
for path in paths:
    data = json.dumps({"$t": "enum", "cls": path, "v": 1}).encode()
    try:
        s.loads(data)
    except SerializationError:
        refused.append(path)
print(json.dumps({"new": sorted(set(sys.modules) - before), "refused": refused,
                  "had": [m for m in ("concurrent.futures", "multiprocessing") if m in before]}))
"""


def test_enum_tag_never_imports_through_a_lazy_module_getattr() -> None:
    # concurrent.futures (imported by asyncio) loads its process pool, and with it
    # multiprocessing, from a module __getattr__ on first access to ProcessPoolExecutor.
    paths = [
        "concurrent.futures:ProcessPoolExecutor",
        "concurrent.futures:ProcessPoolExecutor.X",
        "concurrent.futures.process:X",
        "multiprocessing:X",
        "multiprocessing.pool:Pool",
    ]
    proc = subprocess.run(
        [sys.executable, "-c", _NO_IMPORT_SCRIPT, *paths],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["had"] == ["concurrent.futures"], report  # the test needs the lazy module loaded
    assert report["new"] == []
    assert report["refused"] == paths


def test_enum_is_resolved_under_its_own_name_only(s: JsonSerializer) -> None:
    # enum.Enum is reachable as an attribute of this test module, but it lives in 'enum'.
    with pytest.raises(SerializationError, match="not an Enum class"):
        s.loads(orjson.dumps({"$t": "enum", "cls": f"{__name__}:enum.Enum", "v": 1}))
    with pytest.raises(SerializationError, match="not an Enum class"):
        s.loads(orjson.dumps({"$t": "enum", "cls": f"{__name__}:JsonSerializer.x", "v": 1}))


def test_enum_value_is_looked_up_not_passed_to_missing(s: JsonSerializer) -> None:
    assert s.loads(_enum(Lenient, "a")) is Lenient.A
    with pytest.raises(SerializationError, match="no member"):
        s.loads(_enum(Lenient, "zzz"))


def test_flag_members_and_combinations_roundtrip(s: JsonSerializer) -> None:
    for value in (Perm.R, Perm.R | Perm.X, Perm(0), Perm.R | Perm.W | Perm.X, Wide.A | Wide.B):
        assert s.loads(s.dumps(value)) is value


@pytest.mark.parametrize("cls", [Perm, Wide])
def test_flag_values_outside_the_members_are_refused_and_not_cached(
    s: JsonSerializer, cls: type[enum.Flag]
) -> None:
    size = len(cls._value2member_map_)
    refused = 0
    for value in [*range(8, 1008), -1, -5, {"$t": "int", "v": str(2**70)}, True, 1.0, "1"]:
        with pytest.raises(SerializationError, match="not a member"):
            s.loads(_enum(cls, value))
        refused += 1
    assert refused == 1006
    assert len(cls._value2member_map_) == size


def test_flag_combinations_cached_by_the_decoder_are_bounded(s: JsonSerializer) -> None:
    size = len(Bits._value2member_map_)
    decoded = 0
    refusals: list[str] = []
    for value in range(1 << 12):
        try:
            s.loads(_enum(Bits, value))
        except SerializationError as exc:
            refusals.append(str(exc))
        else:
            decoded += 1
    assert decoded >= MAX_FLAG_PSEUDO_MEMBERS
    assert refusals
    assert all("too many distinct combinations" in message for message in refusals)
    assert len(Bits._value2member_map_) <= size + MAX_FLAG_PSEUDO_MEMBERS
    assert s.loads(_enum(Bits, 1 << 11)) is Bits.B11  # members always decode


def _colliding_decimals(count: int) -> list[str]:
    modulus = sys.hash_info.modulus
    values = [decimal.Decimal(1 + k * modulus) for k in range(count)]
    assert len({hash(v) for v in values}) == 1 and len(set(values)) == count
    return [str(v) for v in values]


@pytest.mark.parametrize("tag", ["set", "frozenset"])
def test_set_of_hash_colliding_decimals_is_refused(
    s: JsonSerializer, tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The payload of the report: 20,000 distinct Decimals with one hash. Building the set
    # would cost 20,000**2 / 2 comparisons; the decoder refuses it before hashing them in.
    built: list[int] = []
    real_set = decode_module._build_set
    monkeypatch.setattr(
        decode_module, "_build_set", lambda kind, items: built.append(len(items)) or real_set(kind, items)
    )
    items = [{"$t": "decimal", "v": v} for v in _colliding_decimals(20_000)]
    with pytest.raises(SerializationError, match="equal hashes"):
        s.loads(orjson.dumps({"$t": tag, "v": items}))
    assert built == []


def test_dict_keys_with_colliding_hashes_are_refused(s: JsonSerializer) -> None:
    modulus = sys.hash_info.modulus
    pairs = [[{"$t": "int", "v": str(7 + k * modulus)}, k] for k in range(MAX_EQUAL_HASHES + 1)]
    with pytest.raises(SerializationError, match="equal hashes"):
        s.loads(orjson.dumps({"$t": "dict", "v": pairs}))
    assert len(s.loads(orjson.dumps({"$t": "dict", "v": pairs[:MAX_EQUAL_HASHES]}))) == MAX_EQUAL_HASHES


def test_big_sets_of_distinct_values_still_roundtrip(s: JsonSerializer) -> None:
    value = {decimal.Decimal(n) / 7 for n in range(5_000)} | set(range(5_000))
    assert s.loads(s.dumps(value)) == value


def test_decimal_exponent_is_bounded(s: JsonSerializer) -> None:
    assert s.loads(s.dumps(decimal.Decimal(f"1e{MAX_DECIMAL_EXPONENT}"))) == decimal.Decimal(
        f"1e{MAX_DECIMAL_EXPONENT}"
    )
    for text in ("1e999999999", f"1e-{MAX_DECIMAL_EXPONENT + 30}", "1" * 5000):
        with pytest.raises(SerializationError, match="decimal"):
            s.loads(orjson.dumps({"$t": "decimal", "v": text}))


def test_nesting_depth_is_bounded(s: JsonSerializer) -> None:
    def nested(lists: int) -> bytes:
        return b'{"$t":"tuple","v":' + b"[" * lists + b"1" + b"]" * lists + b"}"

    with pytest.raises(SerializationError, match="nested too deeply"):
        s.loads(nested(MAX_DEPTH))
    back = s.loads(nested(MAX_DEPTH - 1))
    assert type(back) is tuple
    for _ in range(MAX_DEPTH - 1):
        back = back[0]
    assert back == 1


def test_total_elements_are_bounded(s: JsonSerializer) -> None:
    with pytest.raises(SerializationError, match="too many elements"):
        s.loads(orjson.dumps({"$t": "tuple", "v": [0] * (MAX_ELEMENTS + 1)}))
    assert len(s.loads(orjson.dumps({"$t": "tuple", "v": [0] * 1000}))) == 1000


def test_enum_modules_limits_which_enums_decode() -> None:
    data = _enum(Perm, 4)
    assert JsonSerializer(enum_modules=[__name__]).loads(data) is Perm.R
    assert JsonSerializer(enum_modules=[__name__.partition(".")[0]]).loads(data) is Perm.R  # a package
    for allowed in ([], ["naq_core"], [__name__ + "x"]):
        with pytest.raises(SerializationError, match="enum_modules"):
            JsonSerializer(enum_modules=allowed).loads(data)


def test_enum_modules_comes_from_the_config_table() -> None:
    found: list[Any] = []
    config = Config(plugins={"json_serializer": {"enum_modules": "myapp, other.pkg"}})
    naq_json_serializer.naq_register_serializers(register=found.append, config=config)
    assert [s.enum_modules for s in found] == [("myapp", "other.pkg")]
    naq_json_serializer.naq_register_serializers(register=found.append, config=Config())
    assert found[-1].enum_modules is None
    with pytest.raises(ValueError, match="not a module name"):
        JsonSettings(enum_modules=["os; rm"])
