"""Model space to screen pixels: huge finite coordinates clamp instead of overflowing."""

from __future__ import annotations

import pytest

from executors import Point, Size
from executors._geometry import (
    CoordinateSpace,
    coordinate_mapping,
    model_to_screen,
    screen_to_model,
)

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
    assert tuple(model_to_screen(999, 999, "normalized-999", SIZE).point) == (1279, 719)
    assert not model_to_screen(0, 0, "normalized-999", SIZE).clamped
    # Lightcone's convention, int(v / 1000 * dim): 999 is the last pixel's interval
    assert tuple(model_to_screen(999, 999, "normalized", SIZE).point) == (1278, 719)
    assert not model_to_screen(999, 999, "normalized", SIZE).clamped
    assert not model_to_screen(0, 0, "normalized", SIZE).clamped


@pytest.mark.parametrize("space", ["normalized", "normalized-999"])
def test_screen_to_model_inverts_both_normalized_mappings(space: CoordinateSpace) -> None:
    for px in range(0, SIZE.width, 3):
        point = Point(px, px % SIZE.height)
        mx, my = screen_to_model(point, space, SIZE)
        assert model_to_screen(mx, my, space, SIZE).point == point


def test_vendor_mapping_truncates_like_lightcone_examples() -> None:
    for v in (0, 1, 78.9, 500, 512.4, 998, 999):
        got = model_to_screen(v, v, "normalized", SIZE).point
        assert got == Point(int(v / 1000 * 1280), int(v / 1000 * 720))
    assert coordinate_mapping("normalized") == "int(v / 1000 * dim)"
    assert coordinate_mapping("normalized-999") == "round(v * (dim - 1) / 999)"
