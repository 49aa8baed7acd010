"""The test suite every serializer plugin inherits: subclass it and provide the serializer.

::

    import pytest
    from naq_core.serializer import Serializer
    from naq_core.testing.serializer_contract import SerializerContract

    class TestMySerializer(SerializerContract):
        extra_roundtrip_values = (datetime.date(2024, 1, 2),)
        unsupported_values = (object(),)

        @pytest.fixture
        def serializer(self) -> Serializer:
            return MySerializer()

The contract (see :class:`naq_core.serializer.Serializer`): every value either comes back
exactly (same types, same values, same dict key order) or ``dumps`` raises
:class:`~naq_core.errors.SerializationError` naming where the value sits and its type;
``loads`` raises nothing but :class:`~naq_core.errors.SerializationError`.

Needs pytest and hypothesis (test dependencies, not dependencies of naq-core). The checks
carry their own messages, so pytest's assertion rewriting is not needed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naq_core.errors import SerializationError
from naq_core.job import Job, RetryStrategy
from naq_core.serializer import Serializer

__all__ = ["SerializerContract", "assert_same", "json_like_values"]

# The fixture is a stateless serializer, and each subclass runs the same inherited methods
# (hypothesis would otherwise flag both as risks to reproducibility).
_fuzz = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)


def json_like_values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    """Nested lists and string-keyed dicts of str, int, float, bool and None."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**63), max_value=2**63 - 1)
        | st.floats(allow_nan=False)
        | st.text(max_size=20)
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
        ),
        max_leaves=max_leaves,
    )


def assert_same(expected: Any, actual: Any, where: str = "value") -> None:
    """Fail unless ``actual`` is ``expected`` rebuilt: same types all the way down.

    ``==`` alone is not enough (``1 == 1.0 == True``, ``(1,) != [1]`` but ``{1} == {1.0}``,
    aware datetimes compare by instant), so types, float signs, NaNs, dict key order, time
    zones and ``fold`` are compared too.
    """
    if type(expected) is not type(actual):
        got = f"got {type(actual).__name__} {actual!r}"
        raise AssertionError(f"{where}: expected {type(expected).__name__} {expected!r}, {got}")
    ok: bool
    if isinstance(expected, float):
        ok = (math.isnan(expected) and math.isnan(actual)) or (
            expected == actual and math.copysign(1.0, expected) == math.copysign(1.0, actual)
        )
    elif isinstance(expected, dict):
        if len(expected) != len(actual):
            raise AssertionError(f"{where}: expected {len(expected)} keys, got {len(actual)}: {actual!r}")
        for index, (k_exp, k_act) in enumerate(zip(expected, actual, strict=True)):
            assert_same(k_exp, k_act, f"{where} key #{index}")
            assert_same(expected[k_exp], actual[k_act], f"{where}[{k_exp!r}]")
        return
    elif isinstance(expected, list | tuple):
        if len(expected) != len(actual):
            raise AssertionError(f"{where}: expected {len(expected)} items, got {len(actual)}: {actual!r}")
        for index, (i_exp, i_act) in enumerate(zip(expected, actual, strict=True)):
            assert_same(i_exp, i_act, f"{where}[{index}]")
        return
    elif isinstance(expected, dt.datetime | dt.time):
        ok = (
            expected.replace(tzinfo=None) == actual.replace(tzinfo=None)
            and expected.tzinfo == actual.tzinfo
            and expected.utcoffset() == actual.utcoffset()
            and expected.tzname() == actual.tzname()
            and expected.fold == actual.fold
        )
    elif isinstance(expected, decimal.Decimal):
        ok = str(expected) == str(actual)
    elif isinstance(expected, enum.Enum):
        ok = expected is actual
    else:
        ok = bool(expected == actual)
    if not ok:
        raise AssertionError(f"{where}: expected {expected!r}, got {actual!r}")


