"""What every desktop computer does the same way, whoever sends its input.

`DesktopComputer` (XTEST on an X display) and `HostComputer` (pyautogui on the
user's own screen) share their capture (mss grabs, settle), their events and
the actions a desktop does not have.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from executors._computer import (
    ALL_CAPABILITIES,
    Capability,
    ExecutorEvent,
    ImageFormat,
    Screenshot,
    SettleResult,
    Size,
)
from executors._desktop._capture import DesktopCapture
from executors._desktop._state import DisplayState
from executors._encoding import Compression
from executors._errors import UnsupportedActionError

__all__ = ["DESKTOP_CAPABILITIES", "DesktopBase"]

DESKTOP_CAPABILITIES: frozenset[Capability] = ALL_CAPABILITIES - {"navigate", "current_url"}


class DesktopBase:
    """Capture, settle, events and the browser-only actions of a desktop computer."""

    environment: Literal["desktop"] = "desktop"
    _state: DisplayState
    _capture: DesktopCapture
    _start_lock: asyncio.Lock

    def _init_capture(
        self,
        state: DisplayState,
        *,
        image_format: ImageFormat,
        quality: int,
        settle_interval_s: float,
        capture_timeout_s: float,
        min_response_s: float = 0.0,
        change_notification: bool = False,
        lossless: bool = False,
        compression: Compression = "fast",
    ) -> None:
        """Set up the shared capture on `state`, and the lock that guards a lazy start."""
        self._state = state
        self._capture = DesktopCapture(
            state,
            self._ensure_started,
            image_format=image_format,
            quality=quality,
            settle_interval_s=settle_interval_s,
            capture_timeout_s=capture_timeout_s,
            min_response_s=min_response_s,
            change_notification=change_notification,
            lossless=lossless,
            compression=compression,
        )
        self._start_lock = asyncio.Lock()

    async def _ensure_started(self) -> None:
        """Start the computer if it is not started yet (each computer knows how)."""
        raise NotImplementedError

    @property
    def size(self) -> Size:
        """The declared display size (each computer knows its own)."""
        raise NotImplementedError

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Everything except `navigate` and `current_url`."""
        return DESKTOP_CAPABILITIES

    async def navigate(self, url: str) -> None:
        """Not supported on a desktop."""
        raise UnsupportedActionError("navigate", type(self).__name__)

    async def current_url(self) -> str | None:
        """Not supported on a desktop."""
        raise UnsupportedActionError("current_url", type(self).__name__)

    async def wait(self, ms: int) -> None:
        """Sleep `ms` milliseconds without blocking the event loop."""
        await asyncio.sleep(max(ms, 0) / 1000)

    def drain_events(self) -> list[ExecutorEvent]:
        """Return and forget the events noticed since the last call."""
        events, self._state.events = self._state.events, []
        return events

    async def screenshot(self) -> Screenshot:
        """Capture the screen, scaled to the declared size, encoded as configured."""
        return await self._capture.screenshot(lambda: self.size)

    async def settle(self, max_wait_s: float) -> SettleResult:
        """Wait until the apps have drawn their answer to the last input, at most `max_wait_s`.

        After an input: a response window learned from recent steps, then no
        new frame for the settle interval (see `executors._desktop._settle`).
        A screenshot that follows at once with no input in between reuses the
        last grab instead of grabbing again.
        """
        return await self._capture.settle(max_wait_s)
