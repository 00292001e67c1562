"""When is the screen drawn after an input? A window learned from what the apps do.

"Two identical grabs 50 ms apart" says the screen is stable, not that the app
has drawn its answer: a GTK app on a busy machine draws 190-340 ms after the
input (ENVIRONMENT.md), a Tk app may show the typed key at once and redraw a
canvas later, and an X server cannot tell us that an app is still working on
an event. So settle waits for two things after an input:

- the *response window*: the time from the end of the input to the app's last
  change, as the recent steps measured it (the largest of the last few,
  times 1.5, plus 50 ms), with a cautious prior of 0.3 s for the first two
  steps, before anything was measured;
- then a *quiet interval* (the settle interval, 50 ms) with no change.

Each settle measures its own response time and feeds it back, so on a fast,
idle app the window shrinks to the quiet interval within a few steps, and on
a slow or busy one it grows to cover the app. A frame that returns to one
seen moments before, or that differs from the last one in a line at most
3 px thin (a blinking text cursor), is not a change. Everything is bounded
by settle's ``max_wait_s``.

With X DAMAGE (`executors._desktop._damage`) the changes are reported, not
found by grabbing: settle waits for the window and a quiet interval with no
report, grabs once, and the response of each input is measured up to the next
input, so an app that answered *after* the screenshot (too late for this step)
widens the window for the next ones. A floor (``min_response_s``, chosen from
the freshness bench's curve, see bench/README.md) keeps the window from
shrinking below what a timer-driven app commonly needs.

A learned window fits the apps' usual pace, not a step where the machine kept
the app off the CPU for longer. So the quiet interval counts only when the
DAMAGE reader has read every report (`DamageWatcher.drained`) and none of the
display's programs, the X server included, is runnable (`AppActivity`): a
GTK app starved for 0.4 s after a click is waited for although the screen is
quiet and the window long past.
"""

from __future__ import annotations

import zlib
from collections import deque

__all__ = ["ResponseWindow", "frame_key", "is_cursor_blink"]

_PRIOR_RESPONSE_S = 0.3
_MEMORY = 5
_FACTOR = 1.5
_MARGIN_S = 0.05
_CEILING_S = 1.5
_CURSOR_PX = 3
_TRUST_AFTER = 2  # measured responses before the prior is dropped


def frame_key(raw: bytes) -> int:
    """A cheap fingerprint of a grab (CRC-32), to compare frames and remember them."""
    return zlib.crc32(raw)


def is_cursor_blink(before: bytes, after: bytes, width: int, height: int) -> bool:
    """Whether two BGRX grabs differ only in a line at most 3 px thin (a text cursor)."""
    from PIL import Image, ImageChops

    first = Image.frombytes("RGB", (width, height), before, "raw", "BGRX")
    second = Image.frombytes("RGB", (width, height), after, "raw", "BGRX")
    box = ImageChops.difference(first, second).getbbox()
    if box is None:
        return True
    left, top, right, bottom = box
    return right - left <= _CURSOR_PX or bottom - top <= _CURSOR_PX


class ResponseWindow:
    """How long after an input the screen may still change, learned from recent settles."""

    def __init__(
        self,
        *,
        prior_s: float = _PRIOR_RESPONSE_S,
        memory: int = _MEMORY,
        ceiling_s: float = _CEILING_S,
        floor_s: float = 0.0,
    ) -> None:
        self._prior_s = prior_s
        self._floor_s = floor_s
        self._responses: deque[float] = deque(maxlen=memory)
        self._ceiling_s = ceiling_s

    @property
    def seconds(self) -> float:
        """The time to wait after the end of an input before the screen may count as drawn."""
        known = list(self._responses)
        if len(known) < _TRUST_AFTER:
            known.append(self._prior_s)
        learned = min(_FACTOR * max(known) + _MARGIN_S, self._ceiling_s)
        return max(learned, self._floor_s)

    @property
    def ceiling_s(self) -> float:
        """The longest response the window ever waits for."""
        return self._ceiling_s

    def observe(self, response_s: float) -> None:
        """Record how long after an input the last change of the screen came."""
        self._responses.append(max(0.0, response_s))

    @property
    def memory(self) -> int:
        """How many recent responses the window follows."""
        return self._responses.maxlen or _MEMORY

    def remeasured(self, responses: list[float]) -> None:
        """Replace the recent responses with the same ones measured again (oldest first)."""
        self._responses.clear()
        for response in responses:
            self.observe(response)
