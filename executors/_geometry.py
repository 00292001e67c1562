"""Every coordinate conversion screenloop makes, in one place.

Three spaces:

- *model space*: what the model emits; either pixels of the declared display
  (``"pixels"``, OpenAI) or a 0-999 grid (``"normalized"``, Lightcone's
  Northstar models), floats allowed;
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
    "NORMALIZED_MAX",
    "CoordinateSpace",
    "GeometryError",
    "MappedPoint",
    "clamp_to_screen",
    "model_to_screen",
    "rescale_point",
    "screen_to_device",
    "screen_to_model",
]

CoordinateSpace = Literal["pixels", "normalized"]
NORMALIZED_MAX = 999


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

    Normalized: ``pixel = round(v * (dim - 1) / 999)`` (Lightcone's formula).
    """
    fx, fy = _check(x, "x"), _check(y, "y")
    if space == "normalized":
        _check_size(size)
        # onto [0, 999] first: the mapping is monotonic, and a huge finite value
        # (1e305) would overflow to infinity once scaled
        nx, ny = min(max(fx, 0.0), NORMALIZED_MAX), min(max(fy, 0.0), NORMALIZED_MAX)
        sx = nx * (size.width - 1) / NORMALIZED_MAX
        sy = ny * (size.height - 1) / NORMALIZED_MAX
        mapped = clamp_to_screen(sx, sy, size)
        clamped = mapped.clamped or (nx, ny) != (fx, fy)
        return MappedPoint(mapped.point, clamped=clamped, original=(fx, fy))
    if space == "pixels":
        return clamp_to_screen(fx, fy, size)
    raise GeometryError(f"unknown coordinate space {space!r}")


def screen_to_model(point: Point, space: CoordinateSpace, size: Size) -> tuple[float, float]:
    """The inverse of `model_to_screen` (for reports and replay)."""
    if space == "normalized":
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
