"""`HostComputer`: the `Computer` protocol on the user's own screen, through pyautogui.

For RPA on the machine a person sits at (Windows, macOS, or an X desktop),
not a sandbox. Opt-in only (the CLI's ``--host-desktop`` asks first), and
pyautogui comes from the extra ``screenloop[host]``.

- pyautogui's fail-safe stays on: moving the mouse into a screen corner stops
  the run with `HostFailSafeError` (it is the user's way to take the machine
  back). ``PAUSE`` is 0 (its 100 ms after every call is for humans watching).
- Text pyautogui cannot type exactly (non-ASCII; ``<>`` on X keymaps, where it
  types ``>`` for ``<``) goes through the clipboard: copy, Ctrl+V (Cmd+V on
  macOS); the clipboard keeps that text afterwards.
- Keys are canonical names mapped by `executors._keys.pyautogui_key`.
- Screenshots come from mss (`DesktopCapture`), settle as on a virtual display.

On Linux pyautogui opens its X connection to ``$DISPLAY`` when it is imported,
so one process drives one display; `HostComputer` imports it in `start`.
Untested here: Windows and macOS (only Linux with an Xvfb display standing in
for the host is tested); macOS needs the Accessibility and Screen Recording
permissions for the terminal, and Retina screens are captured at device pixels
and scaled to the declared size.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

from executors._computer import (
    Button,
    ImageFormat,
    Point,
    Size,
)
from executors._desktop._base import DesktopBase
from executors._desktop._state import DisplayState
from executors._encoding import Compression
from executors._errors import (
    ActionFailedError,
    ExecutorClosedError,
    ExecutorError,
    HostFailSafeError,
    UnsupportedActionError,
)
from executors._geometry import clamp_to_screen, rescale_point
from executors._keys import normalize_key, pyautogui_key

__all__ = ["HostComputer"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_BUTTONS = {"left": "left", "middle": "middle", "right": "right"}
_NOT_TYPED_BY_PYAUTOGUI_ON_X = frozenset("<>")
_PASTE_SHOWN_TIMEOUT_S = 2.0
_CLIPBOARD_TIMEOUT_S = 2.0


def _typeable(char: str) -> bool:
    """Whether pyautogui types `char` exactly on this platform."""
    if char in "\n\t":
        return True
    if not (char.isascii() and char.isprintable()):
        return False
    return not (sys.platform.startswith("linux") and char in _NOT_TYPED_BY_PYAUTOGUI_ON_X)


def _runs(text: str) -> list[tuple[bool, str]]:
    """`text` cut into runs of (typeable by pyautogui, characters)."""
    runs: list[tuple[bool, str]] = []
    for char in text:
        kind = _typeable(char)
        if runs and runs[-1][0] == kind:
            runs[-1] = (kind, runs[-1][1] + char)
        else:
            runs.append((kind, char))
    return runs


class HostComputer(DesktopBase):
    """Drives the machine's own screen with pyautogui; captures it with mss.

    `size` is the declared display size (screenshots come back at it and
    coordinates are in it); by default the screen's own size.
    """

    def __init__(
        self,
        *,
        size: Size | tuple[int, int] | None = None,
        image_format: ImageFormat = "png",
        quality: int = 80,
        lossless: bool = False,
        compression: Compression = "fast",
        settle_interval_s: float = 0.05,
        capture_timeout_s: float = 5.0,
        scroll_pixels_per_notch: int = 100,
    ) -> None:
        if scroll_pixels_per_notch <= 0:
            raise ValueError("scroll_pixels_per_notch must be positive")
        self._declared = Size(*size) if size is not None else None
        self._per_notch = scroll_pixels_per_notch
        self._carry = [0, 0]
        self._gui: Any = None
        self._clipboard: Any = None
        self._screen: Size | None = None
        self._held_keys: list[str] = []
        self._held_buttons: list[str] = []
        self._state = DisplayState(None, os.environ.get("DISPLAY") or None)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="screenloop-host-input")
        self._init_capture(
            self._state,
            image_format=image_format,
            quality=quality,
            settle_interval_s=settle_interval_s,
            capture_timeout_s=capture_timeout_s,
            lossless=lossless,
            compression=compression,
        )

    # -- protocol properties ----------------------------------------------------------

    @property
    def size(self) -> Size:
        """The declared display size: screenshots come back at this size."""
        if self._declared is not None:
            return self._declared
        if self._screen is not None:
            return self._screen
        raise ExecutorError("size is unknown until the computer is started; call start()")

    @property
    def display_name(self) -> str | None:
        """The X display driven on Linux (``$DISPLAY``); None elsewhere."""
        return self._state.name

    @property
    def screen_size(self) -> Size | None:
        """The screen's own size in pixels (known once started)."""
        return self._screen

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> HostComputer:
        """Import pyautogui (it connects to the screen on import) and read the screen size."""
        async with self._start_lock:
            if self._state.closed:
                raise ExecutorClosedError("this HostComputer is closed")
            if self._gui is None:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(self._pool, self._start_sync)
            return self

    def _start_sync(self) -> None:
        try:
            import pyautogui
            import pyperclip
        except ImportError as exc:
            raise ExecutorError(
                "HostComputer needs pyautogui: pip install 'screenloop[host]'"
            ) from exc
        except Exception as exc:  # pyautogui connects to the display at import
            raise ExecutorError(f"pyautogui cannot reach the screen: {exc}") from exc
        pyautogui.PAUSE = 0
        pyautogui.FAILSAFE = True
        width, height = pyautogui.size()
        self._screen = Size(int(width), int(height))
        self._gui, self._clipboard = pyautogui, pyperclip
        logger.info("host computer: screen %dx%d", *self._screen)

    async def _ensure_started(self) -> None:
        if self._gui is None:
            await self.start()

    async def __aenter__(self) -> HostComputer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.shield(self.close())

    async def close(self) -> None:
        """Release held input and stop the worker threads."""
        if self._state.closed:
            return
        if self._gui is not None:
            with contextlib.suppress(Exception):
                await self.release_all()
        self._state.closed = True
        await self._capture.close()
        self._pool.shutdown(wait=False)

    # -- plumbing -----------------------------------------------------------------------

    async def _act(self, fn: Callable[..., T], *args: Any) -> T:
        await self._ensure_started()
        if self._state.closed:
            raise ExecutorClosedError("this HostComputer is closed")
        state = self._state
        state.input_generation += 1
        state.input_started_at = time.monotonic()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, fn, *args)
        except ExecutorError:
            raise
        except Exception as exc:
            if type(exc).__name__ == "FailSafeException":
                raise HostFailSafeError(
                    "the mouse is in a corner of the screen: pyautogui's fail-safe stopped "
                    "the run (move the mouse away from the corner to let a new run start)"
                ) from exc
            raise ActionFailedError(f"pyautogui failed: {exc!r}") from exc
        finally:
            state.input_generation += 1
            state.input_ended_at = time.monotonic()

    def _to_screen(self, x: int, y: int) -> Point:
        point = clamp_to_screen(x, y, self.size).point
        assert self._screen is not None
        return point if self._screen == self.size else rescale_point(point, self.size, self._screen)

    def _key(self, key: str) -> str:
        canonical = normalize_key(key)
        name = pyautogui_key(canonical)
        if name is None:
            raise ActionFailedError(f"pyautogui cannot press {key!r}; type it as text instead")
        return name

    def _holding(self, keys: Sequence[str], body: Callable[[], None]) -> None:
        names = [self._key(k) for k in keys]
        pressed: list[str] = []
        try:
            for name in names:
                self._gui.keyDown(name)
                pressed.append(name)
            body()
        finally:
            for name in reversed(pressed):
                self._gui.keyUp(name)

    @staticmethod
    def _button(button: str) -> str:
        if button not in _BUTTONS:
            raise UnsupportedActionError(f"{button} button", "HostComputer (pyautogui)")
        return _BUTTONS[button]

    # -- pointer actions ------------------------------------------------------------------

    async def click(
        self, x: int, y: int, button: Button = "left", keys: Sequence[str] = ()
    ) -> None:
        """Click `button` at (x, y), holding `keys` during the click."""
        await self._clicks(x, y, button, 1, keys)

    async def double_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Two left clicks at (x, y)."""
        await self._clicks(x, y, "left", 2, keys)

    async def triple_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Three left clicks at (x, y)."""
        await self._clicks(x, y, "left", 3, keys)

    async def _clicks(self, x: int, y: int, button: str, count: int, keys: Sequence[str]) -> None:
        name = self._button(button)
        await self._ensure_started()
        point = self._to_screen(x, y)

        def body() -> None:
            self._gui.click(point.x, point.y, clicks=count, interval=0, button=name)

        await self._act(self._holding, keys, body)

    async def move(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Move the pointer to (x, y)."""
        await self._ensure_started()
        point = self._to_screen(x, y)
        await self._act(self._holding, keys, lambda: self._gui.moveTo(point.x, point.y))

    async def drag(
        self, path: Sequence[Point], keys: Sequence[str] = (), button: Button = "left"
    ) -> None:
        """Press at the first point, move through the rest, release at the last."""
        if len(path) < 2:
            raise ActionFailedError(f"a drag needs at least two points, got {len(path)}")
        name = self._button(button)
        await self._ensure_started()
        points = [self._to_screen(p[0], p[1]) for p in path]

        def body() -> None:
            self._gui.mouseDown(points[0].x, points[0].y, button=name)
            try:
                for point in points[1:]:
                    self._gui.moveTo(point.x, point.y)
            finally:
                self._gui.mouseUp(points[-1].x, points[-1].y, button=name)

        await self._act(self._holding, keys, body)

    async def mouse_down(self, x: int, y: int, button: Button = "left") -> None:
        """Press and hold `button` at (x, y)."""
        name = self._button(button)
        await self._ensure_started()
        point = self._to_screen(x, y)
        await self._act(lambda: self._gui.mouseDown(point.x, point.y, button=name))
        self._held_buttons.append(name)

    async def mouse_up(self, x: int, y: int, button: Button = "left") -> None:
        """Move to (x, y) and release `button`."""
        name = self._button(button)
        await self._ensure_started()
        point = self._to_screen(x, y)
        await self._act(lambda: self._gui.mouseUp(point.x, point.y, button=name))
        with contextlib.suppress(ValueError):
            self._held_buttons.remove(name)

    async def scroll(
        self, x: int, y: int, scroll_x: int, scroll_y: int, keys: Sequence[str] = ()
    ) -> None:
        """Scroll by pixel deltas at (x, y): wheel notches, remainder carried per axis."""
        notches = []
        for axis, pixels in ((0, scroll_x), (1, scroll_y)):
            total = self._carry[axis] + pixels
            whole = int(total / self._per_notch)
            self._carry[axis] = total - whole * self._per_notch
            notches.append(whole)
        await self._ensure_started()
        point = self._to_screen(x, y)

        def body() -> None:
            self._gui.moveTo(point.x, point.y)
            if notches[1]:
                self._gui.scroll(-notches[1])  # pyautogui: positive scrolls up
            if notches[0]:
                self._gui.hscroll(notches[0])

        await self._act(self._holding, keys, body)

    # -- keyboard actions ---------------------------------------------------------------

    async def keypress(self, keys: Sequence[str]) -> None:
        """Press a chord: every key down in order, then up in reverse order."""
        if keys:
            await self._act(self._holding, keys, lambda: None)

    async def key_down(self, key: str) -> None:
        """Press and hold `key` until key_up or release_all."""
        name = self._key(key)
        await self._act(lambda: self._gui.keyDown(name))
        self._held_keys.append(name)

    async def key_up(self, key: str) -> None:
        """Release `key`."""
        name = self._key(key)
        await self._act(lambda: self._gui.keyUp(name))
        with contextlib.suppress(ValueError):
            self._held_keys.remove(name)

    async def type(self, text: str) -> None:
        """Type `text` exactly: pyautogui for what it types right, the clipboard for the rest.

        After a paste the next keys wait (bounded) until the screen shows a change:
        an app fetches the clipboard when it gets round to it, and keys typed
        meanwhile would land before the pasted text (measured with Tk on a busy
        machine).
        """
        await self._ensure_started()
        for typeable, run in _runs(text):
            if typeable:
                await self._act(lambda run=run: self._gui.write(run, interval=0))
            else:
                before = await self._capture.frame()
                await self._act(self._paste, run)
                if not await self._capture.wait_for_change(before, _PASTE_SHOWN_TIMEOUT_S):
                    logger.debug("no change on screen after pasting %d characters", len(run))

    def _paste(self, text: str) -> None:
        # The clipboard keeps `text` afterwards: the app fetches it when it gets
        # round to the paste, and putting the old text back raced that fetch on a
        # busy machine (the app pasted the old text).
        self._clipboard.copy(text)
        # On X, xclip returns before its background process owns the clipboard: an
        # app pasting at once got the previous text. Read it back until it is ours.
        deadline = time.monotonic() + _CLIPBOARD_TIMEOUT_S
        delay = 0.005
        while self._clipboard.paste() != text:
            if time.monotonic() > deadline:
                raise ActionFailedError("the clipboard did not take the text to paste")
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        modifier = "command" if sys.platform == "darwin" else "ctrl"
        self._gui.hotkey(modifier, "v")

    # -- release ------------------------------------------------------------------------

    async def release_all(self) -> None:
        """Release every key and button this computer holds."""
        if self._gui is None:
            return

        def release() -> None:
            while self._held_keys:
                self._gui.keyUp(self._held_keys.pop())
            while self._held_buttons:
                self._gui.mouseUp(button=self._held_buttons.pop())

        await self._act(release)
