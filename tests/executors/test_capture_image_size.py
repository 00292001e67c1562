"""The captured image's size is read from the PNG header (no decode), Pillow otherwise."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from executors._browser._capture import _image_size


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_image_size_matches_pillow(fmt: str) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (1024, 77), (10, 20, 30)).save(buf, fmt)
    assert _image_size(buf.getvalue()) == (1024, 77)
