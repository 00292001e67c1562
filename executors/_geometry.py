"""Every coordinate conversion screenloop makes, in one place.

Three spaces:

- *model space*: what the model emits; either pixels of the declared display
  (``"pixels"``, OpenAI) or a 0-999 grid (Lightcone's Northstar models),
  floats allowed. The grid has two mappings onto pixels: ``"normalized"``
  follows Lightcone's own examples, ``pixel = int(v / 1000 * dim)`` (a
  0-1000 space, truncating; the default since issue 17), and
  ``"normalized-999"`` is screenloop's earlier ``round(v * (dim - 1) / 999)``
  (they differ by up to ~1.3 px). `coordinate_mapping` names the formula a
  run used (run.json records it);
- *screen pixels*: pixels of the declared display, the size screenshots are
  sent at; every `Computer` method takes these;
- *device pixels*: physical pixels (screen pixels x device scale factor), used
  only inside backends that capture at a higher DPR.

Out-of-range points are clamped onto the screen and reported, never passed on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from executors._computer import Point, Size

__all__ = [
    "COORDINATE_SPACES",
    "NORMALIZED_MAX",
    "CoordinateSpace",
    "GeometryError",
    "MappedPoint",
    "clamp_to_screen",
    "coordinate_mapping",
    "is_normalized",
    "model_to_screen",
    "rescale_point",
    "screen_to_device",
    "screen_to_model",
]

CoordinateSpace = Literal["pixels", "normalized", "normalized-999"]
COORDINATE_SPACES: tuple[CoordinateSpace, ...] = ("pixels", "normalized", "normalized-999")
NORMALIZED_MAX = 999
_VENDOR_SCALE = 1000

_MAPPINGS: dict[str, str] = {
    "pixels": "round(v)",
    "normalized": "int(v / 1000 * dim)",
    "normalized-999": "round(v * (dim - 1) / 999)",
}


def coordinate_mapping(space: str) -> str:
    """The formula taking a model coordinate `v` to a pixel of a `dim`-pixel axis."""
    return _MAPPINGS.get(space, "unknown")


def is_normalized(space: str) -> bool:
    """Whether `space` is one of the 0-999 grids (either mapping)."""
    return space in ("normalized", "normalized-999")


class GeometryError(ValueError):
    """A coordinate is not a finite number, or a size is not positive."""


@dataclass(frozen=True)
class MappedPoint:
    """A point mapped to screen pixels; `clamped` says it was moved onto the screen."""

    point: Point
    clamped: bool
    original: tuple[float, float]


def _check(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GeometryError(f"{name} is not a number: {value!r}")
    if not math.isfinite(value):
        raise GeometryError(f"{name} is not finite: {value!r}")
    return float(value)


def _check_size(size: Size) -> None:
    if size.width <= 0 or size.height <= 0:
        raise GeometryError(f"display size must be positive, got {size.width}x{size.height}")


def clamp_to_screen(x: float, y: float, size: Size) -> MappedPoint:
    """Round a screen-pixel point and clamp it into ``[0, dim - 1]``."""
    _check_size(size)
    fx, fy = _check(x, "x"), _check(y, "y")
    rx, ry = round(fx), round(fy)
    cx = min(max(rx, 0), size.width - 1)
    cy = min(max(ry, 0), size.height - 1)
    return MappedPoint(Point(cx, cy), clamped=(cx, cy) != (rx, ry), original=(fx, fy))


def model_to_screen(x: float, y: float, space: CoordinateSpace, size: Size) -> MappedPoint:
    """Map a model-space point to screen pixels, clamped.

    ``normalized``: ``pixel = int(v / 1000 * dim)`` (Lightcone's examples);
    ``normalized-999``: ``pixel = round(v * (dim - 1) / 999)``.
    """
    fx, fy = _check(x, "x"), _check(y, "y")
    if is_normalized(space):
        _check_size(size)
        # onto [0, 999] first: the mapping is monotonic, and a huge finite value
        # (1e305) would overflow to infinity once scaled
        top = float(_VENDOR_SCALE if space == "normalized" else NORMALIZED_MAX)
        nx, ny = min(max(fx, 0.0), top), min(max(fy, 0.0), top)
        if space == "normalized":
            sx = float(int(nx / _VENDOR_SCALE * size.width))
            sy = float(int(ny / _VENDOR_SCALE * size.height))
        else:
            sx = nx * (size.width - 1) / NORMALIZED_MAX
            sy = ny * (size.height - 1) / NORMALIZED_MAX
        mapped = clamp_to_screen(sx, sy, size)
        clamped = mapped.clamped or (nx, ny) != (fx, fy)
        return MappedPoint(mapped.point, clamped=clamped, original=(fx, fy))
    if space == "pixels":
        return clamp_to_screen(fx, fy, size)
    raise GeometryError(f"unknown coordinate space {space!r}")


def screen_to_model(point: Point, space: CoordinateSpace, size: Size) -> tuple[float, float]:
    """The inverse of `model_to_screen` (for reports and replay).

    For ``normalized`` the value at the centre of the pixel's interval, so that
    `model_to_screen` of it (even rounded to an integer) lands back on the pixel.
    """
    if space == "normalized":
        _check_size(size)
        return (
            (point.x + 0.5) * _VENDOR_SCALE / size.width,
            (point.y + 0.5) * _VENDOR_SCALE / size.height,
        )
    if space == "normalized-999":
        _check_size(size)
        return (
            point.x * NORMALIZED_MAX / max(size.width - 1, 1),
            point.y * NORMALIZED_MAX / max(size.height - 1, 1),
        )
    return (float(point.x), float(point.y))


def rescale_point(point: Point, src: Size, dst: Size) -> Point:
    """Map a pixel of a `src`-sized screen onto a `dst`-sized one (pixel centres), clamped.

    For a backend whose real screen differs from the declared display size.
    """
    _check_size(src)
    _check_size(dst)
    x = (point.x + 0.5) * dst.width / src.width - 0.5
    y = (point.y + 0.5) * dst.height / src.height - 0.5
    return clamp_to_screen(x, y, dst).point


def screen_to_device(point: Point, scale: float) -> tuple[float, float]:
    """Screen pixels to device pixels at a device scale factor."""
    return (point.x * scale, point.y * scale)
