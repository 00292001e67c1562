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
given, keys are paired by keycode (X may name a shifted key differently on
press and release), and every held key and button is known, so `release_all`
can release it. Text is typed key by key through XTEST, ``<`` as ``<``;
a character missing from the keymap (``é€ü漢``...) is bound to a spare
keycode first, the way xdotool does it, except that the binding is kept
until `close` rather than undone right after the key event: an app that reads
the keymap after the undo sees a keycode with no character and drops it
(measured with xdotool: Tk behind on a burst of typing lost ``é€``).

Capture is mss (XShm) on its own connection, scaled to the declared size when
the screen differs, encoded as a lossless PNG (unfiltered rows, zlib level 1,
see `executors._png`) by default or JPEG/WebP. A screenshot right after a
stable `settle` with no input in between reuses settle's last grab. Every
blocking X call runs in one of two worker threads (input, capture) so the
event loop stays free; a capture that hangs is bounded by ``capture_timeout_s``.

Scrolling: X has no pixel scrolling, only wheel notches (buttons 4/5 vertical,
6/7 horizontal). A pixel delta becomes ``delta / scroll_pixels_per_notch``
notches (default 100 px, about what one notch scrolls in GTK, Qt and Chromium
on X), truncated toward zero; the remainder is carried to the next `scroll`
call, per axis.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import math
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Literal, TypeVar

from executors._computer import (
    ALL_CAPABILITIES,
    Button,
    Capability,
    ExecutorEvent,
    ImageFormat,
    Point,
    Screenshot,
    SettleResult,
    Size,
)
from executors._errors import (
    ActionFailedError,
    CaptureError,
    ExecutorClosedError,
    ExecutorError,
    HostDisplayRefusedError,
    UnsupportedActionError,
)
from executors._geometry import clamp_to_screen, rescale_point
from executors._keys import normalize_key, x11_keysym
from executors._png import encode_png_rgb
from sandbox import DisplayError, VirtualDisplay, connect_xlib

