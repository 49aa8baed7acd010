"""The exception tree: names that shadow no builtin, and the old names still work."""

from __future__ import annotations

import builtins

import pytest

from naq_core import errors
from naq_core.errors import JobTimeoutError, NaqError, NaqTimeoutError


def test_a_timeout_is_a_naq_error_and_a_builtin_timeout() -> None:
    with pytest.raises(builtins.TimeoutError):
        raise NaqTimeoutError("late")
    with pytest.raises(NaqError):
        raise NaqTimeoutError("late")
    assert issubclass(JobTimeoutError, NaqTimeoutError)


def test_the_old_name_is_an_alias_not_exported_by_star() -> None:
    assert errors.TimeoutError is NaqTimeoutError
    assert "TimeoutError" not in errors.__all__
    assert not any(getattr(builtins, name, None) is not None for name in errors.__all__)
