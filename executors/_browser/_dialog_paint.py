"""Drawing a JavaScript dialog into a screenshot, the way a browser shows it.

Headless Chromium paints no dialogs, and while one is open the page cannot be
captured at all (its renderer waits for the answer). The screenshot the model
gets is then the page's last capture with the dialog drawn over it: a box at
the top centre with the origin ("127.0.0.1:8000 says"), the message, an input
field for ``prompt``, and OK / Cancel (Leave / Cancel for ``beforeunload``).

`dialog_layout` is plain geometry in screenshot pixels (the declared size),
shared by the drawing and by the hit test that turns a click into an answer.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from executors._computer import ImageFormat, Size
from executors._encoding import ImageEncoding

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["DialogLayout", "Rect", "dialog_layout", "encode_image", "paint_dialog"]

_FONT_PATHS = (
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
_WIDTH = 460
_PAD = 20
_LINE = 20
_BUTTON_W, _BUTTON_H = 88, 34
_OK_BLUE = (26, 115, 232)


@dataclass(frozen=True)
class Rect:
    """A rectangle in screenshot pixels."""

    x: int
    y: int
    width: int
    height: int

    def contains(self, x: int, y: int) -> bool:
        """Whether (x, y) is inside."""
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) for Pillow."""
        return (self.x, self.y, self.x + self.width - 1, self.y + self.height - 1)


@dataclass(frozen=True)
class DialogLayout:
    """Where the parts of a drawn dialog are."""

    box: Rect
    title: str
    lines: tuple[str, ...]
    ok: Rect
    ok_label: str
    cancel: Rect | None
    field: Rect | None

    def hit(self, x: int, y: int) -> Literal["ok", "cancel", "field", "dialog"] | None:
        """What a click at (x, y) lands on (None: outside the dialog)."""
        if self.ok.contains(x, y):
            return "ok"
        if self.cancel is not None and self.cancel.contains(x, y):
            return "cancel"
        if self.field is not None and self.field.contains(x, y):
            return "field"
        return "dialog" if self.box.contains(x, y) else None


def dialog_layout(kind: str, message: str, origin: str, size: Size) -> DialogLayout:
    """The layout of a `kind` dialog (alert, confirm, prompt, beforeunload) on a `size` screen."""
    width = min(_WIDTH, size.width - 16)
    if kind == "beforeunload":
        title = "Leave site?"
        message = "Changes you made may not be saved."
    else:
        title = f"{origin} says" if origin else "This page says"
    chars = max(10, (width - 2 * _PAD) // 8)
    lines: list[str] = []
    for paragraph in (message or "").splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, chars) or [""])
    lines = lines[:12]
    x = (size.width - width) // 2
    y = 16
    cursor = y + _PAD + _LINE + 8 + len(lines) * _LINE + 8
    field = None
    if kind == "prompt":
        field = Rect(x + _PAD, cursor, width - 2 * _PAD, 30)
        cursor += 30 + 12
    buttons_y = cursor + 4
    height = buttons_y + _BUTTON_H + _PAD - y
    right = x + width - _PAD
    ok = Rect(right - _BUTTON_W, buttons_y, _BUTTON_W, _BUTTON_H)
    cancel = None
    if kind != "alert":
        cancel = Rect(right - 2 * _BUTTON_W - 10, buttons_y, _BUTTON_W, _BUTTON_H)
    ok_label = "Leave" if kind == "beforeunload" else "OK"
    return DialogLayout(Rect(x, y, width, height), title, tuple(lines), ok, ok_label, cancel, field)


@lru_cache(maxsize=4)
def _font(size: int) -> object:
    from PIL import ImageFont

    for path in _FONT_PATHS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def paint_dialog(
    base: bytes | None,
    layout: DialogLayout,
    text: str | None,
    size: Size,
    fmt: ImageFormat | ImageEncoding,
    quality: int | None = None,
) -> bytes:
    """The screenshot `base` (or a blank page) dimmed, with the dialog drawn on it.

    `text` is the prompt field's content (None for other dialogs).
    """
    from PIL import Image, ImageDraw

    if base is not None:
        with Image.open(io.BytesIO(base)) as opened:
            image = opened.convert("RGB")
        if image.size != size:
            image = image.resize(size)
    else:
        image = Image.new("RGB", size, (255, 255, 255))
    image = Image.blend(image, Image.new("RGB", size, (0, 0, 0)), 0.3)  # the page behind, dimmed
    draw = ImageDraw.Draw(image)
    box = layout.box
    draw.rounded_rectangle(box.box, 8, fill=(255, 255, 255), outline=(200, 200, 200))
    title_font, font = _font(16), _font(14)
    left = box.x + _PAD
    draw.text((left, box.y + _PAD), layout.title, fill=(32, 33, 36), font=title_font)  # type: ignore[arg-type]
    y = box.y + _PAD + _LINE + 8
    for line in layout.lines:
        draw.text((left, y), line, fill=(60, 64, 67), font=font)  # type: ignore[arg-type]
        y += _LINE
    if layout.field is not None:
        draw.rectangle(layout.field.box, fill=(255, 255, 255), outline=_OK_BLUE, width=2)
        shown = text or ""
        draw.text((layout.field.x + 8, layout.field.y + 7), shown[-60:], fill=(0, 0, 0), font=font)  # type: ignore[arg-type]
    ok = layout.ok
    draw.rounded_rectangle(ok.box, 4, fill=_OK_BLUE)
    _centred(draw, ok, layout.ok_label, (255, 255, 255), font)
    if layout.cancel is not None:
        draw.rounded_rectangle(layout.cancel.box, 4, fill=(255, 255, 255), outline=(218, 220, 224))
        _centred(draw, layout.cancel, "Cancel", _OK_BLUE, font)
    return encode_image(image, fmt, quality)


def encode_image(
    image: Image.Image, fmt: ImageFormat | ImageEncoding, quality: int | None = None
) -> bytes:
    """A Pillow image encoded the way captures are (an `ImageEncoding`, or a format and
    quality: fast PNG, or JPEG/WebP at `quality`)."""
    encoding = fmt if isinstance(fmt, ImageEncoding) else ImageEncoding(fmt, quality)
    return encoding.encode(image)


def _centred(
    draw: object, rect: Rect, label: str, fill: tuple[int, int, int], font: object
) -> None:
    left, top, right, bottom = draw.textbbox((0, 0), label, font=font)  # type: ignore[attr-defined]
    x = rect.x + (rect.width - (right - left)) // 2
    y = rect.y + (rect.height - (bottom - top)) // 2 - top
    draw.text((x, y), label, fill=fill, font=font)  # type: ignore[attr-defined]
