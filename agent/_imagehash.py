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
"""

from __future__ import annotations

import io
import re

from PIL import Image

__all__ = [
    "DEAD_ZONE",
    "DEFAULT_HASH_SIZE",
    "dhash",
    "hash_distance",
    "is_image_hash",
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
    cells = list(grey.convert("F").getdata())
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
