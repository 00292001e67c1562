"""Real Debian X programs as freshness probes: what to launch, what to do, and how to
tell from a screenshot's pixels whether it shows the action's effect.

- **xterm** (``-bc``: its block cursor blinks, a periodic drawing settle must not
  take for an answer): each step types ``W`` into ``cat``; the tty echoes it. Fresh:
  the first text row shows exactly as many glyph cells as keys were typed (the
  cursor is red, so its block is not a glyph).
- **mousepad** (GTK 3; draws 190-340 ms after input on a busy machine): each step
  types ``W`` and a space. Fresh: the first line shows as many dark runs wider
  than the 1-2 px text cursor as words were typed.
- **mousepad menu**: steps alternate a click on *File* and ``Escape``. Fresh: the
  area under the menu bar, white in the empty editor, shows the menu's item
  text after a click and none after ``Escape``.

Window positions come from ``xwininfo`` (openbox places windows); the probes
then look at fixed offsets inside the client area at the program's default font.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["XAPPS", "XApp", "client_origin", "menu_open", "shown_words", "typed_cells"]

Origin = tuple[int, int]

_DARK = 200  # r + g + b below this: a glyph pixel on a white background
_CELL_W, _CELL_H, _BORDER = 6, 13, 2  # xterm's default "fixed" font and internal border


def _image(png: bytes) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB")


def _dark(rgb: tuple[int, int, int]) -> bool:
    return sum(rgb) < _DARK


def typed_cells(png: bytes, origin: Origin, columns: int = 40) -> int:
    """How many leading cells of xterm's first row hold a glyph (black on white)."""
    image = _image(png)
    x0, y0 = origin[0] + _BORDER, origin[1] + _BORDER
    n = 0
    for col in range(columns):
        if any(
            _dark(image.getpixel((x0 + col * _CELL_W + dx, y0 + dy)))
            for dx in range(_CELL_W)
            for dy in range(_CELL_H)
        ):
            n = col + 1
    return n


# mousepad (GTK 3, Debian 12's theme), relative to the top of its text view: the
# first text line, and the area the File menu opens over (left, top, right, bottom)
_LINE = (0, 1, 560, 21)
_MENU = (12, 10, 150, 140)
_WHITE = (255, 255, 255)


def _text_top(image: Any, origin: Origin) -> int:
    """The first row of mousepad's text view: white below the menu bar (and, as root,
    the warning bar), found at a column the cursor and the menu do not reach."""
    x = origin[0] + 400
    for y in range(origin[1] + 20, min(image.height - 10, origin[1] + 200)):
        if all(image.getpixel((x, y + d)) == _WHITE for d in range(8)):
            return y - origin[1]
    raise ValueError("no mousepad text view in this screenshot")


def shown_words(png: bytes, origin: Origin) -> int:
    """Dark runs wider than 2 px on mousepad's first line (words typed; not the cursor)."""
    image = _image(png)
    left, top, right, bottom = _LINE
    ox, oy = origin[0], origin[1] + _text_top(image, origin)
    columns = [
        any(_dark(image.getpixel((ox + x, oy + y))) for y in range(top, bottom))
        for x in range(left, right)
    ]
    runs, width = 0, 0
    for dark in [*columns, False]:
        if dark:
            width += 1
            continue
        runs += width > 2
        width = 0
    return runs


def menu_open(png: bytes, origin: Origin) -> bool:
    """Whether text is drawn under mousepad's menu bar (its File menu is open)."""
    image = _image(png)
    left, top, right, bottom = _MENU
    ox, oy = origin[0], origin[1] + _text_top(image, origin)
    return any(
        _dark(image.getpixel((ox + x, oy + y)))
        for x in range(left, right, 2)
        for y in range(top, bottom, 2)
    )


async def client_origin(display: str, window_class: str, timeout_s: float = 30.0) -> Origin:
    """The top-left corner of the first visible window of `window_class`, once mapped."""
    env = {**os.environ, "DISPLAY": display}

    async def run(*argv: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
        return out.decode()

    ids = await run("xdotool", "search", "--sync", "--onlyvisible", "--class", window_class)
    info = await run("xwininfo", "-id", ids.split()[0])
    x = re.search(r"Absolute upper-left X:\s+(-?\d+)", info)
    y = re.search(r"Absolute upper-left Y:\s+(-?\d+)", info)
    if x is None or y is None:
        raise RuntimeError(f"no geometry for {window_class} on {display}: {info!r}")
    return int(x.group(1)), int(y.group(1))


@dataclass(frozen=True)
class XApp:
    """A program to launch, the action of step i (1-based), and the freshness judge.

    `fresh(png, origin, i)` says whether a screenshot taken after step i shows it.
    """

    name: str
    argv: tuple[str, ...]
    window_class: str
    action: Callable[[int, Origin], dict[str, Any]]
    fresh: Callable[[bytes, Origin, int], bool]


# -bc: the cursor blinks; black on white with a red cursor; cat echoes what is typed
_XTERM = ("xterm", "-bc", "-fg", "black", "-bg", "white", "-cr", "red")
_XTERM += ("-geometry", "40x5+0+0", "-e", "cat")


def _menu_action(i: int, origin: Origin) -> dict[str, Any]:
    if i % 2:
        return {"type": "click", "x": origin[0] + 19, "y": origin[1] + 12}
    return {"type": "keypress", "keys": ["Escape"]}


XAPPS = {
    "xterm": XApp(
        "xterm",
        _XTERM,
        "XTerm",
        lambda i, origin: {"type": "type", "text": "W"},
        lambda png, origin, i: typed_cells(png, origin) == i,
    ),
    "mousepad": XApp(
        "mousepad",
        ("mousepad",),
        "mousepad",
        lambda i, origin: {"type": "type", "text": "W "},
        lambda png, origin, i: shown_words(png, origin) == i,
    ),
    "mousepad-menu": XApp(
        "mousepad-menu",
        ("mousepad",),
        "mousepad",
        _menu_action,
        lambda png, origin, i: menu_open(png, origin) == bool(i % 2),
    ),
}