def _sample_job() -> Job:
    return Job(
        function="myapp.tasks:send_email",
        args=("alice@example.com", 3, 2.5, None, True, [1, "two", [3.0]], {"nested": {"k": [None]}}),
        kwargs={"subject": "Hi", "count": 0, "tags": ["a", "b"], "opts": {"x": -1.5}},
        queue_name="emails",
        job_id="0123456789abcdef0123456789abcdef",
        max_retries=3,
        retry_delay=(1, 5, 30),
        retry_strategy=RetryStrategy.EXPONENTIAL,
        retry_jitter=0.25,
        retry_on=("builtins:OSError",),
        ignore_on=("builtins:ValueError",),
        depends_on=("fedcba9876543210fedcba9876543210",),
        timeout=30.0,
        result_ttl=3600.0,
        enqueued_at=1_700_000_000.123456,
    )


def _sample_value() -> dict[str, Any]:
    return {
        "str": 'héllo wörld ✓ \x00 \n "quoted" $t',
        "empty": ["", [], {}],
        "ints": [0, 1, -1, 2**31, -(2**53) - 1, 2**63 - 1],
        "floats": [0.0, -0.0, 1.5, -2.25e-300, 1e300, 0.1],
        "bools": [True, False],
        "none": None,
        "nested": {"a": [{"b": [{"c": None}]}], "z": 1, "m": 2},
    }


