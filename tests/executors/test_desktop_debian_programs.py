"""Debian's own X programs driven through `DesktopComputer`, each proven by its effect.

- **xcalc** (Athena widgets): the calculator is clicked through 6 x 7 =, and
  its display must then show what clicking 4 2 shows: the same pixels, the
  answer 42, with no OCR.

(xterm, mousepad and nano are driven elsewhere: tests/executors/test_desktop_windows.py
and tests/e2e/test_desktop_programs.py.)
"""

from __future__ import annotations

import io
import shutil

import pytest

from bench._xapps import client_origin
from executors import DesktopComputer
from sandbox import VirtualDisplay

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(
        any(shutil.which(p) is None for p in ("Xvfb", "xcalc", "xdotool", "xwininfo")),
        reason="needs Xvfb, xcalc (x11-apps), xdotool and xwininfo (make apt)",
    ),
]

# xcalc's default (TI-30) keypad: 5 columns of 40x26 buttons 44 px apart, 11 rows
# 30 px apart, from (4, 62) in its window
_KEYPAD = [
    ["1/x", "x2", "sqrt", "CE/C", "AC"],
    ["INV", "sin", "cos", "tan", "DRG"],
    ["e", "EE", "log", "ln", "y^x"],
    ["not", "and", "or", "xor", "trunc"],
    ["pi", "x!", "(", ")", "base"],
    ["shl", "D", "E", "F", "shr"],
    ["mod", "A", "B", "C", "/"],
    ["STO", "7", "8", "9", "*"],
    ["RCL", "4", "5", "6", "-"],
    ["SUM", "1", "2", "3", "+"],
    ["EXC", "0", ".", "+/-", "="],
]
_LCD = (10, 6, 206, 26)  # the number line of the display, in the window


def _button(origin: tuple[int, int], label: str) -> tuple[int, int]:
    for row, labels in enumerate(_KEYPAD):
        if label in labels:
            col = labels.index(label)
            return origin[0] + 4 + 44 * col + 20, origin[1] + 62 + 30 * row + 13
    raise KeyError(label)


def _lcd(png: bytes, origin: tuple[int, int]) -> bytes:
    from PIL import Image

    left, top, right, bottom = _LCD
    with Image.open(io.BytesIO(png)) as image:
        box = (origin[0] + left, origin[1] + top, origin[0] + right, origin[1] + bottom)
        return image.convert("RGB").crop(box).tobytes()


async def test_xcalc_computes_from_clicks() -> None:
    with VirtualDisplay(640, 480) as display:
        display.launch(["xcalc"])
        origin = await client_origin(display.display, "XCalc")
        async with DesktopComputer(display) as computer:
            await computer.settle(5.0)

            async def press(*labels: str) -> bytes:
                for label in labels:
                    await computer.click(*_button(origin, label))
                    await computer.settle(5.0)
                return _lcd((await computer.screenshot()).data, origin)

            zero = await press("AC")
            seven = await press("7")
            forty_two = await press("AC", "4", "2")
            answer = await press("AC", "6", "*", "7", "=")
    assert len({zero, seven, forty_two}) == 3, "the clicks did not change xcalc's display"
    assert answer == forty_two, "6 x 7 = did not show what 4 2 shows"
