"""Desktop capture: mss (XShm) grabs, the settle wait, PNG/JPEG/WebP encoding.

Settle waits for the apps' answer to the last input, in a window learned from
recent steps (see `executors._desktop._settle`).

Grabs run on their own mss connection in one worker thread, so the event loop
stays free; a grab that hangs is bounded by ``capture_timeout_s``. The screen
is scaled to the declared size when it differs and encoded as a lossless PNG
(unfiltered rows, zlib level 1, see `executors._png`) by default, or
JPEG/WebP. A screenshot right after a stable `settle` with no input in
between reuses settle's last grab.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from executors._computer import ExecutorEvent, ImageFormat, Screenshot, SettleResult, Size
from executors._desktop._activity import AppActivity
from executors._desktop._damage import DamageWatcher
from executors._desktop._settle import ResponseWindow, frame_key, is_cursor_blink
from executors._desktop._state import DisplayState
from executors._encoding import Compression, ImageEncoding
from executors._errors import CaptureError, ExecutorClosedError

__all__ = ["DesktopCapture", "encode_bgra"]

# how long settle's last grab may stand in for a new one (the loop asks at once)
_SETTLED_GRAB_MAX_AGE_S = 0.02
# how often settle grabs while it waits
_POLL_S = 0.015
# how often settle looks at runnable apps, and for how long at most in one settle
_WORKING_POLL_S = 0.005
_WORKING_MAX_S = 1.5
_RESTLESS_AFTER = 2  # settles a program made wait the longest before it is restless


class DesktopCapture:
    """Owns the mss connection, its thread and the grab that ended the last stable settle.

    `ensure_started` connects the computer when it is not yet (the first
    screenshot may come before any input).
    """

    def __init__(
        self,
        state: DisplayState,
        ensure_started: Callable[[], Awaitable[object]],
        *,
        image_format: ImageFormat,
        quality: int,
        settle_interval_s: float,
        lossless: bool = False,
        compression: Compression = "fast",
        capture_timeout_s: float,
        min_response_s: float = 0.0,
        change_notification: bool = False,
    ) -> None:
        self._state = state
        self._ensure_started = ensure_started
        self._image_format: ImageFormat = image_format
        self._encoding = ImageEncoding(image_format, quality, lossless, compression)
        self._settle_interval_s = settle_interval_s
        self._capture_timeout_s = capture_timeout_s
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="screenloop-x-capture")
        self._mss: Any = None
        self._busy: Future[Any] | None = None
        # the grab that ended a stable settle: (pixels, screen size, monotonic time,
        # input generation)
        self._settled_grab: tuple[bytes, Size, float, int] | None = None
        self._warned_scaling = False
        # what the apps' response to input takes, learned; the frame and input
        # generation the last settle ended on
        self._response = ResponseWindow(floor_s=min_response_s)
        self._settled_key: int | None = None
        self._settled_generation = 0  # DisplayState starts at generation 0
        # X DAMAGE reports (None: not asked for, not offered, or not opened yet)
        self._use_damage = change_notification
        self._damage: DamageWatcher | None = None
        self._damage_tried = False
        # the display's client processes' run state (None: not offered, see AppActivity)
        self._activity: AppActivity | None = None
        self._last_working: list[int] = []  # the programs the last look found runnable
        # when the input the last damage settle waited for ended: its response is
        # measured up to the next input
        self._pending_input_end: float | None = None
        # the spans the recent responses were measured over (input end, horizon), to
        # measure them again when the watcher learns periodic drawing; and how many
        # periodic rectangles it knew when they were measured
        self._spans: deque[tuple[float, float]] = deque(maxlen=self._response.memory)
        self._learned = 0

    def _grab_sync(self) -> tuple[bytes, Size]:
        if self._mss is None:
            import mss

            name = self._state.name
            # no name: the platform's own screen (HostComputer on Windows/macOS)
            self._mss = mss.MSS(display=name) if name else mss.MSS()
        monitor = self._mss.monitors[0]  # the whole root window
        shot = self._mss.grab(monitor)
        return bytes(shot.bgra), Size(shot.width, shot.height)

    async def _grab(self) -> tuple[bytes, Size]:
        state = self._state
        if state.closed:
            raise ExecutorClosedError("this DesktopComputer is closed")
        if state.lost or not state.alive():
            state.lost = True
            raise state.gone_error()
        await self._ensure_started()
        if self._busy is not None and not self._busy.done():
            raise CaptureError("a previous capture is still hanging; the display may be stuck")
        future = self._pool.submit(self._grab_sync)
        self._busy = future
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self._capture_timeout_s)
        except asyncio.TimeoutError as exc:
            raise CaptureError(
                f"capture of {state.name} did not finish in {self._capture_timeout_s}s"
            ) from exc
        except Exception as exc:
            if not state.alive():
                state.lost = True
                raise state.gone_error() from exc
            raise CaptureError(f"capture of {state.name} failed: {exc!r}") from exc

    async def screenshot(self, size_of: Callable[[], Size]) -> Screenshot:
        """Capture the screen, scaled to `size_of()`, encoded as configured."""
        t0 = time.perf_counter()
        settled, self._settled_grab = self._settled_grab, None
        if (
            settled is not None
            and settled[3] == self._state.input_generation
            and time.monotonic() - settled[2] <= _SETTLED_GRAB_MAX_AGE_S
        ):
            # settle's last grab was identical to the one before it and no input
            # has been sent since: it is the screen now, no need to grab again
            raw, screen = settled[0], settled[1]
        else:
            raw, screen = await self._grab()
        t1 = time.perf_counter()
        size = size_of()
        if screen != size and not self._warned_scaling:
            self._warned_scaling = True
            self._state.events.append(
                ExecutorEvent(
                    "warning",
                    f"screen is {screen.width}x{screen.height}; screenshots are scaled to "
                    f"{size.width}x{size.height}",
                    {"screen": list(screen), "declared": list(size)},
                )
            )
        data = await asyncio.to_thread(encode_bgra, raw, screen, size, self._encoding)
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
        """Wait until the apps have answered the last input and the screen is still.

        After an input: until the learned response window has passed since the
        input ended (see `executors._desktop._settle`) and no new frame came for
        the settle interval. With no input since the last settle: until two
        grabs an interval apart are identical. At most `max_wait_s`.

        The last grab is kept for a `screenshot` that follows at once with no input
        in between (within ``_SETTLED_GRAB_MAX_AGE_S``), instead of grabbing again.
        """
        watcher = await self._watcher()
        if watcher is not None:
            return await self._settle_on_damage(watcher, max_wait_s)
        start = time.monotonic()
        state = self._state
        self._settled_grab = None
        after_input = state.input_generation != self._settled_generation
        input_end = min(state.input_ended_at, start) if after_input else start
        not_before = input_end + (self._response.seconds if after_input else 0.0)
        generation = state.input_generation
        current, screen = await self._grab()
        key = frame_key(current)
        seen: deque[int] = deque([key], maxlen=4)
        last_change = start
        # the app already answered before the first grab if the screen is not what
        # the last settle ended on
        response = time.monotonic() - input_end if key != self._settled_key else 0.0
        compared = False
        while True:
            now = time.monotonic()
            elapsed = now - start
            if compared and now >= not_before and now - last_change >= self._settle_interval_s:
                break
            if elapsed >= max_wait_s:
                self._finish(after_input, response, key, generation)
                return SettleResult(elapsed, stable=False, reason="max_wait")
            wake = max(not_before, last_change + self._settle_interval_s)
            # sample often: a response is measured to within one poll
            pause = min(max(wake - now, 0.005), _POLL_S, max_wait_s - elapsed)
            await asyncio.sleep(pause)
            generation = state.input_generation
            before = current
            current, screen = await self._grab()
            compared = True
            new_key = frame_key(current)
            if new_key == key:
                continue
            key = new_key
            # a frame seen moments ago, or a blinking text cursor, is no news
            if new_key in seen or await asyncio.to_thread(
                is_cursor_blink, before, current, screen.width, screen.height
            ):
                continue
            seen.append(new_key)
            last_change = time.monotonic()
            response = last_change - input_end
        if generation == state.input_generation:
            self._settled_grab = (current, screen, time.monotonic(), generation)
        self._finish(after_input, response, key, generation)
        return SettleResult(time.monotonic() - start, stable=True, reason="unchanged")

    async def _watcher(self) -> DamageWatcher | None:
        """The DAMAGE watcher, opened on first use when change notification is on."""
        if not self._use_damage:
            return None
        if self._damage is not None and not self._damage.alive:
            self._damage, self._use_damage = None, False  # the reader died: grab instead
            return None
        if self._damage is None and not self._damage_tried:
            await self._ensure_started()
            self._damage_tried = True
            state = self._state
            if state.name:
                # an input bumps the generation as it starts and as it ends: both are
                # one input here, so what an app draws while the input is sent is
                # seen with what it draws after
                self._damage = await asyncio.to_thread(
                    DamageWatcher.open, state.name, lambda: (state.input_generation + 1) // 2
                )
            if self._damage is None:
                self._use_damage = False
            elif state.name:
                self._activity = await asyncio.to_thread(AppActivity.open, state.name)
        return self._damage

    def _working(self, since: float | None, now: float) -> list[int]:
        """The client processes settle still waits for: runnable ones, for a bounded time.

        `since`: when this settle first saw one runnable on a quiet screen. At the
        bound the runnable ones are let go, and a program let go twice is restless.
        """
        activity = self._activity
        if activity is None:
            return []
        working = activity.working(self._last_working if since is not None else None)
        self._last_working = working
        if working and since is not None and now - since >= _WORKING_MAX_S:
            activity.let_go(working, _RESTLESS_AFTER)
            return []
        return working

    async def _settle_on_damage(self, watcher: DamageWatcher, max_wait_s: float) -> SettleResult:
        """Settle on DAMAGE reports: the response window, then a quiet interval, one grab.

        The previous input's response is measured first, up to the start of the
        input this settle follows: a change that came after the last screenshot
        still counts, so a slow app widens the window for the next steps.
        """
        start = time.monotonic()
        state = self._state
        self._settled_grab = None
        after_input = state.input_generation != self._settled_generation
        if after_input and self._pending_input_end is not None:
            ended = self._pending_input_end
            horizon = min(state.input_started_at, ended + self._response.ceiling_s)
            self._spans.append((ended, horizon))
            self._pending_input_end = None
            learned = watcher.periodic.learned
            spans = list(self._spans) if learned != self._learned else [self._spans[-1]]
            self._learned = learned
            if len(spans) > 1 and not watcher.covers(spans[0][0]):
                spans = [spans[-1]]  # the older reports are gone: keep what was measured
            measured = [self._measured(watcher, span) for span in spans]
            if len(spans) > 1:
                self._response.remeasured(measured)
            else:
                self._response.observe(measured[0])
        input_end = min(state.input_ended_at, start) if after_input else start
        window = self._response.seconds if after_input else 0.0
        not_before = input_end + window
        quiet = self._settle_interval_s
        stable = True
        if self._activity is not None and self._activity.stale:
            await asyncio.to_thread(self._activity.refresh)
        # when the screen was first seen quiet with a client still runnable
        working_since: float | None = None
        while True:
            now = time.monotonic()
            wake = max(not_before, watcher.last_change + quiet)
            if now >= wake:
                # quiet only once every report has been read (a reader kept off the CPU
                # leaves them in its socket) and no client is still runnable (an app
                # kept off the CPU has not drawn its answer yet)
                if not watcher.drained():
                    wake = now + _WORKING_POLL_S
                elif now - watcher.last_change < quiet:
                    continue
                elif self._working(working_since, now):
                    working_since = working_since if working_since is not None else now
                    wake = now + _WORKING_POLL_S
                else:
                    break
            if now - start >= max_wait_s:
                stable = False
                break
            await asyncio.sleep(min(max(wake - now, 0.002), start + max_wait_s - now))
        generation = state.input_generation
        current, screen = await self._grab()
        if stable and generation == state.input_generation:
            self._settled_grab = (current, screen, time.monotonic(), generation)
        if after_input:
            self._pending_input_end = input_end
        self._settled_key = frame_key(current)
        self._settled_generation = generation
        waited = time.monotonic() - start
        at_ceiling = window >= self._response.ceiling_s
        reason = "unchanged" if stable else "max_wait"
        working_s = now - working_since if working_since is not None else 0.0
        return SettleResult(
            waited, stable, reason, window_s=window, at_ceiling=at_ceiling, working_s=working_s
        )

    @staticmethod
    def _measured(watcher: DamageWatcher, span: tuple[float, float]) -> float:
        """The response to an input that ended at span[0], seen up to span[1]."""
        last = watcher.last_change_between(*span)
        return last - span[0] if last is not None else 0.0

    def _finish(self, after_input: bool, response: float, key: int, generation: int) -> None:
        if after_input:
            self._response.observe(response)
        self._settled_key = key
        self._settled_generation = generation

    async def frame(self) -> tuple[bytes, Size]:
        """The screen now, as a BGRX grab and its size."""
        return await self._grab()

    async def wait_for_change(self, before: tuple[bytes, Size], timeout_s: float) -> bool:
        """Wait (bounded) until the screen differs from `before` by more than a cursor blink."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            raw, size = await self._grab()
            if size != before[1] or (
                raw != before[0]
                and not await asyncio.to_thread(
                    is_cursor_blink, before[0], raw, size.width, size.height
                )
            ):
                return True
            await asyncio.sleep(_POLL_S)
        return False

    async def close(self) -> None:
        """Close the mss connection (unless the display is gone) and stop the threads."""
        if self._activity is not None:
            activity, self._activity = self._activity, None
            await asyncio.to_thread(activity.close)
        if self._damage is not None:
            watcher, self._damage = self._damage, None
            await asyncio.to_thread(watcher.close)
        if self._mss is not None:
            mss_conn, self._mss = self._mss, None
            if not self._state.lost and self._state.alive():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        asyncio.get_running_loop().run_in_executor(self._pool, mss_conn.close),
                        self._capture_timeout_s,
                    )
        self._pool.shutdown(wait=False, cancel_futures=True)


def encode_bgra(
    raw: bytes,
    screen: Size,
    size: Size,
    image_format: ImageFormat | ImageEncoding,
    quality: int = 80,
) -> bytes:
    """Encode a BGRX capture as PNG (lossless, unfiltered rows, zlib level 1), JPEG or
    WebP at `quality`, scaled to `size`; or with every option of an `ImageEncoding`."""
    from PIL import Image

    image = Image.frombytes("RGB", (screen.width, screen.height), raw, "raw", "BGRX")
    if screen != size:
        image = image.resize((size.width, size.height), Image.Resampling.BILINEAR)
    if isinstance(image_format, ImageEncoding):
        return image_format.encode(image)
    return ImageEncoding(image_format, quality).encode(image)
