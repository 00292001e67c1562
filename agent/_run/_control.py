"""`RunControl`: steering one live run from outside its task.

Pause (after the current step), resume, stop, and a word to the model sent
with the next request. The watch page (agent/_watch/) drives it from its
HTTP threads, so every ``request_*`` method is thread-safe: it changes the
state under a lock and hands the rest to the run's event loop.

The loop calls `RunControl.checkpoint` once per step, before the request is
built: it holds while a pause is wanted and returns the messages to send.
Each control is a `ControlEvent` emitted when it takes effect, in the step it
belongs to (a pause, its resume and the messages go to the step they held).
Stop reuses the cancel path: the run's task is cancelled, so the record is
finished as ``cancelled`` and held inputs are released; `absorb_cancel` lets
`RunLoop.run` return that result instead of raising, when only the stop
cancelled the task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable

from agent._api._content import InputText
from agent._api._protocol import BaseItem, InputMessage
from agent._events import ControlEvent, Event

__all__ = ["MAX_MESSAGE_CHARS", "RunControl"]

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
MESSAGE_PREFIX = "A message from the person watching this run:\n"


class RunControl:
    """Pause, resume, stop and messages for one run (thread-safe requests)."""

    def __init__(self, emit: Callable[[Event], Awaitable[None]], step: Callable[[], int]) -> None:
        self._emit = emit
        self._step = step
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[object] | None = None
        self._go = asyncio.Event()  # wakes a held checkpoint; the state is `_pause_by`
        self._pause_by: str | None = None
        self._resume_by = "watch"
        self._messages: list[tuple[str, str]] = []
        self.stop_by: str | None = None
        self._stop_cancels = 0
        self._stopper: asyncio.Future[None] | None = None

    # -- the run's side ------------------------------------------------------------------
    def bind(self) -> None:
        """Called in the run's task when it starts: requests now reach this loop and task."""
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
            stop_by = self.stop_by
        if stop_by is not None:  # stopped before the run began
            self._loop.call_soon(self._start_stop, stop_by)

    @property
    def paused(self) -> bool:
        """True while a pause is wanted (the run holds at its next checkpoint)."""
        return self._pause_by is not None

    async def checkpoint(self) -> list[BaseItem]:
        """Hold while paused; then the waiting messages, as user messages for the request."""
        by = self._pause_by
        if by is not None:
            await self._emit(ControlEvent(self._step(), "pause", by, f"paused by {by}"))
            t0 = time.monotonic()
            while self._pause_by is not None:
                self._go.clear()
                if self._pause_by is None:  # resumed between the check and the clear
                    break
                await self._go.wait()
            by = self._resume_by
            held = round(time.monotonic() - t0, 3)
            await self._emit(
                ControlEvent(
                    self._step(), "resume", by, f"resumed after {held:g}s", {"paused_s": held}
                )
            )
        with self._lock:
            messages, self._messages = self._messages, []
        items: list[BaseItem] = []
        for text, by in messages:
            await self._emit(ControlEvent(self._step(), "message", by, text))
            items.append(
                InputMessage(
                    type="message", role="user", content=[InputText(text=MESSAGE_PREFIX + text)]
                )
            )
        return items

    def absorb_cancel(self) -> bool:
        """After a cancel: True when only `request_stop` cancelled the task (un-cancelled)."""
        if self.stop_by is None or self._task is None or self._stop_cancels == 0:
            return False
        uncancel = getattr(self._task, "uncancel", None)
        if uncancel is None:  # Python 3.10: no count; a stop was asked, honour it
            return True
        remaining = 0
        for _ in range(self._stop_cancels):
            remaining = uncancel()
        return remaining == 0

    # -- anyone's side (thread-safe) -----------------------------------------------------
    def request_pause(self, by: str = "watch") -> None:
        """Hold the run before its next request (the current step finishes)."""
        with self._lock:
            self._pause_by = by

    def request_resume(self, by: str = "watch") -> None:
        """Let a paused run go on."""
        with self._lock:
            self._pause_by = None
            self._resume_by = by
        self._call(self._go.set)

    def request_stop(self, by: str = "watch") -> None:
        """End the run as ``cancelled`` (the record finished, held inputs released)."""
        with self._lock:
            if self.stop_by is not None:
                return
            self.stop_by = by
        self._call(self._start_stop, by)

    def send_message(self, text: str, by: str = "watch") -> None:
        """Queue `text` for the model; it goes with the next request."""
        text = text.strip()[:MAX_MESSAGE_CHARS]
        if text:
            with self._lock:
                self._messages.append((text, by))

    def _call(self, fn: Callable[..., object], *args: object) -> None:
        loop = self._loop
        if loop is None:  # before the run started: nothing waits yet
            fn(*args)
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: the run is over
            loop.call_soon_threadsafe(fn, *args)

    def _start_stop(self, by: str) -> None:
        task = self._task
        if task is None or task.done():
            return

        async def stop() -> None:
            try:
                await self._emit(ControlEvent(self._step(), "stop", by, f"stopped by {by}"))
            except Exception as exc:
                logger.warning("recording the stop failed: %s", exc)
            if not task.done():
                self._stop_cancels += 1
                task.cancel()

        self._stopper = asyncio.ensure_future(stop())