class SerializerContract:
    """Base class of a serializer's test suite; override the ``serializer`` fixture."""

    #: Values beyond the JSON basics the serializer claims to round-trip exactly.
    extra_roundtrip_values: ClassVar[tuple[Any, ...]] = ()
    #: Values ``dumps`` must refuse with a :class:`SerializationError` naming place and type.
    unsupported_values: ClassVar[tuple[Any, ...]] = ()

    @pytest.fixture
    def serializer(self) -> Serializer:
        """The serializer under test: subclasses must override this fixture."""
        raise NotImplementedError("override the `serializer` fixture in your SerializerContract subclass")

    @staticmethod
    def roundtrip(serializer: Serializer, value: Any) -> Any:
        data = serializer.dumps(value)
        if type(data) is not bytes:
            raise AssertionError(f"dumps returned {type(data).__name__}, not bytes")
        return serializer.loads(data)

    # --- the protocol -----------------------------------------------------------------

    def test_implements_protocol(self, serializer: Serializer) -> None:
        assert isinstance(serializer, Serializer), f"{serializer!r} does not implement Serializer"
        assert isinstance(serializer.name, str), "name must be a str"
        assert serializer.name, "name must not be empty"
        assert isinstance(serializer.content_type, str), "content_type must be a str"
        assert serializer.content_type, "content_type must not be empty"
        assert isinstance(serializer.unsafe, bool), "unsafe must be a bool"

    def test_dumps_returns_bytes(self, serializer: Serializer) -> None:
        values: tuple[Any, ...] = (None, 1, "x", [], {}, _sample_value(), _sample_job().to_envelope())
        for value in values:
            data = serializer.dumps(value)
            assert type(data) is bytes, f"dumps({value!r}) returned {type(data).__name__}, not bytes"

    # --- round trips ------------------------------------------------------------------

    def test_job_envelope_roundtrip(self, serializer: Serializer) -> None:
        for job in (_sample_job(), Job(function="m:f")):
            envelope = job.to_envelope()
            decoded = self.roundtrip(serializer, envelope)
            rebuilt = Job.from_envelope(decoded)
            assert rebuilt == job, f"job changed on the way: {job!r} -> {rebuilt!r}"
            assert_same(job.args, rebuilt.args, "args")
            assert_same(dict(job.kwargs), dict(rebuilt.kwargs), "kwargs")

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "text",
            0,
            -7,
            2**63 - 1,
            -(2**63),
            0.0,
            -0.0,
            3.14159,
            1e-310,
            True,
            False,
            None,
            [],
            {},
            [1, "a", None, [2, [3, []]]],
            {"a": {"b": {"c": [1, {"d": None}]}}},
        ],
        ids=repr,
    )
    def test_basic_roundtrip(self, serializer: Serializer, value: Any) -> None:
        assert_same(value, self.roundtrip(serializer, value))

    def test_nested_sample_roundtrip(self, serializer: Serializer) -> None:
        assert_same(_sample_value(), self.roundtrip(serializer, _sample_value()))

    @_fuzz
    @given(value=json_like_values())
    def test_json_like_values_roundtrip(self, serializer: Serializer, value: Any) -> None:
        assert_same(value, self.roundtrip(serializer, value))

    def test_special_values_roundtrip_or_refused(self, serializer: Serializer) -> None:
        """Exactly, or a SerializationError: never silently changed."""
        specials: tuple[Any, ...] = (math.inf, -math.inf, math.nan, 2**64, -(2**100), "\ud800", {"$t": "x"})
        for value in specials:
            try:
                data = serializer.dumps(value)
            except SerializationError:
                continue
            assert_same(value, serializer.loads(data), f"value {value!r}")

    def test_result_roundtrip(self, serializer: Serializer) -> None:
        for value in (None, 42, "done", [1, 2], _sample_value(), *self.extra_roundtrip_values):
            record = {"status": "completed", "result": value}
            assert_same(record, self.roundtrip(serializer, record), "record")

    def test_extra_values_roundtrip(self, serializer: Serializer) -> None:
        for index, value in enumerate(self.extra_roundtrip_values):
            assert_same(value, self.roundtrip(serializer, value), f"extra_roundtrip_values[{index}]")
            nested = {"k": [value, {"deeper": value}]}
            assert_same(nested, self.roundtrip(serializer, nested), f"extra_roundtrip_values[{index}] nested")

    def test_extra_values_in_job(self, serializer: Serializer) -> None:
        if not self.extra_roundtrip_values:
            pytest.skip("no extra_roundtrip_values")
        extras = self.extra_roundtrip_values
        job = Job(function="m:f", args=extras, kwargs={f"k{i}": v for i, v in enumerate(extras)})
        rebuilt = Job.from_envelope(self.roundtrip(serializer, job.to_envelope()))
        assert_same(job.args, rebuilt.args, "args")
        assert_same(dict(job.kwargs), dict(rebuilt.kwargs), "kwargs")

    def test_deterministic(self, serializer: Serializer) -> None:
        values: list[Callable[[], Any]] = [_sample_value, lambda: _sample_job().to_envelope()]
        for make in values:
            first = serializer.dumps(make())
            assert serializer.dumps(make()) == first, "equal values gave different bytes"
        for value in self.extra_roundtrip_values:
            assert serializer.dumps(value) == serializer.dumps(value), f"{value!r} gave different bytes"

    # --- refusals -----------------------------------------------------------------------

    def test_unsupported_values_refused_with_position(self, serializer: Serializer) -> None:
        for value in self.unsupported_values:
            type_name = type(value).__name__
            cases = [
                (Job(function="m:f", args=(value,)).to_envelope(), "args[0]"),
                (Job(function="m:f", args=("ok", value)).to_envelope(), "args[1]"),
                (Job(function="m:f", kwargs={"fine": 1, "user": value}).to_envelope(), "kwargs.user"),
                ({"status": "completed", "result": value}, "result"),
            ]
            for payload, where in cases:
                with pytest.raises(SerializationError) as info:
                    serializer.dumps(payload)
                message = str(info.value)
                assert where in message, f"{message!r} does not name the position {where!r}"
                assert type_name in message, f"{message!r} does not name the type {type_name!r}"

    # --- decoding untrusted bytes ---------------------------------------------------------

    @staticmethod
    def _loads_or_refuse(serializer: Serializer, data: bytes) -> None:
        try:
            serializer.loads(data)
        except SerializationError:
            pass
        except Exception as exc:
            raise AssertionError(
                f"loads({data!r}) raised {type(exc).__name__}: {exc} (only SerializationError is allowed)"
            ) from exc

    @_fuzz
    @given(data=st.binary(max_size=200))
    def test_loads_garbage(self, serializer: Serializer, data: bytes) -> None:
        self._loads_or_refuse(serializer, data)

    @_fuzz
    @given(
        cut=st.integers(min_value=0),
        flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=5),
    )
    def test_loads_damaged_payload(
        self, serializer: Serializer, cut: int, flips: list[tuple[int, int]]
    ) -> None:
        payload = bytearray(serializer.dumps(_sample_job().to_envelope()))
        for position, byte in flips:
            payload[position % len(payload)] = byte
        self._loads_or_refuse(serializer, bytes(payload[: len(payload) - cut % len(payload)]))

    def test_loads_empty(self, serializer: Serializer) -> None:
        with pytest.raises(SerializationError):
            serializer.loads(b"")