__all__ = ["DESKTOP_CAPABILITIES", "DesktopComputer"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DESKTOP_CAPABILITIES: frozenset[Capability] = ALL_CAPABILITIES - {"navigate", "current_url"}

_BUTTONS: dict[str, int] = {"left": 1, "middle": 2, "right": 3, "back": 8, "forward": 9}
_WHEEL_UP, _WHEEL_DOWN, _WHEEL_LEFT, _WHEEL_RIGHT = 4, 5, 6, 7
_SHIFT_KEYSYM = "Shift_L"
_REBIND_GRACE_S = 0.05
# how long settle's last grab may stand in for a new one (the loop asks at once)
_SETTLED_GRAB_MAX_AGE_S = 0.02
_UNICODE_KEYSYM = re.compile(r"U[0-9A-Fa-f]{4,6}")


class _XInput:
    """XTEST input on one python-xlib connection. Used from one thread only."""

    def __init__(self, display_name: str) -> None:
        from Xlib import XK, X
        from Xlib.ext import xtest

        self._X = X
        self._XK = XK
        self._xtest = xtest
        self.name = display_name
        self.conn = connect_xlib(display_name)
        if not self.conn.has_extension("XTEST"):
            self.conn.close()
            raise DisplayError(f"X display {display_name} has no XTEST extension")
        self.root = self.conn.screen().root
        geometry = self.root.get_geometry()
        self.screen = Size(geometry.width, geometry.height)
        # Keysyms missing from the keymap are bound to spare keycodes and stay
        # bound (least recently used first to be reused) until close, which
        # restores the original rows. Unbinding right after the key event, as
        # xdotool does, loses the character when the app reads the keymap after
        # the unbinding (measured: Tk behind on a burst of typing drops é).
        self._bound: OrderedDict[int, int] = OrderedDict()  # keysym -> keycode
        self._original: dict[int, list[int]] = {}
        self._free_keycodes = self._find_free_keycodes()
        self._down: set[int] = set()
        self._pending: dict[int, int] = {}  # keycode -> keysym, not yet sent

    def _find_free_keycodes(self) -> list[int]:
        info = self.conn.display.info
        first, last = info.min_keycode, info.max_keycode
        rows = self.conn.get_keyboard_mapping(first, last - first + 1)
        # Reversed: pop() hands out the lowest free keycode first.
        return [first + i for i, row in reversed(list(enumerate(rows))) if not any(row)]

    # -- keys -----------------------------------------------------------------------

    def keysym_of(self, keysym_name: str) -> int:
        keysym: int = self._XK.string_to_keysym(keysym_name)
        if keysym == 0 and len(keysym_name) == 1:
            keysym = _char_keysym(keysym_name)
        elif keysym == 0 and _UNICODE_KEYSYM.fullmatch(keysym_name):
            keysym = _char_keysym(chr(int(keysym_name[1:], 16)))  # "U00E9" -> é
        if keysym == 0:
            raise ActionFailedError(f"unknown X keysym {keysym_name!r}")
        return keysym

    def keycode_for(self, keysym: int, *, flush: bool = True) -> tuple[int, bool]:
        """A keycode producing `keysym`, and whether Shift must be held for it.

        A keysym missing from the keymap (``é``, ``漢``, F13-F24 on Xvfb) is
        bound to a spare keycode, on every shift level; with ``flush=False``
        the binding waits for `flush_bindings`.
        """
        if keysym in self._bound:
            self._bound.move_to_end(keysym)
            return self._bound[keysym], False
        codes = list(self.conn.keysym_to_keycodes(keysym))
        for index in (0, 1):
            for code, idx in codes:
                if idx == index and code not in self._bound.values():
                    return code, index == 1
        code = self._bind_spare_keycode(keysym)
        if flush:
            self.flush_bindings()
        return code, False

    @property
    def spare_keycodes(self) -> int:
        """How many keysyms can be bound at once."""
        return len(self._free_keycodes) + len(self._bound)

    def _bind_spare_keycode(self, keysym: int) -> int:
        if self._free_keycodes:
            code = self._free_keycodes.pop()
        else:
            # Reuse the least recently used binding that is neither held down nor
            # part of the pending batch. An app still working through a backlog of
            # key events would read the new keysym for an old press: wait a moment.
            victim = next(
                (
                    k
                    for k, c in self._bound.items()
                    if c not in self._down and c not in self._pending
                ),
                None,
            )
            if victim is None:
                raise ActionFailedError(f"no spare keycode to bind keysym {keysym:#x} to")
            code = self._bound.pop(victim)
            self.conn.sync()
            time.sleep(_REBIND_GRACE_S)
        self._pending[code] = keysym
        self._bound[keysym] = code
        return code

    def flush_bindings(self) -> None:
        """Send pending bindings as ONE keymap change, then let clients catch up.

        One change, not one per character: Tk lost characters when several
        mapping changes arrived in a row.
        """
        if not self._pending:
            return
        low, high = min(self._pending), max(self._pending)
        rows = [list(row) for row in self.conn.get_keyboard_mapping(low, high - low + 1)]
        for code, keysym in self._pending.items():
            self._original.setdefault(code, [0] * len(rows[code - low]))
            rows[code - low] = [keysym] * len(rows[code - low])
        self.conn.change_keyboard_mapping(low, [tuple(row) for row in rows])
        self.conn.sync()
        logger.debug("bound keysyms to spare keycodes: %s", self._pending)
        self._pending.clear()
        time.sleep(_REBIND_GRACE_S)

    def key(self, code: int, down: bool) -> None:
        kind = self._X.KeyPress if down else self._X.KeyRelease
        self._xtest.fake_input(self.conn, kind, code)
        if down:
            self._down.add(code)
        else:
            self._down.discard(code)

    # -- pointer --------------------------------------------------------------------

    def move(self, point: Point) -> None:
        self._xtest.fake_input(self.conn, self._X.MotionNotify, x=point.x, y=point.y)

    def button(self, number: int, down: bool) -> None:
        kind = self._X.ButtonPress if down else self._X.ButtonRelease
        self._xtest.fake_input(self.conn, kind, number)

    def sync(self) -> None:
        self.conn.sync()

    def pressed_keycodes(self) -> list[int]:
        bitmap = self.conn.query_keymap()
        return [i * 8 + bit for i, byte in enumerate(bitmap) for bit in range(8) if byte >> bit & 1]

    def pressed_buttons(self) -> list[int]:
        mask = self.root.query_pointer().mask
        return [n for n in range(1, 6) if mask & (1 << (7 + n))]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            for code, row in self._original.items():
                self.conn.change_keyboard_mapping(code, [tuple(row)])
            self.conn.sync()
        with contextlib.suppress(Exception):
            self.conn.close()

    def abandon(self) -> None:
        """Drop a connection whose X server is gone, without another request on it.

        After a failed write python-xlib can leave its internal locks held, so
        any further call (even `close`, which flushes) would block forever.
        """
        with contextlib.suppress(Exception):
            self.conn.display.socket.close()

    def server_gone(self) -> bool:
        """True when the X server closed our connection (a peek reads end-of-file)."""
        import select
        import socket

        try:
            sock = self.conn.display.socket
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True


def _char_keysym(char: str) -> int:
    """The X keysym of a single character (Latin-1 directly, others as Unicode keysyms)."""
    code = ord(char)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF:
        return code
    return 0x01000000 + code


_TEXT_KEYSYMS = {"\n": "Return", "\r": "Return", "\t": "Tab", "\b": "BackSpace"}


class DesktopComputer:
    """Drives an X display: XTEST input (python-xlib), mss capture.

    `display` is a `VirtualDisplay` (started here if it is not yet, and then
    also closed here), an X display name (``":N"``), or None for ``$DISPLAY``.
    A display screenloop did not create is refused with
    `HostDisplayRefusedError` unless ``allow_host_display=True``, so nobody's
    real desktop is driven by accident.

    `size` is the declared display size (screenshots come back at it and
    coordinates are in it); by default the screen's own size. Several
    computers on several displays can run in one process.
    """

    environment: Literal["desktop"] = "desktop"

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
    ) -> None:
        if isinstance(display, VirtualDisplay):
            self._virtual: VirtualDisplay | None = display
            self._display_name: str | None = None
        else:
            self._virtual = None
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
            self._display_name = name
        if image_format not in ("png", "jpeg", "webp"):
            raise ValueError(f"image_format must be png, jpeg or webp, not {image_format!r}")
        if scroll_pixels_per_notch <= 0:
            raise ValueError("scroll_pixels_per_notch must be positive")
        self._declared = Size(*size) if size is not None else None
        self._image_format: ImageFormat = image_format
        self._quality = quality
        self._settle_interval_s = settle_interval_s
        self._capture_timeout_s = capture_timeout_s
        self._pixels_per_notch = scroll_pixels_per_notch
        self._drag_step_delay_s = drag_step_delay_s
        self._close_display = close_display
        self._owns_display = False

        self._input_pool = ThreadPoolExecutor(1, thread_name_prefix="screenloop-x-input")
        self._capture_pool = ThreadPoolExecutor(1, thread_name_prefix="screenloop-x-capture")
        self._x: _XInput | None = None
        self._mss: Any = None
        self._capture_busy: Future[Any] | None = None
        # the grab that ended a stable settle: (pixels, screen size, monotonic time,
        # input generation); every input call bumps the generation when it starts and ends
        self._settled_grab: tuple[bytes, Size, float, int] | None = None
        self._input_generation = 0
        self._start_lock = asyncio.Lock()
        self._closed = False
        self._lost = False  # the X server went away: no more requests on its connection
        self._events: list[ExecutorEvent] = []
        self._warned_scaling = False
        # held input, in press order: keycode -> canonical name; button numbers
        self._held_keys: dict[int, str] = {}
        self._held_buttons: dict[int, None] = {}
        self._key_downs: dict[str, list[int]] = {}  # key_down name -> keycodes it pressed
        self._scroll_carry = [0, 0]  # x, y pixels not yet turned into notches

    # -- protocol properties ----------------------------------------------------------

    @property
    def size(self) -> Size:
        """The declared display size: screenshots come back at this size."""
        if self._declared is not None:
            return self._declared
        if self._virtual is not None:
            return Size(*self._virtual.size)
        if self._x is not None:
            return self._x.screen
        raise ExecutorError("size is unknown until the computer is started; call start()")

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Everything except `navigate` and `current_url`."""
        return DESKTOP_CAPABILITIES

    @property
    def display_name(self) -> str | None:
        """The X display this computer drives (known once started)."""
        return self._x.name if self._x is not None else self._display_name

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> DesktopComputer:
        """Connect to the display (starting an unstarted VirtualDisplay). Idempotent."""
        async with self._start_lock:
            if self._closed:
                raise ExecutorClosedError("this DesktopComputer is closed")
            if self._x is not None:
                return self
            if self._virtual is not None:
                if not self._virtual.running:
                    await asyncio.to_thread(self._virtual.start)
                    self._owns_display = True
                self._display_name = self._virtual.display
            if self._close_display is not None:
                self._owns_display = self._close_display and self._virtual is not None
            assert self._display_name is not None
            self._x = await self._run_input(_XInput, self._display_name)
            logger.info(
                "desktop computer on %s: screen %dx%d, declared %dx%d",
                self._display_name,
                *self._x.screen,
                *self.size,
            )
            return self

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
        if self._closed:
            return
        self._closed = True
        if self._x is not None and not self._lost and self._display_alive():
            with contextlib.suppress(Exception):
                await self._run_input(self._release_all_sync)
        if self._x is not None:
            if self._lost or not self._display_alive():
                self._x.abandon()
            else:
                with contextlib.suppress(Exception):
                    await self._run_input(self._x.close)
            self._x = None
        if self._mss is not None:
            mss_conn, self._mss = self._mss, None
            if not self._lost and self._display_alive():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        asyncio.get_running_loop().run_in_executor(
                            self._capture_pool, mss_conn.close
                        ),
                        self._capture_timeout_s,
                    )
        self._input_pool.shutdown(wait=False)
        self._capture_pool.shutdown(wait=False, cancel_futures=True)
        if self._owns_display and self._virtual is not None:
            await asyncio.to_thread(self._virtual.close)

    # -- plumbing -----------------------------------------------------------------------

    def _display_alive(self) -> bool:
        """False once a display we were given as a VirtualDisplay has lost its X server."""
        return self._virtual is None or self._virtual.running

    def _gone_error(self) -> ExecutorClosedError:
        return ExecutorClosedError(
            f"X display {self._display_name} went away (its X server exited); "
            "start a new display and a new DesktopComputer"
        )

    async def _run_input(self, fn: Callable[..., T], *args: Any) -> T:
        # input may change the screen: a grab taken before it ends is no longer current
        self._input_generation += 1
        try:
            return await self._run_input_once(fn, *args)
        finally:
            self._input_generation += 1

    async def _run_input_once(self, fn: Callable[..., T], *args: Any) -> T:
        if self._lost or not self._display_alive():
            self._lost = True
            raise self._gone_error()
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
                or not self._display_alive()
                or (x is not None and x.server_gone())
            ):
                self._lost = True
                raise self._gone_error() from exc
            raise ActionFailedError(f"X input failed: {exc!r}") from exc

    async def _act(self, fn: Callable[..., None], *args: Any) -> None:
        if self._x is None:
            await self.start()
        await self._run_input(fn, *args)

    def _to_screen(self, x: int, y: int) -> Point:
        assert self._x is not None
        point = clamp_to_screen(x, y, self.size).point
        if self._x.screen == self.size:
            return point
        return rescale_point(point, self.size, self._x.screen)

    def _resolve_key(self, key: str) -> tuple[str, int, bool]:
        """(canonical name, keycode, needs shift) for a key name."""
        assert self._x is not None
        name = normalize_key(key)
        keysym = self._x.keysym_of(x11_keysym(name))
        code, shifted = self._x.keycode_for(keysym)
        return name, code, shifted

    def _press_keys_sync(self, keys: Sequence[str]) -> list[int]:
        """Press `keys` in order (adding Shift where a key needs it); returns keycodes."""
        assert self._x is not None
        pressed: list[int] = []
        for key in keys:
            name, code, shifted = self._resolve_key(key)
            if shifted and not self._shift_held():
                shift = self._x.keycode_for(self._x.keysym_of(_SHIFT_KEYSYM))[0]
                self._x.key(shift, True)
                self._held_keys[shift] = "shift"
                pressed.append(shift)
            self._x.key(code, True)
            self._held_keys[code] = name
            pressed.append(code)
        return pressed

    def _release_keys_sync(self, codes: Sequence[int]) -> None:
        assert self._x is not None
        for code in reversed(codes):
            self._x.key(code, False)
            self._held_keys.pop(code, None)

    def _shift_held(self) -> bool:
        return "shift" in self._held_keys.values()

    def _with_keys(self, keys: Sequence[str], body: Callable[[], None]) -> None:
        assert self._x is not None
        codes = self._press_keys_sync(keys)
        try:
            body()
        finally:
            self._release_keys_sync(codes)
            self._x.sync()

    def _click_sync(self, x: int, y: int, button: Button, count: int, keys: Sequence[str]) -> None:
        assert self._x is not None
        number = _button_number(button)
        point = self._to_screen(x, y)

        def body() -> None:
            assert self._x is not None
            self._x.move(point)
            for _ in range(count):
                self._x.button(number, True)
                self._x.button(number, False)

        self._with_keys(keys, body)

    # -- pointer actions ------------------------------------------------------------------

    async def click(
        self, x: int, y: int, button: Button = "left", keys: Sequence[str] = ()
    ) -> None:
        """Click `button` at (x, y), holding `keys` (modifiers) during the click."""
        await self._act(self._click_sync, x, y, button, 1, tuple(keys))

    async def double_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Two left clicks at (x, y) in quick succession."""
        await self._act(self._click_sync, x, y, "left", 2, tuple(keys))

    async def triple_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Three left clicks at (x, y) in quick succession."""
        await self._act(self._click_sync, x, y, "left", 3, tuple(keys))

    async def move(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Move the pointer to (x, y), holding `keys` during the move."""

        def run() -> None:
            assert self._x is not None
            point = self._to_screen(x, y)
            self._with_keys(keys, lambda: self._x.move(point))  # type: ignore[union-attr]

        await self._act(run)

    async def drag(
        self, path: Sequence[Point], keys: Sequence[str] = (), button: Button = "left"
    ) -> None:
        """Press at the first point, move through the rest, release at the last."""
        if len(path) < 2:
            raise ActionFailedError(f"a drag needs at least two points, got {len(path)}")
        number = _button_number(button)

        def run() -> None:
            points = [self._to_screen(p[0], p[1]) for p in path]

            def body() -> None:
                assert self._x is not None
                self._x.move(points[0])
                self._x.button(number, True)
                self._held_buttons[number] = None
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
                    self._held_buttons.pop(number, None)

            self._with_keys(keys, body)

        await self._act(run)

    async def mouse_down(self, x: int, y: int, button: Button = "left") -> None:
        """Press and hold `button` at (x, y) until mouse_up or release_all."""
        number = _button_number(button)

        def run() -> None:
            assert self._x is not None
            self._x.move(self._to_screen(x, y))
            self._x.button(number, True)
            self._held_buttons[number] = None
            self._x.sync()

        await self._act(run)

    async def mouse_up(self, x: int, y: int, button: Button = "left") -> None:
        """Move to (x, y) and release `button`."""
        number = _button_number(button)

        def run() -> None:
            assert self._x is not None
            self._x.move(self._to_screen(x, y))
            self._x.button(number, False)
            self._held_buttons.pop(number, None)
            self._x.sync()

        await self._act(run)

    async def scroll(
        self, x: int, y: int, scroll_x: int, scroll_y: int, keys: Sequence[str] = ()
    ) -> None:
        """Scroll by pixel deltas at (x, y): wheel notches, remainder carried per axis.

        Positive `scroll_y` scrolls down (button 5), negative up (4); positive
        `scroll_x` right (7), negative left (6).
        """
        notches_x = self._take_notches(0, scroll_x)
        notches_y = self._take_notches(1, scroll_y)

        def run() -> None:
            point = self._to_screen(x, y)

            def body() -> None:
                assert self._x is not None
                self._x.move(point)
                for count, negative, positive in (
                    (notches_y, _WHEEL_UP, _WHEEL_DOWN),
                    (notches_x, _WHEEL_LEFT, _WHEEL_RIGHT),
                ):
                    number = positive if count > 0 else negative
                    for _ in range(abs(count)):
                        self._x.button(number, True)
                        self._x.button(number, False)

            self._with_keys(keys, body)

        await self._act(run)

    def _take_notches(self, axis: int, pixels: int) -> int:
        total = self._scroll_carry[axis] + int(pixels)
        notches = math.trunc(total / self._pixels_per_notch)
        self._scroll_carry[axis] = total - notches * self._pixels_per_notch
        return notches

    # -- keyboard actions ---------------------------------------------------------------

    async def keypress(self, keys: Sequence[str]) -> None:
        """Press a chord: every key down in order, then up in reverse order."""
        if not keys:
            return

        def run() -> None:
            self._with_keys(keys, lambda: None)

        await self._act(run)

    async def key_down(self, key: str) -> None:
        """Press and hold `key` until key_up or release_all."""

        def run() -> None:
            assert self._x is not None
            name = normalize_key(key)
            if name in self._key_downs:
                return  # already held: X would see an autorepeat, not a second key
            self._key_downs[name] = self._press_keys_sync([key])
            self._x.sync()

        await self._act(run)

    async def key_up(self, key: str) -> None:
        """Release `key` (and a Shift that key_down pressed for it)."""

        def run() -> None:
            assert self._x is not None
            name = normalize_key(key)
            codes = self._key_downs.pop(name, None)
            if codes is None:  # not held by key_down: release it anyway, it is harmless
                codes = [self._resolve_key(key)[1]]
            self._release_keys_sync(codes)
            self._x.sync()

        await self._act(run)

    async def type(self, text: str) -> None:
        """Type `text` exactly, including ``<>`` and characters outside the keymap."""
        if not text:
            return
        await self._act(self._type_sync, text)

    def _type_sync(self, text: str) -> None:
        assert self._x is not None
        shift = self._x.keycode_for(self._x.keysym_of(_SHIFT_KEYSYM))[0]
        shift_held = self._shift_held()
        keysyms = [self._x.keysym_of(_TEXT_KEYSYMS.get(char, char)) for char in text]
        for chunk in _chunks_by_distinct(keysyms, max(1, self._x.spare_keycodes // 2)):
            # Bind every missing character of the chunk before its first key
            # event (one keymap change), so no key races its own binding.
            keys = [self._x.keycode_for(keysym, flush=False) for keysym in chunk]
            self._x.flush_bindings()
            for code, shifted in keys:
                press_shift = shifted and not shift_held
                if press_shift:
                    self._x.key(shift, True)
                self._x.key(code, True)
                self._x.key(code, False)
                if press_shift:
                    self._x.key(shift, False)
        self._x.sync()

    # -- release ------------------------------------------------------------------------

    async def release_all(self) -> None:
        """Release every held key and mouse button (also ones not pressed by us)."""
        if self._x is None or self._lost:
            return  # a display that is gone holds nothing any more
        await self._run_input(self._release_all_sync)

    def _release_all_sync(self) -> None:
        assert self._x is not None
        for code in reversed(list(self._held_keys)):
            self._x.key(code, False)
        for number in reversed(list(self._held_buttons)):
            self._x.button(number, False)
        self._held_keys.clear()
        self._held_buttons.clear()
        self._key_downs.clear()
        self._x.sync()
        # Whatever the server still sees down (a crash mid-chord, another client, a
        # button held since before we started) is released too.
        for code in self._x.pressed_keycodes():
            self._x.key(code, False)
        for number in self._x.pressed_buttons():
            self._x.button(number, False)
        self._x.sync()

    # -- browser-only actions -------------------------------------------------------------

    async def navigate(self, url: str) -> None:
        """Not supported on a desktop."""
        raise UnsupportedActionError("navigate", "DesktopComputer")

    async def current_url(self) -> str | None:
        """Not supported on a desktop."""
        raise UnsupportedActionError("current_url", "DesktopComputer")

    async def wait(self, ms: int) -> None:
        """Sleep `ms` milliseconds without blocking the event loop."""
        await asyncio.sleep(max(ms, 0) / 1000)

    def drain_events(self) -> list[ExecutorEvent]:
        """Return and forget the events noticed since the last call."""
        events, self._events = self._events, []
        return events

    # -- capture --------------------------------------------------------------------------

    def _grab_sync(self) -> tuple[bytes, Size]:
        if self._mss is None:
            import mss

            assert self._display_name is not None
            self._mss = mss.MSS(display=self._display_name)
        monitor = self._mss.monitors[0]  # the whole root window
        shot = self._mss.grab(monitor)
        return bytes(shot.bgra), Size(shot.width, shot.height)

    async def _grab(self) -> tuple[bytes, Size]:
        if self._closed:
            raise ExecutorClosedError("this DesktopComputer is closed")
        if self._lost or not self._display_alive():
            self._lost = True
            raise self._gone_error()
        if self._x is None:
            await self.start()
        if self._capture_busy is not None and not self._capture_busy.done():
            raise CaptureError("a previous capture is still hanging; the display may be stuck")
        future = self._capture_pool.submit(self._grab_sync)
        self._capture_busy = future
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self._capture_timeout_s)
        except asyncio.TimeoutError as exc:
            raise CaptureError(
                f"capture of {self._display_name} did not finish in {self._capture_timeout_s}s"
            ) from exc
        except Exception as exc:
            if not self._display_alive():
                self._lost = True
                raise self._gone_error() from exc
            raise CaptureError(f"capture of {self._display_name} failed: {exc!r}") from exc

    async def screenshot(self) -> Screenshot:
        """Capture the screen, scaled to the declared size, encoded as configured."""
        t0 = time.perf_counter()
        settled, self._settled_grab = self._settled_grab, None
        if (
            settled is not None
            and settled[3] == self._input_generation
            and time.monotonic() - settled[2] <= _SETTLED_GRAB_MAX_AGE_S
        ):
            # settle's last grab was identical to the one before it and no input
            # has been sent since: it is the screen now, no need to grab again
            raw, screen = settled[0], settled[1]
        else:
            raw, screen = await self._grab()
        t1 = time.perf_counter()
        size = self.size
        if screen != size and not self._warned_scaling:
            self._warned_scaling = True
            self._events.append(
                ExecutorEvent(
                    "warning",
                    f"screen is {screen.width}x{screen.height}; screenshots are scaled to "
                    f"{size.width}x{size.height}",
                    {"screen": list(screen), "declared": list(size)},
                )
            )
        data = await asyncio.to_thread(
            encode_bgra, raw, screen, size, self._image_format, self._quality
        )
        t2 = time.perf_counter()
        return Screenshot(
            data=data,
            format=self._image_format,
            width=size.width,
            height=size.height,
            capture_s=t1 - t0,
            encode_s=t2 - t1,
        )

    async def settle(self, max_wait_s: float) -> SettleResult:
        """Wait until two consecutive captures are identical, at most `max_wait_s`.

        The last grab is kept for a `screenshot` that follows at once with no input
        in between (within ``_SETTLED_GRAB_MAX_AGE_S``), instead of grabbing again.
        """
        start = time.monotonic()
        self._settled_grab = None
        generation = self._input_generation
        previous, _ = await self._grab()
        while True:
            elapsed = time.monotonic() - start
            if elapsed >= max_wait_s:
                return SettleResult(elapsed, stable=False, reason="max_wait")
            await asyncio.sleep(min(self._settle_interval_s, max_wait_s - elapsed))
            current, screen = await self._grab()
            if current == previous:
                if generation == self._input_generation:
                    self._settled_grab = (current, screen, time.monotonic(), generation)
                return SettleResult(time.monotonic() - start, stable=True, reason="unchanged")
            previous = current
            generation = self._input_generation


def encode_bgra(
    raw: bytes, screen: Size, size: Size, image_format: ImageFormat, quality: int = 80
) -> bytes:
    """Encode a BGRX capture as PNG (lossless, unfiltered rows, zlib level 1), JPEG or
    WebP, scaled to `size`."""
    from PIL import Image

    image = Image.frombytes("RGB", (screen.width, screen.height), raw, "raw", "BGRX")
    if screen != size:
        image = image.resize((size.width, size.height), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    if image_format == "png":
        return encode_png_rgb(image.tobytes(), image.width, image.height)
    if image_format == "jpeg":
        image.save(out, format="JPEG", quality=quality)
    else:
        image.save(out, format="WEBP", quality=quality, method=0)
    return out.getvalue()


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


def _button_number(button: str) -> int:
    try:
        return _BUTTONS[button]
    except KeyError:
        raise ActionFailedError(
            f"unknown mouse button {button!r}; expected one of {sorted(_BUTTONS)}"
        ) from None
