"""How a screenshot is encoded: format, lossy quality, lossless WebP, compression effort.

Every computer takes the same image options (``image_format``, ``quality``,
``lossless``, ``compression``); `ImageEncoding` checks them once and encodes a
Pillow image with them, so the desktop grab, a browser capture Chromium cannot
encode itself (lossless WebP), and a drawn dialog come out alike.

- ``png``: lossless. ``compression="fast"`` (the default) is zlib level 1 on
  unfiltered rows (`executors._png`; in Chromium ``optimizeForSpeed``);
  ``"small"`` is zlib level 6 (Chromium's default PNG encoder), about a quarter
  fewer bytes on a text page for a few ms more.
- ``webp`` with ``lossless=True``: libwebp's lossless mode, a third to a sixth
  of the PNG bytes on screens of text and flat colour. ``"fast"`` is method 1 at
  effort 0, ``"small"`` method 1 at effort 80 (half the bytes again, about
  twice the CPU). Chromium's own lossless WebP (quality 100) is several times
  slower than libwebp through Pillow, so the browser captures PNG and converts.
- ``jpeg`` / ``webp`` (lossy): at `quality` (default 80); ``"small"`` spends more
  effort on the same quality (WebP method 4, optimized JPEG Huffman tables).

Measured in bench figure 7 (``python -m bench --only net``, bench/README.md).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from executors._computer import ImageFormat
from executors._png import encode_png_rgb

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["COMPRESSIONS", "Compression", "ImageEncoding"]

Compression = Literal["fast", "small"]
COMPRESSIONS: tuple[Compression, ...] = ("fast", "small")
_FORMATS: tuple[ImageFormat, ...] = ("png", "jpeg", "webp")
_PNG_LEVEL = {"fast": 1, "small": 6}
# libwebp lossless: (method, effort) per compression
_WEBP_LOSSLESS = {"fast": (1, 0), "small": (1, 80)}
_WEBP_LOSSY_METHOD = {"fast": 0, "small": 4}


@dataclass(frozen=True)
class ImageEncoding:
    """Checked image options (`check` raises ValueError on a bad combination)."""

    format: ImageFormat = "png"
    quality: int | None = None
    lossless: bool = False
    compression: Compression = "fast"

    @classmethod
    def check(
        cls,
        image_format: str,
        quality: int | None = None,
        lossless: bool = False,
        compression: str = "fast",
    ) -> ImageEncoding:
        """The encoding for these options, or ValueError saying what is wrong."""
        if image_format not in _FORMATS:
            raise ValueError(f"image_format must be png, jpeg or webp, not {image_format!r}")
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression must be fast or small, not {compression!r}")
        if lossless and image_format == "jpeg":
            raise ValueError("lossless=True needs image_format png or webp (JPEG is lossy)")
        if quality is not None and not 1 <= int(quality) <= 100:
            raise ValueError(f"quality must be between 1 and 100, not {quality!r}")
        return cls(
            image_format,
            None if quality is None else int(quality),
            bool(lossless),
            compression,
        )

    @property
    def lossless_webp(self) -> bool:
        """WebP without loss: encoded here, not by Chromium (see the module doc)."""
        return self.format == "webp" and self.lossless

    def encode(self, image: Image.Image) -> bytes:
        """`image` (RGB) encoded with these options."""
        if self.format == "png":
            rgb = image if image.mode == "RGB" else image.convert("RGB")
            return encode_png_rgb(
                rgb.tobytes(), rgb.width, rgb.height, _PNG_LEVEL[self.compression]
            )
        out = io.BytesIO()
        quality = self.quality if self.quality is not None else 80
        if self.format == "jpeg":
            image.save(out, "JPEG", quality=quality, optimize=self.compression == "small")
        elif self.lossless:
            method, effort = _WEBP_LOSSLESS[self.compression]
            image.save(out, "WEBP", lossless=True, method=method, quality=effort)
        else:
            image.save(out, "WEBP", quality=quality, method=_WEBP_LOSSY_METHOD[self.compression])
        return out.getvalue()

    def transcode(self, data: bytes) -> bytes:
        """An encoded image (any format Pillow reads) re-encoded with these options."""
        from PIL import Image

        with Image.open(io.BytesIO(data)) as opened:
            image = opened.convert("RGB")
        return self.encode(image)
