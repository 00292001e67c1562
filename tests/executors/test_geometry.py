"""Model space to screen pixels: huge finite coordinates clamp instead of overflowing."""

from __future__ import annotations

import pytest

from executors import Size
from executors._geometry import model_to_screen

SIZE = Size(1280, 720)


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (0, 4.5e305, (0, 719)),  # scaled, 4.5e305 * 719 / 999 overflows to infinity
        (-1e308, 1e308, (0, 719)),
        (1e308, -1e308, (1279, 0)),
    ],
)
def test_huge_normalized_coordinates_clamp_to_the_edge(
    x: float, y: float, expected: tuple[int, int]
) -> None:
    mapped = model_to_screen(x, y, "normalized", SIZE)
    assert tuple(mapped.point) == expected
    assert mapped.clamped


def test_normalized_corners_are_not_clamped() -> None:
    assert tuple(model_to_screen(999, 999, "normalized", SIZE).point) == (1279, 719)
    assert not model_to_screen(0, 0, "normalized", SIZE).clamped
