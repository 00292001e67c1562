"""Network activity per page, for `settle`: requests in flight and when they last changed.

A request that never answers holds one settle to its bound (`navigation_settle_s`)
and is then given up (`give_up`): later requests of that page to the same address
(scheme, host, path; the query may differ, as with beacons and long polls) are not
waited for, so a page whose every step starts such a request does not cost the
bound every step. Navigations (documents) are always waited for.
"""

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
        # (page, method, address) of requests a settle gave up on: never waited for again
        self._stalled: set[tuple[Page, str, str]] = set()

    def busy(self, page: Page, since: float | None = None) -> int:
        """How many requests of `page` are in flight (started at or after `since`)."""
        inflight = [r for r in self._inflight.get(page, ()) if not self._is_stalled(page, r)]
        if since is None:
            return len(inflight)
        return sum(1 for r in inflight if self._started.get(r, 0.0) >= since)

    def give_up(self, page: Page) -> None:
        """Stop waiting for the requests `page` has in flight now (a settle waited its
        bound for them), and for later ones to the same addresses (see the module doc)."""
        for request in self._inflight.get(page, ()):
            if not request.is_navigation_request():
                self._stalled.add((page, request.method, _address(request.url)))

    def _is_stalled(self, page: Page, request: Request) -> bool:
        if not self._stalled or request.is_navigation_request():
            return False
        return (page, request.method, _address(request.url)) in self._stalled

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
        self._stalled = {k for k in self._stalled if k[0] is not page}

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


def _address(url: str) -> str:
    """A request's address without its query and fragment."""
    return url.split("#", 1)[0].split("?", 1)[0]
