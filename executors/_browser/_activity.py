"""Network activity per page, for `settle`: requests in flight and when they last changed."""

from __future__ import annotations

import asyncio
import contextlib
import time

from playwright.async_api import Page, Request

from executors._browser._shared import page_of

__all__ = ["NetworkActivity"]

# Long-lived requests never "finish"; they must not hold settling back.
_UNTRACKED_RESOURCES = frozenset({"websocket", "eventsource", "media", "ping"})
_NETWORK_QUIET_S = 0.05


class NetworkActivity:
    """Owns the requests in flight per page, a change counter per page and the
    navigations of popups whose page does not exist yet."""

    def __init__(self) -> None:
        self._inflight: dict[Page, set[Request]] = {}
        self._started: dict[Request, float] = {}
        self._activity: dict[Page, tuple[int, float]] = {}
        self._changed = asyncio.Event()
        # navigations of pages that do not exist yet (popups being opened)
        self._orphans: set[Request] = set()

    def busy(self, page: Page, since: float | None = None) -> int:
        """How many requests of `page` are in flight (started at or after `since`)."""
        inflight = self._inflight.get(page, ())
        if since is None:
            return len(inflight)
        return sum(1 for r in inflight if self._started.get(r, 0.0) >= since)

    def navigating(self, page: Page) -> bool:
        """Whether a main-frame document request of `page` is in flight."""
        main = page.main_frame
        return any(
            r.is_navigation_request() and r.frame == main for r in self._inflight.get(page, ())
        )

    def mark(self, page: Page) -> int:
        """A counter that moves whenever a request of `page` starts or finishes."""
        return self._activity.get(page, (0, 0.0))[0]

    @property
    def popup_navigating(self) -> bool:
        """Whether a navigation of a page not yet opened (a popup) is under way."""
        return bool(self._orphans)

    def wake(self) -> None:
        """Wake a `wait_quiet` or `wait_change` (a page opened)."""
        self._changed.set()

    def forget(self, page: Page) -> None:
        """Drop what is known of a closed page."""
        for request in self._inflight.pop(page, ()):
            self._started.pop(request, None)

    def _touch(self, page: Page) -> None:
        count, _ = self._activity.get(page, (0, 0.0))
        self._activity[page] = (count + 1, time.monotonic())
        self._changed.set()

    def on_request(self, request: Request) -> None:
        """The context's ``request`` event."""
        if request.resource_type in _UNTRACKED_RESOURCES:
            return
        page = page_of(request)
        if page is None:
            if request.is_navigation_request():
                self._orphans.add(request)
                self._changed.set()
            return
        self._inflight.setdefault(page, set()).add(request)
        self._started[request] = time.monotonic()
        self._touch(page)

    def on_request_done(self, request: Request) -> None:
        """The context's ``requestfinished`` and ``requestfailed`` events."""
        self._orphans.discard(request)
        self._started.pop(request, None)
        page = page_of(request)
        if page is None:
            return
        inflight = self._inflight.get(page)
        if inflight is not None and request in inflight:
            inflight.discard(request)
            self._touch(page)

    async def wait_quiet(self, page: Page, deadline: float, since: float | None = None) -> bool:
        """Wait until `page` has had no request in flight for a moment; False at `deadline`.

        Requests started before `since` (long polls) are not waited for.
        """
        while True:
            now = time.monotonic()
            busy = self.busy(page, since)
            _, last = self._activity.get(page, (0, 0.0))
            quiet_for = now - last
            if busy == 0 and quiet_for >= _NETWORK_QUIET_S:
                return True
            if now >= deadline:
                return False
            wait = deadline - now if busy else min(deadline - now, _NETWORK_QUIET_S - quiet_for)
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(wait, 0.001))

    async def wait_change(self, deadline: float) -> None:
        """Wait (bounded by `deadline`) for the next request event or page opening."""
        self._changed.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._changed.wait(), max(deadline - time.monotonic(), 0.001))
