"""Tasks for the end-to-end test: a closure-free function taking a custom object."""

from __future__ import annotations


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y


def norm1(point: Point) -> int:
    return abs(point.x) + abs(point.y)
