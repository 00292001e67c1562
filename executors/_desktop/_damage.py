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

Nor does *periodic* drawing: a small rectangle (at most 64x64 px) that an app
redraws again and again with no input in between (xterm's block cursor
blinking, a clock ticking) is learned, and then reports of it are not
changes. `Periodic` does the learning from the input generation it is given;
without it an app that blinks keeps the screen "changing" for ever and every
step waits for its bound.

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
from collections.abc import Callable
from typing import Any

__all__ = ["DamageWatcher", "Periodic"]

logger = logging.getLogger(__name__)

_THIN_PX = 3
_KEEP = 4096  # change stamps kept (a few seconds of a busy screen)
_POLL_S = 0.1  # how often the reader looks at the stop flag
_SMALL_PX = 64  # a periodic rectangle is at most this high (a text line) or this wide
_REPEAT_GAP_S = 0.2  # redrawn again this long after the last counted time ...
_REPEATS = 2  # ... with no input in between, this many times: periodic
_RECTS = 512  # rectangles remembered
Rect = tuple[int, int, int, int]  # x, y, width, height


class Periodic:
    """Learns the small rectangles apps redraw on their own, without input.

    Rules, per report of rectangle (x, y, w, h) seen while input generation g
    is current (each input changes g):

    - a rectangle still being redrawn 200 ms and again 400 ms (or more) after
      it was first drawn, with no input in between (one g), is periodic, and so
      is its shape (w, h): a cursor blinking every 300-600 ms, a clock, a
      spinner drawing every frame. An answer to an input that redraws a small
      label twice (at once, then when a request returns) is not periodic, as
      every input restarts the count, nor is a 200 ms transition;
    - a report of a periodic rectangle is not a change;
    - a report of a periodic *shape* at another place (xterm's cursor after a
      key moved it) is a change the first time in a generation (it is where
      the input's answer is drawn), not when it repeats (the cursor blinking
      there).

    Only thin rectangles are learned (at most `_SMALL_PX` high or wide: a cursor
    cell, or the whole text line Tk redraws at each blink); large areas never
    are: an app that redraws its window twice
    per input is still waited for. What was counted as a change before a
    rectangle was learned is judged again (`is_noise`) when a response is
    measured, so learning late also cleans the measurements. Not thread-safe.
    """

    def __init__(self) -> None:
        # rectangle -> (generation, monotonic time it was last counted, repeats in g)
        self._rects: dict[Rect, tuple[int, float, int]] = {}
        self._periodic: set[Rect] = set()
        self._shapes: set[tuple[int, int]] = set()
        self.learned = 0  # periodic rectangles learned so far
        self.discounted = 0  # reports that were not counted as changes

    def see(self, rect: Rect, generation: int, now: float) -> bool:
        """Learn from a report of `rect`; whether it repeats one in this generation."""
        seen = self._rects.pop(rect, None)
        repeat = seen is not None and seen[0] == generation
        repeats, counted = 0, now
        if seen is not None and repeat:
            repeats, counted = seen[2], seen[1]
            if now - counted >= _REPEAT_GAP_S:
                repeats, counted = repeats + 1, now
        self._rects[rect] = (generation, counted, repeats)
        if len(self._rects) > _RECTS:
            del self._rects[next(iter(self._rects))]
        if repeats >= _REPEATS and rect not in self._periodic and _small(rect):
            if len(self._periodic) >= _RECTS:
                self._periodic.clear()
            self._periodic.add(rect)
            self._shapes.add((rect[2], rect[3]))
            self.learned += 1
        return repeat

    def is_noise(self, rect: Rect, repeat: bool) -> bool:
        """Whether a report (`repeat`: of a rectangle already reported in its
        generation) is periodic drawing, as far as is known now."""
        return rect in self._periodic or (repeat and (rect[2], rect[3]) in self._shapes)


def _small(rect: Rect) -> bool:
    # a cursor cell, or a whole text line: Tk's Text and Entry redraw the insert
    # cursor's line, window-wide, at every blink
    return rect[2] <= _SMALL_PX or rect[3] <= _SMALL_PX


class DamageWatcher:
    """Stamps of the changes on one X display's screen, from a DAMAGE reader thread."""

    def __init__(self, conn: Any, damage: Any, generation: Callable[[], int] | None = None) -> None:
        self._conn = conn
        self._damage = damage
        # the input generation now (changes with every input), to tell periodic
        # drawing from answers to input; None: every report is a change
        self._generation = generation
        self.periodic = Periodic()
        # changes: (monotonic time, rectangle, whether it repeats one in its generation)
        self._stamps: deque[tuple[float, Rect, bool]] = deque(maxlen=_KEEP)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # monotonic time of the latest change. What was drawn before the watcher opened
        # is unknown: the opening counts as a change, so a first settle waits one quiet
        # interval of reports (a screen painting all along is not taken as still)
        self.last_change = time.monotonic()
        self.reports = 0  # every report, thin ones too
        # set while the reader has reports in hand that it has not stamped yet
        self._reading = False
        self._thread = threading.Thread(target=self._read, name="screenloop-x-damage", daemon=True)
        self._thread.start()

    @classmethod
    def open(
        cls, display_name: str, generation: Callable[[], int] | None = None
    ) -> DamageWatcher | None:
        """A watcher on `display_name`, or None without DAMAGE (or without a connection).

        `generation` returns the current input generation (see `Periodic`).
        """
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
        return cls(conn, handle, generation)

    def _read(self) -> None:
        conn = self._conn
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([conn.fileno()], [], [], _POLL_S)
                # before anything is read: `drained` looks at the socket, then at this
                self._reading = True
                if not ready and not conn.pending_events():
                    self._reading = False
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
                    rect = (area.x, area.y, area.width, area.height)
                    with self._lock:
                        repeat = False
                        if self._generation is not None:
                            periodic = self.periodic
                            repeat = periodic.see(rect, self._generation(), now)
                            if periodic.is_noise(rect, repeat):
                                periodic.discounted += 1
                                continue
                        self._stamps.append((now, rect, repeat))
                    self.last_change = now
                self._reading = False
        except Exception as exc:  # the server went away: no more reports
            logger.debug("DAMAGE reader stopped: %r", exc)
        finally:
            self._reading = False
            with contextlib.suppress(Exception):
                conn.close()

    def drained(self) -> bool:
        """Whether every report the server sent so far has been read and stamped.

        A reader thread kept off the CPU leaves reports unread in its socket, and
        `last_change` then says "quiet" of a screen that changed: settle asks this
        before it trusts a quiet interval (and reads `last_change` after it).
        """
        try:
            ready, _, _ = select.select([self._conn.fileno()], [], [], 0)
        except Exception:  # the reader closed its connection: nothing more comes
            return True
        return not ready and not self._reading

    @property
    def alive(self) -> bool:
        """Whether the reader is still listening."""
        return self._thread.is_alive()

    def last_change_between(self, start: float, end: float) -> float | None:
        """The latest change stamped in [start, end), or None.

        Reports of rectangles learned as periodic since they arrived are left out.
        """
        with self._lock:
            for stamp, rect, repeat in reversed(self._stamps):
                if stamp < start:
                    return None
                if stamp < end and not self.periodic.is_noise(rect, repeat):
                    return stamp
        return None

    def covers(self, start: float) -> bool:
        """Whether the stamps kept still reach back to `start`."""
        with self._lock:
            return len(self._stamps) < _KEEP or self._stamps[0][0] <= start

    def close(self) -> None:
        """Stop the reader (it closes its connection); waits briefly for it."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)
