"""The built wheels and sdists pass tests/packaging/check_dist.py, and the check finds faults."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from check_dist import check, projects


def test_built_distributions_pass_the_checks(dist_dir: Path) -> None:
    problems, sizes = check(dist_dir)
    assert not problems, "\n".join(problems)
    assert len(sizes) == 2 * len(projects())
    for name, size in sizes:
        print(f"{size / 1024:8.1f} KiB  {name}")


def _without(wheel: Path, dropped: str, out: Path) -> None:
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            if item.filename != dropped:
                target.writestr(item, source.read(item))


@pytest.mark.parametrize(
    ("wheel_prefix", "dropped", "expected"),
    [
        ("naq_dashboard-", "naq_dashboard/static/naq.css", "naq_dashboard/static/naq.css from src/"),
        ("naq_dlq_stream-", "naq_dlq_stream/py.typed", "naq_dlq_stream has no py.typed"),
    ],
)
def test_the_check_names_a_missing_file(
    dist_dir: Path, tmp_path: Path, wheel_prefix: str, dropped: str, expected: str
) -> None:
    broken = tmp_path / "dist"
    shutil.copytree(dist_dir, broken)
    (wheel,) = broken.glob(f"{wheel_prefix}*.whl")
    damaged = tmp_path / wheel.name
    _without(wheel, dropped, damaged)
    damaged.replace(wheel)
    problems, _ = check(broken)
    assert any(expected in line for line in problems), problems
