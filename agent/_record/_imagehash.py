"""Perceptual hashes of screenshots: compare two screens by what they look like.

A difference hash (dHash): the image is turned to grey and box-averaged down
to ``(n + 1) x n`` cells; bit ``(r, c)`` is set when cell ``(r, c)`` is
brighter than its right neighbour by more than `DEAD_ZONE` grey levels. Two
screenshots of the same screen hash the same; a moved button, another page or
a dialog flips many bits. The dead zone keeps noise out: on a flat background
neighbouring cells are equal, and a plain dHash (``left > right``) would flip a
bit for a blinking text caret; with the dead zone such sub-level changes never
count.

Hashes are strings, ``"d16:<hex>"`` (16 x 16 = 256 bits), so they can go into
JSON (cassettes, replay records) and be compared later with `hash_distance`.

`screen_distance` answers the same question with both images at hand (replay):
it compares small grey thumbnails tile by tile and returns the *worst tile's*
mean absolute difference in 0..1, so a moved button scores high even though it
changes 1 % of the pixels, while a blinking caret stays near zero.
`write_diff_image` draws recorded | replayed | differences side by side.
"""

from __future__ import annotations

import io
import os
import re
from array import array
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageOps

__all__ = [
    "DEAD_ZONE",
    "DEFAULT_HASH_SIZE",
    "DEFAULT_SCREEN_THRESHOLD",
    "dhash",
    "hash_distance",
    "is_image_hash",
    "load_image",
    "screen_distance",
    "write_diff_image",
]

DEFAULT_HASH_SIZE = 16
DEAD_ZONE = 2.0
"""Grey levels (0-255) a cell must exceed its right neighbour by to set its bit."""

_HASH_RE = re.compile(r"^d(\d+):([0-9a-f]+)$")


def dhash(image: bytes | Image.Image, size: int = DEFAULT_HASH_SIZE) -> str:
    """The difference hash of an encoded image (PNG/JPEG/WebP bytes) or a PIL image."""
    if size < 2:
        raise ValueError(f"hash size must be at least 2, got {size}")
    img = Image.open(io.BytesIO(image)) if isinstance(image, (bytes, bytearray)) else image
    grey = img.convert("L").resize((size + 1, size), Image.Resampling.BOX)
    # BOX averages whole pixels into each cell; read the cell means back as floats
    # so the dead zone compares real averages, not values rounded by the resize.
    cells = array("f", grey.convert("F").tobytes())
    bits = 0
    for row in range(size):
        base = row * (size + 1)
        for col in range(size):
            bits <<= 1
            if cells[base + col] - cells[base + col + 1] > DEAD_ZONE:
                bits |= 1
    width = size * size // 4
    return f"d{size}:{bits:0{width}x}"


def is_image_hash(value: object) -> bool:
    """True when `value` looks like a hash made by `dhash`."""
    return isinstance(value, str) and _HASH_RE.match(value) is not None


def hash_distance(a: str, b: str) -> int:
    """The number of differing bits of two hashes of the same size (Hamming distance)."""
    ma, mb = _HASH_RE.match(a), _HASH_RE.match(b)
    if ma is None or mb is None:
        raise ValueError(f"not image hashes: {a!r}, {b!r}")
    if ma.group(1) != mb.group(1):
        raise ValueError(f"hashes of different sizes cannot be compared: {a!r}, {b!r}")
    return (int(ma.group(2), 16) ^ int(mb.group(2), 16)).bit_count()


DEFAULT_SCREEN_THRESHOLD = 0.05
"""`screen_distance` at or below this counts as "the same screen"."""

_THUMB_WIDTH = 256  # thumbnail width in pixels at 1280 wide; a tile is _TILE x _TILE of them
_TILE = 8
_SCREEN_PX_PER_THUMB_PX = 5

ImageLike = Image.Image | bytes | str | os.PathLike[str]


def load_image(image: ImageLike) -> Image.Image:
    """An RGB `PIL.Image` from an image, encoded bytes, or a file path."""
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, bytes):
        with Image.open(io.BytesIO(image)) as im:
            return im.convert("RGB")
    with Image.open(Path(image)) as im:
        return im.convert("RGB")


def screen_distance(a: ImageLike, b: ImageLike) -> float:
    """How different two screenshots look: 0.0 identical ... 1.0 black vs white.

    Both become grey thumbnails of a fifth of the first image's size (256 px
    wide at 1280 x 720); their absolute difference is averaged over 8 x 8
    tiles (about 40 x 40 screen pixels) and the largest tile mean is returned.
    """
    first, second = load_image(a), load_image(b)
    # One thumbnail pixel per 5 screen pixels (256 wide at 1280), so a tile is
    # always about 40 x 40 screen pixels whatever the screen size.
    width = max(_TILE * 8, min(_THUMB_WIDTH * 2, round(first.width / _SCREEN_PX_PER_THUMB_PX)))
    height = max(_TILE, round(width * first.height / max(first.width, 1)))
    small_a = first.convert("L").resize((width, height), Image.Resampling.BOX)
    small_b = second.convert("L").resize((width, height), Image.Resampling.BOX)
    tiles = ImageChops.difference(small_a, small_b).resize(
        (max(1, width // _TILE), max(1, height // _TILE)), Image.Resampling.BOX
    )
    worst = tiles.getextrema()[1]  # "L" mode: (min, max)
    assert isinstance(worst, (int, float))
    return float(worst) / 255.0


def write_diff_image(expected: ImageLike, actual: ImageLike, path: str | os.PathLike[str]) -> Path:
    """Write a PNG: recorded | replayed | differences (red over a faded copy); returns `path`.

    The replayed image is scaled to the recorded one's size when they differ.
    """
    left, right = load_image(expected), load_image(actual)
    if right.size != left.size:
        right = right.resize(left.size, Image.Resampling.BILINEAR)
    w, h = left.size
    mask = ImageOps.grayscale(ImageChops.difference(left, right)).point(
        lambda v: 255 if v > 24 else 0
    )
    faded = Image.blend(
        ImageOps.grayscale(right).convert("RGB"), Image.new("RGB", (w, h), "white"), 0.6
    )
    overlay = Image.composite(Image.new("RGB", (w, h), (220, 30, 30)), faded, mask)
    label_h, gap = 24, 8
    canvas = Image.new("RGB", (w * 3 + 2 * gap, h + label_h), (245, 245, 245))
    draw = ImageDraw.Draw(canvas)
    for i, (img, label) in enumerate(
        ((left, "recorded"), (right, "replayed"), (overlay, "differences"))
    ):
        x = i * (w + gap)
        canvas.paste(img, (x, label_h))
        draw.text((x + 6, 6), label, fill=(20, 20, 20))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(target, format="PNG", compress_level=1)
    return target
