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

import base64
import io
import os
import re
from array import array
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageOps

__all__ = [
    "ACTION_TILE_PX",
    "CHECK_TILE_PX",
    "DEAD_ZONE",
    "DEFAULT_CHECK_THRESHOLD",
    "DEFAULT_HASH_SIZE",
    "DEFAULT_SCREEN_THRESHOLD",
    "dhash",
    "fingerprint_distance",
    "hash_distance",
    "is_fingerprint",
    "is_image_hash",
    "load_image",
    "screen_distance",
    "screen_fingerprint",
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


def _thumbnail(image: Image.Image, scale: float) -> Image.Image:
    """An RGB thumbnail with one pixel per `scale` x `scale` screen pixels (box-averaged)."""
    width = max(_TILE * 8, min(_THUMB_WIDTH * 2, round(image.width / scale)))
    height = max(_TILE, round(width * image.height / max(image.width, 1)))
    return image.convert("RGB").resize((width, height), Image.Resampling.BOX)


def _without_carets(diff: Image.Image) -> Image.Image:
    """`diff` with changes one pixel wide and no wider (a text caret's blink) set to zero.

    At 4 screen pixels per fingerprint pixel a 1-2 px caret lies in one column;
    a changed glyph, word or colour spans at least two neighbouring columns.
    """
    mask = diff.point(lambda v: 255 if v > _CARET_NOISE else 0)
    width, height = mask.size
    left, right = Image.new("L", mask.size, 0), Image.new("L", mask.size, 0)
    left.paste(mask.crop((1, 0, width, height)), (0, 0))
    right.paste(mask.crop((0, 0, width - 1, height)), (1, 0))
    isolated = ImageChops.subtract(mask, ImageChops.lighter(left, right))
    return ImageChops.subtract(diff, isolated)


def _worst_tile(
    small_a: Image.Image, small_b: Image.Image, tile: int, *, ignore_carets: bool = False
) -> float:
    """The largest mean, over `tile` x `tile` tiles, of the per-pixel worst-channel difference."""
    if small_b.size != small_a.size:
        small_b = small_b.resize(small_a.size, Image.Resampling.BOX)
    # The worst channel, not grey: a green -> red button is 6 grey levels apart
    # but ~150 levels apart in its red and green channels.
    diff = ImageChops.difference(small_a.convert("RGB"), small_b.convert("RGB"))
    red, green, blue = diff.split()
    worst_channel = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    if ignore_carets:
        worst_channel = _without_carets(worst_channel)
    width, height = small_a.size
    tiles = worst_channel.resize(
        (max(1, width // tile), max(1, height // tile)), Image.Resampling.BOX
    )
    worst = tiles.getextrema()[1]  # "L" mode: (min, max)
    assert isinstance(worst, (int, float))
    return float(worst) / 255.0


def screen_distance(a: ImageLike, b: ImageLike) -> float:
    """How different two screenshots look: 0.0 identical ... 1.0 black vs white.

    Both become thumbnails of a fifth of the first image's size (256 px wide at
    1280 x 720); their per-pixel difference (the largest of the red, green and
    blue differences) is averaged over 8 x 8 tiles (about 40 x 40 screen
    pixels) and the largest tile mean is returned.
    """
    first, second = load_image(a), load_image(b)
    # One thumbnail pixel per 5 screen pixels (256 wide at 1280), so a tile is
    # always about 40 x 40 screen pixels whatever the screen size.
    small_a = _thumbnail(first, _SCREEN_PX_PER_THUMB_PX)
    small_b = second.resize(small_a.size, Image.Resampling.BOX)
    return _worst_tile(small_a, small_b, _TILE)


FINGERPRINT_PREFIX = "t4:"
_CARET_NOISE = 8  # grey levels of difference below which a fingerprint pixel is unchanged
_FINGERPRINT_SCALE = 4  # screen pixels per fingerprint pixel
ACTION_TILE_PX = 40
"""Tile size (screen pixels) for matching the screenshot of an action step (as replay)."""
CHECK_TILE_PX = 8
"""Tile size (screen pixels) for matching a screenshot a check/extract answer judged."""
DEFAULT_CHECK_THRESHOLD = 0.02
"""`fingerprint_distance` at ``CHECK_TILE_PX`` at or below this: the same screen for a check."""


def screen_fingerprint(image: ImageLike) -> str:
    """A storable stand-in for a screenshot: ``"t4:"`` + a base64 PNG thumbnail.

    The thumbnail is RGB with one pixel per 4 x 4 screen pixels (320 x 180 at
    1280 x 720, a few kB as PNG), so a changed word, digit or colour still
    changes it; `fingerprint_distance` compares two of them.
    """
    img = load_image(image)
    scale = _FINGERPRINT_SCALE
    size = (max(1, round(img.width / scale)), max(1, round(img.height / scale)))
    small = img.resize(size, Image.Resampling.BOX)
    buf = io.BytesIO()
    small.save(buf, format="PNG", optimize=True)
    return FINGERPRINT_PREFIX + base64.b64encode(buf.getvalue()).decode("ascii")


def is_fingerprint(value: object) -> bool:
    """True when `value` looks like a fingerprint made by `screen_fingerprint`."""
    return isinstance(value, str) and value.startswith(FINGERPRINT_PREFIX)


def _fingerprint_image(value: str) -> Image.Image:
    if not is_fingerprint(value):
        raise ValueError(f"not a screen fingerprint: {value[:24]!r}")
    try:
        data = base64.b64decode(value[len(FINGERPRINT_PREFIX) :], validate=True)
        with Image.open(io.BytesIO(data)) as im:
            return im.convert("RGB")
    except Exception as exc:
        raise ValueError(f"unreadable screen fingerprint: {exc}") from exc


def fingerprint_distance(a: str, b: str, *, tile_px: int = ACTION_TILE_PX) -> float:
    """The `screen_distance` of two fingerprints, over tiles of `tile_px` screen pixels.

    Same unit as `screen_distance` (0..1, the worst tile's mean difference):
    ``tile_px=40`` is replay's measure; ``tile_px=8`` (`CHECK_TILE_PX`) sees one
    changed digit. A change one fingerprint pixel wide (a blinking text caret)
    is not counted. Raises ValueError for a malformed fingerprint.
    """
    small_a, small_b = _fingerprint_image(a), _fingerprint_image(b)
    tile = max(1, round(tile_px / _FINGERPRINT_SCALE))
    return _worst_tile(small_a, small_b, tile, ignore_carets=True)


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
