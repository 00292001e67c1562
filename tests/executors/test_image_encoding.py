"""The capture options a user picks (PNG effort, lossless WebP) keep every pixel.

A lossless screenshot must decode to exactly the pixels the default fast PNG
shows; bad combinations are refused when the computer is made.
"""

from __future__ import annotations

import io
import random

import pytest
from browser_server import LoopbackServer
from PIL import Image

from executors import DesktopComputer, PlaywrightComputer, Size
from executors._desktop import encode_bgra
from executors._encoding import ImageEncoding

# text, flat colour and a gradient: what a screen is made of
PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;font:15px sans-serif} #g{height:120px;
background:linear-gradient(90deg,#f00,#0f0,#00f)}</style></head><body><div id="g"></div>
<h1>Lossless</h1><p>The quick brown fox jumps over the lazy dog 0123456789.</p>
<input value="typed text"></body></html>"""


def pixels(data: bytes) -> tuple[str | None, bytes]:
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.convert("RGB").tobytes()


@pytest.mark.browser
async def test_lossless_browser_captures_match_the_fast_png(web: LoopbackServer) -> None:
    web.pages["/lossless.html"] = PAGE
    async with PlaywrightComputer(size=(640, 360), start_url=web.url("/lossless.html")) as c:
        assert (await c.settle(5)).stable
        fmt, reference = pixels((await c.screenshot()).data)
        assert fmt == "PNG"
        for image_format, lossless, compression, expected in [
            ("png", False, "small", "PNG"),
            ("webp", True, "fast", "WEBP"),
            ("webp", True, "small", "WEBP"),
        ]:
            c.image_format, c.lossless, c.compression = image_format, lossless, compression
            shot = await c.screenshot()
            assert shot.format == image_format and shot.media_type == f"image/{image_format}"
            assert pixels(shot.data) == (expected, reference), (image_format, compression)
        c.image_format, c.lossless, c.compression = "png", False, "fast"
        assert pixels((await c.screenshot()).data) == ("PNG", reference)


def test_lossless_desktop_encodings_keep_every_pixel() -> None:
    width, height = 120, 45
    rng = random.Random(3)
    bgrx = bytearray()
    for y in range(height):
        for x in range(width):
            bgrx += rng.randbytes(4) if x > 80 else bytes((x * 2, y * 5, 200, 0))
    expected = Image.frombytes("RGB", (width, height), bytes(bgrx), "raw", "BGRX").tobytes()
    size = Size(width, height)
    for encoding in [
        ImageEncoding("png", compression="small"),
        ImageEncoding("webp", lossless=True),
        ImageEncoding("webp", lossless=True, compression="small"),
    ]:
        data = encode_bgra(bytes(bgrx), size, size, encoding)
        assert pixels(data) == (encoding.format.upper(), expected), encoding


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"image_format": "gif"}, "image_format"),
        ({"image_format": "jpeg", "lossless": True}, "lossless"),
        ({"compression": "max"}, "compression"),
        ({"image_format": "webp", "quality": 0}, "quality"),
    ],
)
def test_bad_image_options_are_refused(options: dict[str, object], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        PlaywrightComputer(**options)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=says):
        DesktopComputer(":99", allow_host_display=True, **options)  # type: ignore[arg-type]
