"""Click to focus: a press on a window first makes it the active, raised window.

A desktop a person uses focuses and raises the window they click. X window
managers do that with a synchronous passive grab on every client window, and
under openbox that grab holds a click back by hundreds of ms after typed
non-ASCII text (the keymap changes; measured in tests/executors/test_desktop.py,
see ENVIRONMENT.md). So the click's focus is asked for here instead, the way a
pager or a taskbar asks: an EWMH ``_NET_ACTIVE_WINDOW`` client message for the
top-level window under the point, then a bounded wait until the window manager
reports it active. The window manager still owns its decorations (title bar,
close and maximise buttons; see `sandbox._display`).

Without an EWMH window manager (``window_manager=False``) nothing is done.
Override-redirect windows (menus, tooltips) are not managed clients and are
left alone, so a click in an open menu never moves the focus.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from executors._computer import Point

__all__ = ["ClickFocus"]

logger = logging.getLogger(__name__)

_ACTIVATE_TIMEOUT_S = 0.5
_SOURCE_PAGER = 2  # EWMH source indication: a pager acts for the user (no focus-stealing rules)


class ClickFocus:
    """Activates the managed window under a point. Used from the input thread only."""

    def __init__(self, conn: Any, root: Any) -> None:
        self._conn = conn
        self._root = root
        self._atoms: dict[str, int] = {}
        self._frames: dict[int, int] = {}  # client window -> its top-level (frame) window

    def _atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = int(self._conn.intern_atom(name))
        return self._atoms[name]

    def _ids(self, prop: str) -> list[int]:
        value = self._root.get_full_property(self._atom(prop), 0)
        return [int(v) for v in value.value] if value is not None else []

    def _has_window_manager(self) -> bool:
        return bool(self._ids("_NET_SUPPORTING_WM_CHECK"))

    def _top_level(self, wid: int) -> int:
        window = self._conn.create_resource_object("window", wid)
        while True:
            parent = window.query_tree().parent
            if parent is None or int(parent.id) == int(self._root.id) or int(parent.id) == 0:
                return int(window.id)
            window = parent

    def client_at(self, point: Point) -> int | None:
        """The managed client window whose frame is on top at `point`, if any."""
        from Xlib.error import XError

        child = self._root.translate_coords(self._root, point.x, point.y).child
        if not child:
            return None
        top = int(child.id)
        clients = self._ids("_NET_CLIENT_LIST")
        self._frames = {c: f for c, f in self._frames.items() if c in clients}
        for client in clients:
            if client not in self._frames:
                try:
                    self._frames[client] = self._top_level(client)
                except XError:  # the window went away meanwhile
                    continue
            if self._frames[client] == top:
                return client
        return None

    def activate_at(self, point: Point) -> None:
        """Make the window under `point` active (focused and raised), bounded."""
        from Xlib import X
        from Xlib.error import XError
        from Xlib.protocol import event

        try:
            if not self._has_window_manager():
                return
            client = self.client_at(point)
            if client is None or self._ids("_NET_ACTIVE_WINDOW")[:1] == [client]:
                return
            message = event.ClientMessage(
                window=self._conn.create_resource_object("window", client),
                client_type=self._atom("_NET_ACTIVE_WINDOW"),
                data=(32, [_SOURCE_PAGER, X.CurrentTime, 0, 0, 0]),
            )
            mask = X.SubstructureRedirectMask | X.SubstructureNotifyMask
            self._root.send_event(message, event_mask=mask)
            self._conn.flush()
            deadline = time.monotonic() + _ACTIVATE_TIMEOUT_S
            delay = 0.002
            while self._ids("_NET_ACTIVE_WINDOW")[:1] != [client]:
                if time.monotonic() > deadline:
                    logger.debug("window %#x did not become active; clicking anyway", client)
                    return
                time.sleep(delay)
                delay = min(delay * 2, 0.02)
        except XError as exc:  # a window closing under the pointer is not an input failure
            logger.debug("click-to-focus skipped: %s", exc)
