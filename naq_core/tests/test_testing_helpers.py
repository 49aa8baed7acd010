"""naq_core.testing: the waits are loud when not awaited; both contract suites in one place."""

from __future__ import annotations

import gc

import pytest

from naq_core.testing.worker import Waiting, eventually, wait_until


async def test_an_awaited_wait_returns_once_true_and_times_out_otherwise() -> None:
    seen: list[int] = []

    def third_time() -> bool:
        seen.append(1)
        return len(seen) >= 3

    await wait_until(third_time)
    assert len(seen) == 3
    with pytest.raises(TimeoutError):
        await wait_until(lambda: False, timeout=0.05)

    async def check() -> bool:
        seen.append(1)
        return len(seen) >= 5

    await eventually(check)
    assert len(seen) == 5


@pytest.mark.parametrize("make", [lambda: wait_until(lambda: False), lambda: eventually(lambda: _never())])
def test_asserting_a_wait_without_await_is_a_type_error(make: object) -> None:
    wait = make()  # type: ignore[operator]
    assert isinstance(wait, Waiting)
    with pytest.raises(TypeError, match="did you forget await"):
        bool(wait)


def test_a_wait_never_awaited_warns_when_dropped() -> None:
    with pytest.warns(RuntimeWarning, match=r"wait_until\(\.\.\.\) was never awaited"):
        wait_until(lambda: True)
        gc.collect()


async def test_a_wait_is_awaited_once() -> None:
    wait = wait_until(lambda: True)
    await wait
    with pytest.raises(RuntimeError, match="already awaited"):
        await wait


async def _never() -> bool:
    return False


def test_both_contract_suites_import_from_naq_core_testing() -> None:
    from naq_core.testing import DeadLetterSinkContract, SerializerContract
    from naq_core.testing.serializer_contract import SerializerContract as OldSerializerPath
    from naq_core.testing.sink_contract import DeadLetterSinkContract as OldSinkPath

    assert SerializerContract is OldSerializerPath
    assert DeadLetterSinkContract is OldSinkPath
