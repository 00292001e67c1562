"""`DesktopComputer`: the `Computer` protocol on an X display.

Input goes through the X server's XTEST extension on one python-xlib
connection per computer, the same mechanism pyautogui uses underneath, but
without pyautogui itself:

- pyautogui opens its X connection to ``$DISPLAY`` at *import* time, so a
  process can drive one display only, chosen by a process-global variable;
  screenloop runs several displays per process (tests, parallel agents);
- pyautogui types ``<`` as ``>`` on Xvfb's keymap, has no back/forward
  buttons, and its ``PAUSE``/``FAILSAFE`` defaults are wrong for an agent.

With our own connection every computer drives exactly the display it was
given, and every held key and button is known, so `release_all` can release
it. The parts: `XTest` (the connection, keycode mapping), `XKeyboard` and
`XMouse` (one object per device, what each holds, see `executors._desktop._input`),
`ClickFocus` (a press focuses and raises the window under it, see
`executors._desktop._focus`), `DesktopCapture` (mss grabs, settle, encoding).
Every blocking X call runs in one of two worker threads (input, capture) so the
event loop stays free.

Scrolling: a pixel delta becomes ``delta / scroll_pixels_per_notch`` wheel
notches (default 100 px, about what one notch scrolls in GTK, Qt and Chromium
on X), truncated toward zero; the remainder is carried to the next `scroll`
call, per axis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
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
from executors._desktop._base import DESKTOP_CAPABILITIES, DesktopBase
from executors._desktop._focus import ClickFocus
from executors._desktop._input import XKeyboard, XMouse, button_number
from executors._desktop._state import DisplayState
from executors._desktop._xtest import XTest
from executors._encoding import Compression, ImageEncoding
from executors._errors import (
    ActionFailedError,
    ExecutorClosedError,
    ExecutorError,
    HostDisplayRefusedError,
)
from executors._geometry import clamp_to_screen, rescale_point
from sandbox import DisplayError, VirtualDisplay

__all__ = ["DESKTOP_CAPABILITIES", "DesktopComputer"]

logger = logging.getLogger(__name__)

# the shortest wait after an input before a screenshot may be taken: chosen from
# the freshness bench's curve (bench/README.md, figure 6)
DEFAULT_MIN_RESPONSE_S = 0.15

T = TypeVar("T")


class DesktopComputer(DesktopBase):
    """Drives an X display: XTEST input (python-xlib), mss capture.

    `display` is a `VirtualDisplay` (started here if it is not yet, and then
    also closed here), an X display name (``":N"``), or None for ``$DISPLAY``.
    A display screenloop did not create is refused with
    `HostDisplayRefusedError` unless ``allow_host_display=True``, so nobody's
    real desktop is driven by accident.

    `size` is the declared display size (screenshots come back at it and
    coordinates are in it); by default the screen's own size. Several
    computers on several displays can run in one process.

    Settle (see `executors._desktop._settle`): after an input it waits at
    least `min_response_s` (more when the apps were seen to answer later),
    then for `settle_interval_s` with no change on screen. With
    `change_notification` (the default) the changes come from the X DAMAGE
    extension, and a change that arrives after a screenshot widens the wait
    for the next steps; without it, or on a server without DAMAGE, settle
    compares grabs. On a display of this machine, a quiet screen counts only
    once every DAMAGE report is read and no program on the display is still
    runnable (`executors._desktop._activity`): an app kept off the CPU has not
    drawn its answer yet.

    Screenshots are `image_format` (png, jpeg, webp) at `quality` (lossy
    formats); ``lossless=True`` makes WebP lossless, and ``compression``
    (``fast`` or ``small``) trades encode CPU for bytes (`executors._encoding`).
    """

    def __init__(
        self,
        display: VirtualDisplay | str | None = None,
        *,
        size: Size | tuple[int, int] | None = None,
        allow_host_display: bool = False,
        image_format: ImageFormat = "png",
        quality: int = 80,
        settle_interval_s: float = 0.05,
        capture_timeout_s: float = 5.0,
        scroll_pixels_per_notch: int = 100,
        drag_step_delay_s: float = 0.01,
        close_display: bool | None = None,
        min_response_s: float = DEFAULT_MIN_RESPONSE_S,
        change_notification: bool = True,
        lossless: bool = False,
        compression: Compression = "fast",
    ) -> None:
        if isinstance(display, VirtualDisplay):
            virtual: VirtualDisplay | None = display
            display_name: str | None = None
        else:
            virtual = None
            name = display if display is not None else os.environ.get("DISPLAY")
            if not allow_host_display:
                where = f"display {name!r}" if name else "$DISPLAY (unset)"
                raise HostDisplayRefusedError(
                    f"refusing to drive {where}: screenloop did not create it. Pass a "
                    "sandbox.VirtualDisplay, or allow_host_display=True to drive an "
                    "existing X display on purpose."
                )
            if not name:
                raise HostDisplayRefusedError("no display given and $DISPLAY is unset")
            display_name = name
        ImageEncoding.check(image_format, quality, lossless, compression)
        if scroll_pixels_per_notch <= 0:
            raise ValueError("scroll_pixels_per_notch must be positive")
        if not 0.0 <= min_response_s <= 5.0:
            raise ValueError(
                f"min_response_s must be between 0 and 5 seconds, not {min_response_s!r}"
            )
        self._declared = Size(*size) if size is not None else None
        self._close_display = close_display
        self._owns_display = False

        self._state = DisplayState(virtual, display_name)
        self._input_pool = ThreadPoolExecutor(1, thread_name_prefix="screenloop-x-input")
        self._x: XTest | None = None
        self._keyboard = XKeyboard()
        self._mouse = XMouse(
            self._keyboard,
            self._to_screen,
            pixels_per_notch=scroll_pixels_per_notch,
            drag_step_delay_s=drag_step_delay_s,
        )
        self._init_capture(
            self._state,
            image_format=image_format,
            quality=quality,
            settle_interval_s=settle_interval_s,
            capture_timeout_s=capture_timeout_s,
            min_response_s=min_response_s,
            change_notification=change_notification,
            lossless=lossless,
            compression=compression,
        )

    # -- protocol properties ----------------------------------------------------------

    @property
    def size(self) -> Size:
        """The declared display size: screenshots come back at this size."""
        if self._declared is not None:
            return self._declared
        if self._state.virtual is not None:
            return Size(*self._state.virtual.size)
        if self._x is not None:
            return self._x.screen
        raise ExecutorError("size is unknown until the computer is started; call start()")

    @property
    def screen_size(self) -> Size | None:
        """The X screen's own size in pixels (known once started)."""
        return self._x.screen if self._x is not None else None

    @property
    def display_name(self) -> str | None:
        """The X display this computer drives (known once started)."""
        return self._x.name if self._x is not None else self._state.name

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> DesktopComputer:
        """Connect to the display (starting an unstarted VirtualDisplay). Idempotent."""
        async with self._start_lock:
            state = self._state
            if state.closed:
                raise ExecutorClosedError("this DesktopComputer is closed")
            if self._x is not None:
                return self
            if state.virtual is not None:
                if not state.virtual.running:
                    await asyncio.to_thread(state.virtual.start)
                    self._owns_display = True
                state.name = state.virtual.display
            if self._close_display is not None:
                self._owns_display = self._close_display and state.virtual is not None
            assert state.name is not None
            # connecting is not an input: the first settle must not take the apps' own
            # start-up drawing for a response to input (it widened the settle window of
            # the first five steps to ~0.9 s)
            self._x = await self._run_input_once(XTest, state.name)
            self._keyboard.x = self._mouse.x = self._x
            self._mouse.focus = ClickFocus(self._x.conn, self._x.root)
            logger.info(
                "desktop computer on %s: screen %dx%d, declared %dx%d",
                state.name,
                *self._x.screen,
                *self.size,
            )
            return self

    async def _ensure_started(self) -> None:
        if self._x is None:
            await self.start()

    async def __aenter__(self) -> DesktopComputer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.shield(self.close())

    async def close(self) -> None:
        """Release held input, drop the X connections, close an owned display."""
        state = self._state
        if state.closed:
            return
        state.closed = True
        if self._x is not None and not state.lost and state.alive():
            with contextlib.suppress(Exception):
                await self._run_input(self._release_all_sync)
        if self._x is not None:
            if state.lost or not state.alive():
                self._x.abandon()
            else:
                with contextlib.suppress(Exception):
                    await self._run_input(self._x.close)
            self._x = self._keyboard.x = self._mouse.x = None
            self._mouse.focus = None
        await self._capture.close()
        self._input_pool.shutdown(wait=False)
        if self._owns_display and state.virtual is not None:
            await asyncio.to_thread(state.virtual.close)

    # -- plumbing -----------------------------------------------------------------------

    async def _run_input(self, fn: Callable[..., T], *args: Any) -> T:
        # input may change the screen: a grab taken before it ends is no longer current
        self._state.input_generation += 1
        self._state.input_started_at = time.monotonic()
        try:
            return await self._run_input_once(fn, *args)
        finally:
            self._state.input_generation += 1
            self._state.input_ended_at = time.monotonic()

    async def _run_input_once(self, fn: Callable[..., T], *args: Any) -> T:
        state = self._state
        if state.lost or not state.alive():
            state.lost = True
            raise state.gone_error()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._input_pool, fn, *args)
        except ExecutorError:
            raise
        except DisplayError as exc:
            raise ExecutorClosedError(str(exc)) from exc
        except Exception as exc:
            from Xlib.error import ConnectionClosedError

            # python-xlib reports a dead server in odd ways (a TypeError about a
            # BrokenPipeError), and may leave its locks held: never touch the
            # connection again once the server is gone.
            x = self._x
            if (
                isinstance(exc, (ConnectionClosedError, OSError))
                or not state.alive()
                or (x is not None and x.server_gone())
            ):
                state.lost = True
                raise state.gone_error() from exc
            raise ActionFailedError(f"X input failed: {exc!r}") from exc

    async def _act(self, fn: Callable[..., None], *args: Any) -> None:
        await self._ensure_started()
        await self._run_input(fn, *args)

    def _to_screen(self, x: int, y: int) -> Point:
        assert self._x is not None
        point = clamp_to_screen(x, y, self.size).point
        if self._x.screen == self.size:
            return point
        return rescale_point(point, self.size, self._x.screen)

    # -- pointer actions ------------------------------------------------------------------

    async def click(
        self, x: int, y: int, button: Button = "left", keys: Sequence[str] = ()
    ) -> None:
        """Click `button` at (x, y), holding `keys` (modifiers) during the click."""
        await self._act(self._mouse.click, x, y, button, 1, tuple(keys))

    async def double_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Two left clicks at (x, y) in quick succession."""
        await self._act(self._mouse.click, x, y, "left", 2, tuple(keys))

    async def triple_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Three left clicks at (x, y) in quick succession."""
        await self._act(self._mouse.click, x, y, "left", 3, tuple(keys))

    async def move(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Move the pointer to (x, y), holding `keys` during the move."""
        await self._act(self._mouse.move, x, y, keys)

    async def drag(
        self, path: Sequence[Point], keys: Sequence[str] = (), button: Button = "left"
    ) -> None:
        """Press at the first point, move through the rest, release at the last."""
        if len(path) < 2:
            raise ActionFailedError(f"a drag needs at least two points, got {len(path)}")
        await self._act(self._mouse.drag, path, keys, button_number(button))

    async def mouse_down(self, x: int, y: int, button: Button = "left") -> None:
        """Press and hold `button` at (x, y) until mouse_up or release_all."""
        await self._act(self._mouse.down, x, y, button_number(button))

    async def mouse_up(self, x: int, y: int, button: Button = "left") -> None:
        """Move to (x, y) and release `button`."""
        await self._act(self._mouse.up, x, y, button_number(button))

    async def scroll(
        self, x: int, y: int, scroll_x: int, scroll_y: int, keys: Sequence[str] = ()
    ) -> None:
        """Scroll by pixel deltas at (x, y): wheel notches, remainder carried per axis.

        Positive `scroll_y` scrolls down (button 5), negative up (4); positive
        `scroll_x` right (7), negative left (6).
        """
        notches_x = self._mouse.notches(0, scroll_x)
        notches_y = self._mouse.notches(1, scroll_y)
        await self._act(self._mouse.scroll, x, y, notches_x, notches_y, keys)

    # -- keyboard actions ---------------------------------------------------------------

    async def keypress(self, keys: Sequence[str]) -> None:
        """Press a chord: every key down in order, then up in reverse order."""
        if not keys:
            return
        await self._act(self._keyboard.holding, keys, lambda: None)

    async def key_down(self, key: str) -> None:
        """Press and hold `key` until key_up or release_all."""
        await self._act(self._keyboard.down, key)

    async def key_up(self, key: str) -> None:
        """Release `key` (and a Shift that key_down pressed for it)."""
        await self._act(self._keyboard.up, key)

    async def type(self, text: str) -> None:
        """Type `text` exactly, including ``<>`` and characters outside the keymap."""
        if not text:
            return
        await self._act(self._keyboard.type, text)

    # -- release ------------------------------------------------------------------------

    async def release_all(self) -> None:
        """Release every held key and mouse button (also ones not pressed by us)."""
        if self._x is None or self._state.lost:
            return  # a display that is gone holds nothing any more
        await self._run_input(self._release_all_sync)

    def _release_all_sync(self) -> None:
        assert self._x is not None
        self._keyboard.release_held()
        self._mouse.release_held()
        self._x.sync()
        # Whatever the server still sees down (a crash mid-chord, another client, a
        # button held since before we started) is released too.
        for code in self._x.pressed_keycodes():
            self._x.key(code, False)
        for number in self._x.pressed_buttons():
            self._x.button(number, False)
        self._x.sync()
