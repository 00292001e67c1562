"""When did the screen last change? The X DAMAGE extension tells us, no grabs needed.

A `DamageWatcher` opens its own X connection, asks DAMAGE to report every
rectangle drawn on the root window (drawing into any window reaches it, with
or without a window manager), and stamps each report with `time.monotonic()`
from a reader thread. Settle then waits on those stamps instead of grabbing
the screen every few milliseconds, and, because the watcher keeps listening
after a screenshot was taken, the time of a *late* change (an app that
repainted after settle had already returned) is known at the next step: that
is how the response window learns about apps slower than it expected
(`executors._desktop._settle`).

A report whose rectangle is at most 3 px wide or high (a blinking text cursor,
a focus line, a window-border sliver) does not count as a change on its own:
real redraws come with larger rectangles.

Xvfb and Xorg have DAMAGE; `DamageWatcher.open` returns None when the display
does not offer it (settle then falls back to comparing grabs).
"""

from __future__ import annotations

import contextlib
import logging
import select
import threading
import time
from collections import deque
from typing import Any

__all__ = ["DamageWatcher"]

logger = logging.getLogger(__name__)

_THIN_PX = 3
_KEEP = 4096  # change stamps kept (a few seconds of a busy screen)
_POLL_S = 0.1  # how often the reader looks at the stop flag


class DamageWatcher:
    """Stamps of the changes on one X display's screen, from a DAMAGE reader thread."""

    def __init__(self, conn: Any, damage: Any) -> None:
        self._conn = conn
        self._damage = damage
        self._stamps: deque[float] = deque(maxlen=_KEEP)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # monotonic time of the latest change. What was drawn before the watcher opened
        # is unknown: the opening counts as a change, so a first settle waits one quiet
        # interval of reports (a screen painting all along is not taken as still)
        self.last_change = time.monotonic()
        self.reports = 0  # every report, thin ones too
        self._thread = threading.Thread(target=self._read, name="screenloop-x-damage", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, display_name: str) -> DamageWatcher | None:
        """A watcher on `display_name`, or None without DAMAGE (or without a connection)."""
        try:
            from Xlib import display as xdisplay
            from Xlib.ext import damage

            conn = xdisplay.Display(display_name)
        except Exception as exc:  # no X, no python-xlib support: fall back to grabs
            logger.debug("no DAMAGE watcher on %s: %r", display_name, exc)
            return None
        try:
            if not conn.has_extension("DAMAGE"):
                conn.close()
                return None
            conn.damage_query_version()
            handle = conn.screen().root.damage_create(damage.DamageReportRawRectangles)
            conn.flush()
        except Exception as exc:
            logger.debug("DAMAGE refused on %s: %r", display_name, exc)
            with contextlib.suppress(Exception):
                conn.close()
            return None
        return cls(conn, handle)

    def _read(self) -> None:
        conn = self._conn
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([conn.fileno()], [], [], _POLL_S)
                if not ready and not conn.pending_events():
                    continue
                # pending_events reads what arrived; each report is stamped on arrival
                while conn.pending_events():
                    event = conn.next_event()
                    area = getattr(event, "area", None)
                    if area is None:
                        continue
                    self.reports += 1
                    if area.width <= _THIN_PX or area.height <= _THIN_PX:
                        continue
                    now = time.monotonic()
                    with self._lock:
                        self._stamps.append(now)
                    self.last_change = now
        except Exception as exc:  # the server went away: no more reports
            logger.debug("DAMAGE reader stopped: %r", exc)
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    @property
    def alive(self) -> bool:
        """Whether the reader is still listening."""
        return self._thread.is_alive()

    def last_change_between(self, start: float, end: float) -> float | None:
        """The latest change stamped in [start, end), or None."""
        with self._lock:
            for stamp in reversed(self._stamps):
                if stamp < start:
                    return None
                if stamp < end:
                    return stamp
        return None

    def close(self) -> None:
        """Stop the reader (it closes its connection); waits briefly for it."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)
