"""XTEST on one python-xlib connection: fake key and pointer events, keycode mapping.

Keys are paired by keycode (X may name a shifted key differently on press
and release). A character missing from the keymap (``é€ü漢``...) is bound to
a spare keycode first, the way xdotool does it, except that the binding is
kept until `XTest.close` rather than undone right after the key event: an app
that reads the keymap after the undo sees a keycode with no character and
drops it (measured with xdotool: Tk behind on a burst of typing lost ``é€``).
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections import OrderedDict

from executors._computer import Point, Size
from executors._errors import ActionFailedError
from sandbox import DisplayError, connect_xlib

__all__ = ["XTest"]

logger = logging.getLogger(__name__)

_REBIND_GRACE_S = 0.05
_UNICODE_KEYSYM = re.compile(r"U[0-9A-Fa-f]{4,6}")


class XTest:
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
