"""With every distribution installed (the ``naq`` meta distribution), plugins come from entry points.

These tests use no throwaway plugin: the serializer is whatever ``pip install naq`` brings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import naq_json_serializer
from naq_core import Queue, TaskRegistry, Worker, load_config
from naq_core.plugins import ENTRY_POINT_GROUP, Hooks, list_plugins

WAIT = 15.0


def shift(when: dt.datetime, ident: uuid.UUID, amount: Decimal, tags: tuple[str, ...]) -> dict[str, Any]:
    """A task that shows what the worker decoded and returns the same kinds of values."""
    return {
        "when": when + dt.timedelta(days=1),
        "ident": ident,
        "amount": amount * 2,
        "tags": tags,
        "seen": [type(when).__name__, type(ident).__name__, type(amount).__name__, type(tags).__name__],
    }


def _installed(dist: str) -> bool:
    try:
        metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


def test_naq_meta_distribution_brings_the_json_serializer() -> None:
    requires = metadata.requires("naq") or []
    names = {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r}
    assert {"naq-core", "naq-json-serializer"} <= names


def test_entry_points_list_the_installed_plugins() -> None:
    points = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert "json" in points
    assert points["json"].value == "naq_json_serializer"
    assert points["json"].dist is not None
    assert points["json"].dist.name == "naq-json-serializer"
    if _installed("naq-pickle-unsafe"):
        assert "pickle" in points
        assert points["pickle"].value == "naq_pickle_unsafe"


def test_default_config_picks_json_from_its_entry_point(
    installed_hooks: Hooks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no naq.toml / [tool.naq] of the checkout in the way
    config = load_config()
    assert config.serializer == "json"
    serializer = installed_hooks.serializer(config.serializer)
    assert isinstance(serializer, naq_json_serializer.JsonSerializer)
    assert serializer.unsafe is False
    assert installed_hooks.pm.get_plugin("json") is naq_json_serializer
    rows = {row["name"]: row for row in list_plugins(installed_hooks.pm)}
    assert rows["json"]["distribution"] == "naq-json-serializer"
    assert "naq_register_serializers" in rows["json"]["hooks"]


async def test_job_round_trips_through_the_installed_json_serializer(
    installed_hooks: Hooks, nats_url: str, queue_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    registry = TaskRegistry()
    registry.register(shift)
    worker = Worker(
        queue_name, nats_url, registry=registry, hooks=installed_hooks, install_signal_handlers=False
    )
    running = asyncio.create_task(worker.run())
    when = dt.datetime(2024, 2, 29, 23, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    amount = Decimal("10.005")
    try:
        async with Queue(queue_name, nats_url) as queue:
            conn = await queue.connection()
            assert conn.serializer.name == "json"
            job = await queue.enqueue(shift, when, ident, amount, tags=("a", "b"))
            result = await queue.fetch_job_result(job, timeout=WAIT)
    finally:
        worker.request_stop()
        await asyncio.wait_for(running, WAIT)
    assert result["seen"] == ["datetime", "UUID", "Decimal", "tuple"]
    assert result["when"] == when + dt.timedelta(days=1)
    assert result["when"].utcoffset() == dt.timedelta(hours=5, minutes=30)
    assert result["ident"] == ident
    assert isinstance(result["amount"], Decimal)
    assert result["amount"] == Decimal("20.010")
    assert result["tags"] == ("a", "b")
