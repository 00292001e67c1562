"""Capture and settle for `PlaywrightComputer`.

- `screenshot` is CDP ``Page.captureScreenshot`` at the declared size whatever
  the device scale factor: without a clip first, else with a CSS clip at scale
  1, else a Pillow resize.
- `settle` waits for network quiet and unchanged animation frames, and starts
  the capture meanwhile; a capture proved current is kept (`_Prefetch`) for the
  `screenshot` call that follows at once.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import time
from dataclasses import dataclass
from typing import Any

from playwright.async_api import CDPSession, Page
from playwright.async_api import Error as PlaywrightError

from executors._browser._activity import NetworkActivity
from executors._browser._dialog_paint import encode_image, paint_dialog
from executors._browser._dialogs import Dialogs, OpenDialog
from executors._browser._policy import NetworkPolicy
from executors._browser._scripts import SETTLE_BEGIN, SETTLE_PROBE, SETTLE_RESULT
from executors._browser._shared import BrowserState, is_closed_error
from executors._browser._tabs import Tabs
from executors._computer import Screenshot, SettleResult, Size
from executors._encoding import ImageEncoding
from executors._errors import CaptureError, ExecutorClosedError, ExecutorError

__all__ = ["Capture"]

logger = logging.getLogger(__name__)

_CAPTURE_ATTEMPTS = 3
# how many times capture_timeout_s a capture may take while its page still answers
_CAPTURE_PATIENCE = 6
# a network wait longer than this means something slow answered (not an ordinary step)
_NETWORK_WAIT_S = 0.25
# how long to wait for a request event while the page reports it is being left
_LEAVING_POLL_S = 0.1
# how long after settle a capture it started may stand in for a new one (the loop
# asks at once; later callers get a fresh capture)
_PREFETCH_MAX_AGE_S = 0.05


class Capture:
    """Screenshots, the settle wait and its overlapped capture.

    Owns the capture kept from the last settle and the pages that need a CSS
    clip; reads the pages from `tabs` and their requests from `activity`.
    """

    def __init__(
        self,
        state: BrowserState,
        tabs: Tabs,
        activity: NetworkActivity,
        policy: NetworkPolicy,
        dialogs: Dialogs,
    ) -> None:
        self._state = state
        self._dialogs = dialogs
        # the last capture of each page: the page behind a dialog (which blocks capture)
        self._last: dict[Page, bytes] = {}
        self._options = state.options
        self._tabs = tabs
        self._activity = activity
        self._policy = policy
        self._use_clip: set[Page] = set()
        self._prefetch: _Prefetch | None = None
        # the last capture's bytes and the base64 Chromium sent them as
        self._sent_b64: tuple[bytes, str] | None = None

    def forget(self, page: Page) -> None:
        """Drop what is known of a closed page."""
        self._use_clip.discard(page)
        self._last.pop(page, None)

    async def screenshot(self) -> Screenshot:
        """The active page's viewport at the declared size (the settle's capture if current)."""
        start = time.perf_counter()
        page = await self._tabs.page()
        captured: tuple[bytes, int, int] | None = None
        if self._dialogs.on_active() is None:
            try:
                _, captured = await self._dialogs.race(self._capture_active(page))
            except ExecutorClosedError:
                if not await self._tabs.closed_under(page):
                    raise
                # the page closed itself while captured: capture the tab that took over
                page = await self._tabs.page()
                _, captured = await self._dialogs.race(self._capture_active(page))
        dialog = self._dialogs.screen_taken(page)
        if dialog is not None:
            return self._with_dialog(dialog, start)
        if captured is None:  # a dialog opened, then was dismissed: the page is back
            captured = await self._capture_active(page)
        data, width, height = captured
        capture_s = time.perf_counter() - start
        encode_start = time.perf_counter()
        sent = self._sent_b64
        b64 = sent[1] if sent is not None and sent[0] is data else None
        encoding = self._options.encoding()
        if (width, height) != self._options.size:
            data = await asyncio.to_thread(_resize, data, self._options.size, encoding)
            b64 = None
        elif encoding.lossless_webp:  # captured as PNG (see _capture_page)
            data = await asyncio.to_thread(encoding.transcode, data)
            b64 = None
        return Screenshot(
            data=data,
            format=self._options.image_format,
            width=self._options.size.width,
            height=self._options.size.height,
            capture_s=capture_s,
            encode_s=time.perf_counter() - encode_start,
            b64=b64,
        )

    async def _capture_active(self, page: Page) -> tuple[bytes, int, int]:
        captured = await self._take_prefetch(page)
        if captured is None:
            captured = await self._capture_page(page, await self._tabs.session(page))
        return captured

    def _with_dialog(self, dialog: OpenDialog, start: float) -> Screenshot:
        """The page's last capture with the open dialog drawn over it."""
        options = self._options
        data = paint_dialog(
            self._last.get(dialog.page),
            dialog.layout,
            dialog.text,
            options.size,
            options.encoding(),
        )
        return Screenshot(
            data=data,
            format=options.image_format,
            width=options.size.width,
            height=options.size.height,
            capture_s=time.perf_counter() - start,
        )

    def _capture_key(self) -> ImageEncoding:
        return self._options.encoding()

    async def _capture_page(self, page: Page, session: CDPSession) -> tuple[bytes, int, int]:
        """One CDP capture of the viewport: (data, width, height) as Chromium sent it
        (lossless WebP: Chromium's fast PNG, converted by `screenshot`)."""
        encoding = self._options.encoding()
        chromium_encodes = not encoding.lossless_webp
        params: dict[str, Any] = {
            "format": encoding.format if chromium_encodes else "png",
            "optimizeForSpeed": encoding.compression == "fast" or not chromium_encodes,
            "captureBeyondViewport": False,
            "fromSurface": True,
        }
        if encoding.quality is not None and params["format"] != "png":
            params["quality"] = encoding.quality
        if page in self._use_clip:
            params["clip"] = await self._viewport_clip(session)
        data = await self._capture(session, params)
        width, height = _image_size(data)
        if (width, height) != self._options.size and "clip" not in params:
            # This Chromium returned device pixels: use a CSS clip from now on.
            self._use_clip.add(page)
            params["clip"] = await self._viewport_clip(session)
            data = await self._capture(session, params)
            width, height = _image_size(data)
        self._last[page] = data
        return data, width, height

    def _drop_prefetch(self) -> None:
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None:
            _forget(prefetch.task)

    async def _take_prefetch(self, page: Page) -> tuple[bytes, int, int] | None:
        """The capture the last settle started, if it still shows the screen now."""
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is None:
            return None
        if (
            prefetch.page is not page
            or prefetch.generation != self._state.input_generation
            or prefetch.key != self._capture_key()
            or time.monotonic() - prefetch.settled_at > _PREFETCH_MAX_AGE_S
        ):
            _forget(prefetch.task)
            return None
        try:
            return await prefetch.task
        except ExecutorClosedError:
            raise
        except (ExecutorError, PlaywrightError) as exc:
            logger.debug("the capture started during settle failed (%s); capturing again", exc)
            return None

    async def _viewport_clip(self, session: CDPSession) -> dict[str, float]:
        try:
            metrics = await asyncio.wait_for(
                session.send("Page.getLayoutMetrics"), self._options.capture_timeout_s
            )
        except (asyncio.TimeoutError, PlaywrightError) as exc:
            raise CaptureError(f"reading the viewport position failed: {exc}") from exc
        viewport = metrics.get("cssVisualViewport") or metrics.get("visualViewport", {})
        return {
            "x": float(viewport.get("pageX", 0)),
            "y": float(viewport.get("pageY", 0)),
            "width": float(self._options.size.width),
            "height": float(self._options.size.height),
            "scale": 1.0,
        }

    async def _capture(self, session: CDPSession, params: dict[str, Any]) -> bytes:
        # Right after a page starts, Chromium can answer "Unable to capture screenshot"
        # until its compositor has produced a first frame: wait for a frame and retry.
        for attempt in range(_CAPTURE_ATTEMPTS):
            try:
                result = await self._send_capture(session, params)
            except PlaywrightError as exc:
                if is_closed_error(exc) or self._tabs.is_crashed(self._tabs.active):
                    raise ExecutorClosedError(f"the page is gone: {exc.message}") from exc
                if attempt + 1 == _CAPTURE_ATTEMPTS:
                    raise CaptureError(f"screenshot failed: {exc.message}") from exc
                logger.debug("screenshot failed (%s); retrying after a frame", exc.message)
                await self._next_frame(session)
                continue
            data = base64.b64decode(result["data"])
            self._sent_b64 = (data, result["data"])
            return data
        raise CaptureError("screenshot failed")  # not reached: the loop returns or raises

    async def _send_capture(self, session: CDPSession, params: dict[str, Any]) -> Any:
        """``Page.captureScreenshot``, bounded: past `capture_timeout_s` the wait goes on
        (up to `_CAPTURE_PATIENCE` times as long) only while the page still answers.

        On a machine running many agents (32 browsers on 2 cores) a capture can queue
        behind every other page's frames for longer than the timeout; a page that still
        evaluates a script is slow, not stuck. A hung renderer answers nothing.
        """
        limit = self._options.capture_timeout_s
        deadline = time.monotonic() + limit * _CAPTURE_PATIENCE
        pending = asyncio.ensure_future(session.send("Page.captureScreenshot", params))
        try:
            while True:
                done, _ = await asyncio.wait({pending}, timeout=limit)
                if done:
                    return pending.result()
                if time.monotonic() >= deadline or not await _answers(session, limit):
                    raise CaptureError(f"screenshot did not finish within {limit:g} s")
                if pending.done():
                    return pending.result()
                logger.warning("a screenshot is taking over %g s; the page answers, waiting", limit)
        finally:
            _forget(pending)  # cancelled if still waiting

    async def _next_frame(self, session: CDPSession) -> None:
        """Wait (bounded) for the page's next animation frame."""
        try:
            await asyncio.wait_for(
                session.send(
                    "Runtime.evaluate",
                    {
                        "expression": "new Promise(r => requestAnimationFrame(() => r(1)))",
                        "awaitPromise": True,
                    },
                ),
                self._options.capture_timeout_s,
            )
        except (asyncio.TimeoutError, PlaywrightError) as exc:
            raise CaptureError(f"the page produced no frame to capture: {exc}") from exc

    async def settle(self, max_wait_s: float | None = None) -> SettleResult:
        """Wait for network quiet and unchanged frames, capturing meanwhile.

        A dialog open (or opening meanwhile) on the active page ends the wait: the
        page is frozen until the dialog is answered.
        """
        start = time.monotonic()
        if self._dialogs.on_active() is None:
            finished, result = await self._dialogs.race(self._settle(max_wait_s))
            if finished and result is not None:
                return result
        return SettleResult(time.monotonic() - start, True, "a dialog is open")

    async def _settle(self, max_wait_s: float | None) -> SettleResult:
        limit = self._options.settle_max_s if max_wait_s is None else max_wait_s
        start = time.monotonic()
        deadline = start + max(limit, 0.0)
        # a navigation or requests in flight may hold the screen longer, up to this
        loading_bound = self._options.navigation_settle_s
        net_deadline = max(deadline, start + loading_bound)
        since = start - loading_bound  # requests older than this are long polls
        self._drop_prefetch()
        page = await self._tabs.page()
        reason = ""
        speculate = True
        capture: asyncio.Future[tuple[bytes, int, int]] | None = None
        try:
            while True:
                if page is not self._tabs.active:  # a popup opened: settle the new tab
                    page = await self._tabs.page()
                waited_from = time.monotonic()
                if not await self._activity.wait_quiet(page, net_deadline, since):
                    n = self._activity.busy(page, since)
                    reason = f"network busy ({n} requests in flight)"
                    self._still_loading(page, time.monotonic() - start, n)
                    self._activity.give_up(page)  # never answered: never wait for them again
                    break
                if time.monotonic() - waited_from > _NETWORK_WAIT_S:
                    # a slow document or fetch answered: give its page time to draw
                    deadline = max(deadline, min(net_deadline, time.monotonic() + limit))
                mark = self._activity.mark(page)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    reason = "time limit reached"
                    break
                if capture is not None:
                    _forget(capture)
                    capture = None
                generation = self._state.input_generation
                try:
                    if speculate:
                        speculate = False
                        probe, capture = await self._probe_and_capture(page, remaining)
                    else:
                        probe = await asyncio.wait_for(
                            page.evaluate(SETTLE_PROBE, max(int(remaining * 1000), 1)),
                            remaining + 0.25,
                        )
                except asyncio.TimeoutError:
                    if self._activity.busy(page, since) and time.monotonic() < net_deadline:
                        continue  # the document is being replaced: wait for the new one
                    reason = "no animation frames"
                    break
                except (PlaywrightError, ExecutorError) as exc:
                    closed = isinstance(exc, ExecutorClosedError) or (
                        isinstance(exc, PlaywrightError) and is_closed_error(exc)
                    )
                    if closed and (
                        page is not self._tabs.active or await self._tabs.closed_under(page)
                    ):
                        continue  # the page closed itself: settle the tab that takes over
                    if closed or self._tabs.is_crashed(page):
                        raise ExecutorClosedError(f"the page is gone: {exc}") from exc
                    if isinstance(exc, ExecutorError):
                        raise
                    continue  # the document navigated mid-probe: probe the new one
                busy = list(probe.get("busy", []))
                if self._activity.mark(page) != mark:
                    continue  # requests started while frames were checked
                if self._activity.popup_navigating or self._policy.popup_pending:
                    # a popup is opening: wait for it (bounded), then settle it
                    await self._activity.wait_change(deadline)
                    if time.monotonic() < deadline:
                        continue
                if probe.get("stable") and page is self._tabs.active:
                    if (
                        capture is not None
                        and probe.get("changed") is False
                        and generation == self._state.input_generation
                    ):
                        self._prefetch = _Prefetch(
                            page, capture, self._capture_key(), generation, time.monotonic()
                        )
                        capture = None
                    return SettleResult(time.monotonic() - start, True, "")
                if "navigation" in busy and time.monotonic() < net_deadline:
                    # the document is leaving; its request shows up in a moment
                    wait_until = min(net_deadline, time.monotonic() + _LEAVING_POLL_S)
                    await self._activity.wait_change(wait_until)
                    continue
                if probe.get("retry") and time.monotonic() < deadline:
                    continue
                reason = "busy: " + ", ".join(busy) if busy else "time limit reached"
                if "navigation" in busy:
                    self._still_loading(page, time.monotonic() - start, 0, leaving=True)
                break
        finally:
            if capture is not None:
                _forget(capture)
        return SettleResult(time.monotonic() - start, False, reason)

    def _still_loading(
        self, page: Page, waited_s: float, requests: int, *, leaving: bool = False
    ) -> None:
        navigating = leaving or self._activity.navigating(page)
        what = (
            "the next page has not arrived"
            if navigating
            else (f"{requests} request{'s' if requests != 1 else ''} still unanswered")
        )
        self._state.emit(
            "loading",
            f"still loading after {waited_s:.1f} s: {what}",
            notice=f"The page is still loading ({what} after {waited_s:.0f} s); the screenshot "
            + ("still shows the previous page." if navigating else "may be incomplete.")
            + " Wait, or take another screenshot.",
            url=page.url,
            navigating=navigating,
        )

    async def _probe_and_capture(
        self, page: Page, remaining: float
    ) -> tuple[dict[str, Any], asyncio.Future[tuple[bytes, int, int]] | None]:
        """Start the settle probe, then a capture, then wait for the probe.

        The capture is requested only after the probe has begun, so its frame is
        drawn after the probe's starting point; a probe reporting ``changed:
        false`` proves that frame shows the settled page.
        """
        session = await self._tabs.session(page)
        max_ms = max(int(remaining * 1000), 1)
        begun = await asyncio.wait_for(
            session.send(
                "Runtime.evaluate",
                {"expression": SETTLE_BEGIN.format(max_ms=max_ms), "returnByValue": True},
            ),
            remaining + 0.25,
        )
        probe_id = begun.get("result", {}).get("value")
        if not isinstance(probe_id, int) or probe_id <= 0 or "exceptionDetails" in begun:
            probe = await asyncio.wait_for(page.evaluate(SETTLE_PROBE, max_ms), remaining + 0.25)
            return probe, None
        capture = self._state.spawn(self._capture_page(page, session))
        try:
            answer = await asyncio.wait_for(
                session.send(
                    "Runtime.evaluate",
                    {
                        "expression": SETTLE_RESULT.format(probe_id=probe_id),
                        "awaitPromise": True,
                        "returnByValue": True,
                    },
                ),
                remaining + 0.25,
            )
        except BaseException:
            _forget(capture)
            raise
        value = answer.get("result", {}).get("value")
        if "exceptionDetails" in answer or not isinstance(value, dict):
            # the document was replaced while the probe ran: probe again
            value = {"stable": False, "busy": [], "changed": True, "retry": True}
        return value, capture


@dataclass
class _Prefetch:
    """A capture `settle` started and proved current (see `PlaywrightComputer.settle`)."""

    page: Page
    task: asyncio.Future[tuple[bytes, int, int]]
    key: ImageEncoding
    generation: int
    settled_at: float


def _forget(task: asyncio.Future[Any]) -> None:
    """Drop a capture nobody will use: cancel it, and never report its outcome."""
    task.cancel()
    task.add_done_callback(lambda t: t.cancelled() or t.exception())


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a captured image: read from a PNG's header, else by Pillow."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size


def _resize(data: bytes, size: Size, encoding: ImageEncoding) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        resized = image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    return encode_image(resized, encoding)


async def _answers(session: CDPSession, timeout: float) -> bool:
    """Whether the page's renderer evaluates a script within `timeout` (alive, maybe slow)."""
    try:
        await asyncio.wait_for(
            session.send("Runtime.evaluate", {"expression": "1", "returnByValue": True}), timeout
        )
    except (asyncio.TimeoutError, PlaywrightError):
        return False
    return True
