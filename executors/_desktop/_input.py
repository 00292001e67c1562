"""The desktop's keyboard and mouse: one object per device, verb methods, what each holds.

Both send through one `XTest` connection and are called from the computer's
input thread only (every method blocks on X). Text is typed key by key,
``<`` as ``<``; characters missing from the keymap are bound first, one
keymap change per chunk of text.

Scrolling: X has no pixel scrolling, only wheel notches (buttons 4/5 vertical,
6/7 horizontal). A pixel delta becomes ``delta / pixels_per_notch`` notches,
truncated toward zero; the remainder is carried to the next scroll, per axis.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from executors._computer import Button, Point
from executors._desktop._focus import ClickFocus
from executors._desktop._xtest import XTest
from executors._errors import ActionFailedError
from executors._keys import normalize_key, x11_keysym

__all__ = ["XKeyboard", "XMouse", "button_number"]

_BUTTONS: dict[str, int] = {"left": 1, "middle": 2, "right": 3, "back": 8, "forward": 9}
_WHEEL_UP, _WHEEL_DOWN, _WHEEL_LEFT, _WHEEL_RIGHT = 4, 5, 6, 7
_SHIFT_KEYSYM = "Shift_L"
_TEXT_KEYSYMS = {"\n": "Return", "\r": "Return", "\t": "Tab", "\b": "BackSpace"}


def button_number(button: str) -> int:
    """The X button number of a protocol button name."""
    try:
        return _BUTTONS[button]
    except KeyError:
        raise ActionFailedError(
            f"unknown mouse button {button!r}; expected one of {sorted(_BUTTONS)}"
        ) from None


class _Device:
    """Holds the X connection once the computer has one."""

    def __init__(self) -> None:
        self.x: XTest | None = None

    @property
    def _x(self) -> XTest:
        assert self.x is not None, "the computer is not started"
        return self.x


class XKeyboard(_Device):
    """Owns the keys held (keycode -> canonical name, in press order) and the
    keycodes each `down` pressed."""

    def __init__(self) -> None:
        super().__init__()
        self.held: dict[int, str] = {}
        self._downs: dict[str, list[int]] = {}  # key_down name -> keycodes it pressed

    def _resolve(self, key: str) -> tuple[str, int, bool]:
        """(canonical name, keycode, needs shift) for a key name."""
        name = normalize_key(key)
        keysym = self._x.keysym_of(x11_keysym(name))
        code, shifted = self._x.keycode_for(keysym)
        return name, code, shifted

    def _shift_keycode(self) -> int:
        return self._x.keycode_for(self._x.keysym_of(_SHIFT_KEYSYM))[0]

    def shift_held(self) -> bool:
        """Whether a Shift is held."""
        return "shift" in self.held.values()

    def _press(self, keys: Sequence[str]) -> list[int]:
        """Press `keys` in order (adding Shift where a key needs it); returns keycodes."""
        pressed: list[int] = []
        for key in keys:
            name, code, shifted = self._resolve(key)
            if shifted and not self.shift_held():
                shift = self._shift_keycode()
                self._x.key(shift, True)
                self.held[shift] = "shift"
                pressed.append(shift)
            self._x.key(code, True)
            self.held[code] = name
            pressed.append(code)
        return pressed

    def _release(self, codes: Sequence[int]) -> None:
        for code in reversed(codes):
            self._x.key(code, False)
            self.held.pop(code, None)

    def holding(self, keys: Sequence[str], body: Callable[[], None]) -> None:
        """Run `body` with `keys` held, released in reverse order after it."""
        codes = self._press(keys)
        try:
            body()
        finally:
            self._release(codes)
            self._x.sync()

    def down(self, key: str) -> None:
        """Press and hold `key` until `up` or `release_held`."""
        name = normalize_key(key)
        if name in self._downs:
            return  # already held: X would see an autorepeat, not a second key
        self._downs[name] = self._press([key])
        self._x.sync()

    def up(self, key: str) -> None:
        """Release `key` (and a Shift that `down` pressed for it)."""
        name = normalize_key(key)
        codes = self._downs.pop(name, None)
        if codes is None:  # not held by key_down: release it anyway, it is harmless
            codes = [self._resolve(key)[1]]
        self._release(codes)
        self._x.sync()

    def type(self, text: str) -> None:
        """Type `text` exactly, including ``<>`` and characters outside the keymap."""
        x = self._x
        shift = self._shift_keycode()
        shift_held = self.shift_held()
        keysyms = [x.keysym_of(_TEXT_KEYSYMS.get(char, char)) for char in text]
        for chunk in _chunks_by_distinct(keysyms, max(1, x.spare_keycodes // 2)):
            # Bind every missing character of the chunk before its first key
            # event (one keymap change), so no key races its own binding.
            keys = [x.keycode_for(keysym, flush=False) for keysym in chunk]
            x.flush_bindings()
            for code, shifted in keys:
                press_shift = shifted and not shift_held
                if press_shift:
                    x.key(shift, True)
                x.key(code, True)
                x.key(code, False)
                if press_shift:
                    x.key(shift, False)
        x.sync()

    def release_held(self) -> None:
        """Release every key held, last pressed first (no sync)."""
        for code in reversed(list(self.held)):
            self._x.key(code, False)
        self.held.clear()
        self._downs.clear()


class XMouse(_Device):
    """Owns the buttons held (in press order) and the scroll remainder per axis.

    `to_screen` maps a point of the declared size to screen pixels.
    """

    def __init__(
        self,
        keyboard: XKeyboard,
        to_screen: Callable[[int, int], Point],
        *,
        pixels_per_notch: int,
        drag_step_delay_s: float,
    ) -> None:
        super().__init__()
        self._keyboard = keyboard
        self._to_screen = to_screen
        self._pixels_per_notch = pixels_per_notch
        self._drag_step_delay_s = drag_step_delay_s
        self.held: dict[int, None] = {}
        self._carry = [0, 0]  # x, y pixels not yet turned into notches
        self.focus: ClickFocus | None = None  # click to focus, once connected

    def _press(self, point: Point, number: int) -> None:
        """Move to `point`, activate the window there (click to focus), press `number`."""
        self._x.move(point)
        if self.focus is not None and not self.held:
            self.focus.activate_at(point)
        self._x.button(number, True)

    def click(self, x: int, y: int, button: Button, count: int, keys: Sequence[str]) -> None:
        """Click `button` `count` times at (x, y), holding `keys`."""
        number = button_number(button)
        point = self._to_screen(x, y)

        def body() -> None:
            self._press(point, number)
            self._x.button(number, False)
            for _ in range(count - 1):
                self._x.button(number, True)
                self._x.button(number, False)

        self._keyboard.holding(keys, body)

    def move(self, x: int, y: int, keys: Sequence[str]) -> None:
        """Move the pointer to (x, y), holding `keys`."""
        point = self._to_screen(x, y)
        self._keyboard.holding(keys, lambda: self._x.move(point))

    def drag(self, path: Sequence[Point], keys: Sequence[str], number: int) -> None:
        """Press button `number` at the first point, move through the rest, release."""
        points = [self._to_screen(p[0], p[1]) for p in path]

        def body() -> None:
            self._press(points[0], number)
            self.held[number] = None
            try:
                for point in points[1:]:
                    # A pause per step: toolkits collapse motion events that
                    # arrive together, and some only start a drag after a move.
                    self._x.sync()
                    time.sleep(self._drag_step_delay_s)
                    self._x.move(point)
                self._x.sync()
                time.sleep(self._drag_step_delay_s)
            finally:
                self._x.button(number, False)
                self.held.pop(number, None)

        self._keyboard.holding(keys, body)

    def down(self, x: int, y: int, number: int) -> None:
        """Move to (x, y) and press button `number` (held until `up` or `release_held`)."""
        self._press(self._to_screen(x, y), number)
        self.held[number] = None
        self._x.sync()

    def up(self, x: int, y: int, number: int) -> None:
        """Move to (x, y) and release button `number`."""
        self._x.move(self._to_screen(x, y))
        self._x.button(number, False)
        self.held.pop(number, None)
        self._x.sync()

    def notches(self, axis: int, pixels: int) -> int:
        """Whole wheel notches for `pixels` on `axis` (0: x, 1: y), carrying the rest."""
        total = self._carry[axis] + int(pixels)
        notches = math.trunc(total / self._pixels_per_notch)
        self._carry[axis] = total - notches * self._pixels_per_notch
        return notches

    def scroll(self, x: int, y: int, notches_x: int, notches_y: int, keys: Sequence[str]) -> None:
        """Turn the wheels by whole notches at (x, y), holding `keys`."""
        point = self._to_screen(x, y)

        def body() -> None:
            self._x.move(point)
            for count, negative, positive in (
                (notches_y, _WHEEL_UP, _WHEEL_DOWN),
                (notches_x, _WHEEL_LEFT, _WHEEL_RIGHT),
            ):
                number = positive if count > 0 else negative
                for _ in range(abs(count)):
                    self._x.button(number, True)
                    self._x.button(number, False)

        self._keyboard.holding(keys, body)

    def release_held(self) -> None:
        """Release every button held, last pressed first (no sync)."""
        for number in reversed(list(self.held)):
            self._x.button(number, False)
        self.held.clear()


def _chunks_by_distinct(items: Sequence[int], limit: int) -> list[list[int]]:
    """Split `items` into runs holding at most `limit` distinct values each."""
    chunks: list[list[int]] = [[]]
    seen: set[int] = set()
    for item in items:
        if item not in seen and len(seen) >= limit:
            chunks.append([])
            seen = set()
        seen.add(item)
        chunks[-1].append(item)
    return chunks
