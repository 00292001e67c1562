"""The fast PNG writer is lossless: every pixel decodes back exactly, at any size."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from executors import Size
from executors._desktop import encode_bgra
from executors._png import encode_png_rgb


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (97, 31), (640, 400)])
def test_round_trip_is_exact(size: tuple[int, int]) -> None:
    width, height = size
    rng = random.Random(width * 1000 + height)
    # flat areas, gradients and noise: what screens are made of
    pixels = bytearray()
    for y in range(height):
        for x in range(width):
            if x < width // 3:
                pixels += bytes((200, 200, 200))
            elif x < 2 * width // 3:
                pixels += bytes((x % 256, y % 256, (x + y) % 256))
            else:
                pixels += rng.randbytes(3)
    data = encode_png_rgb(bytes(pixels), width, height)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.mode == "RGB" and image.size == size
        assert image.tobytes() == bytes(pixels)


def test_encode_bgra_png_keeps_every_pixel() -> None:
    width, height = 33, 7
    rng = random.Random(7)
    bgrx = rng.randbytes(width * height * 4)
    data = encode_bgra(bgrx, Size(width, height), Size(width, height), "png")
    expected = Image.frombytes("RGB", (width, height), bgrx, "raw", "BGRX").tobytes()
    with Image.open(io.BytesIO(data)) as image:
        assert image.convert("RGB").tobytes() == expected


def test_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError):
        encode_png_rgb(b"\x00" * 10, 2, 2)
