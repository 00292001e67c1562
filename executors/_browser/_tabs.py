"""The tabs of a `PlaywrightComputer`: which page actions go to, and what happens to pages.

- New tabs and popups are followed: actions go to the newest page; when it
  closes, to the previous one. Each switch is an `ExecutorEvent`.
- Each page gets its CDP session set up (with the policy's redirect checks)
  before actions reach it; a popup's held-back first navigation is loaded then.
- Dialogs, downloads and file choosers go to `on_dialog`, `on_download` and
  `on_file_chooser` (see `Dialogs`, `Transfers`); crashes are noted.
- `call` bounds every Playwright call and turns its errors into executor errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from playwright.async_api import BrowserContext, CDPSession, Dialog, Download, FileChooser, Page
from playwright.async_api import Error as PlaywrightError

from executors._browser._policy import NetworkPolicy
from executors._browser._scripts import blocked_page_html
from executors._browser._shared import BrowserState, is_closed_error, wait_page_step
from executors._errors import ActionFailedError, BrowserGoneError, ExecutorClosedError

__all__ = ["Tabs"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# how long the ``close`` event of a page may trail an error caused by its closing
_CLOSE_EVENT_WAIT_S = 1.0


class Tabs:
    """Owns the browser context's pages, the active one, their CDP sessions and crashes.

    ``on_open`` and ``on_close`` are called with each page that opens or closes
    (the other parts keep per-page state).
    """

    def __init__(self, state: BrowserState, policy: NetworkPolicy) -> None:
        self._state = state
        self._policy = policy
        self.context: BrowserContext | None = None
        self.on_open: list[Callable[[Page], None]] = []
        self.on_close: list[Callable[[Page], None]] = []
        self.on_dialog: Callable[[Page, Dialog], None] | None = None
        self.on_download: Callable[[Download], None] | None = None
        self.on_file_chooser: Callable[[FileChooser], None] | None = None
        self._pages: list[Page] = []
        self._active: Page | None = None
        self._sessions: dict[Page, CDPSession] = {}
        # done once a page is fully set up, popup re-navigation included (actions wait)
        self._setup: dict[Page, asyncio.Future[None]] = {}
        self._crashed: set[Page] = set()
        # the tabs changed since `tell_position` last said where the model is
        self._changed = False

    @property
    def active(self) -> Page | None:
        """The page actions go to, if any (unchecked: see `current`)."""
        return self._active

    def is_crashed(self, page: Page | None) -> bool:
        """Whether `page` crashed."""
        return page in self._crashed

    def tell_position(self) -> None:
        """After tabs changed, a notice saying which tab actions go to (once the page loaded)."""
        if not self._changed or self._state.closed:
            return
        self._changed = False
        page = self._active
        if page is not None and not page.is_closed():
            where = self.where(page)
            self._state.emit("tab_position", f"acting on {where}", notice=f"You are on {where}.")

    def where(self, page: Page) -> str:
        """Which tab `page` is, in words: ``tab 2 of 3: URL``."""
        number = self._pages.index(page) + 1 if page in self._pages else len(self._pages)
        return f"tab {number} of {len(self._pages)}: {page.url}"

    def clear(self) -> None:
        """Forget every page (the computer closed)."""
        self._pages.clear()
        self._active = None

    # -- the active page ---------------------------------------------------------------

    def context_or_raise(self) -> BrowserContext:
        """The browser context, or `ExecutorClosedError` once closed (or its browser died)."""
        if self._state.browser_gone is not None:
            raise BrowserGoneError(self._state.browser_gone)
        if self._state.closed or self.context is None:
            raise ExecutorClosedError("the browser computer is closed")
        return self.context

    def current(self) -> Page:
        """The active page, or `ExecutorClosedError` when there is none to act on."""
        self.context_or_raise()
        page = self._active
        if page is None:
            raise ExecutorClosedError("every tab has been closed")
        if page in self._crashed:
            raise ExecutorClosedError(f"the page crashed ({page.url}); start a new computer")
        if page.is_closed():
            raise ExecutorClosedError("the page is closed")
        return page

    async def page(self) -> Page:
        """The active page, set up; a blank tab is opened when every tab was closed."""
        if not self._state.closed and self.context is not None and self._active is None:
            await self.call(self.context.new_page(), "opening a new tab")
            self._state.emit("tab_opened", "every tab was closed; opened a blank one")
        page = self.current()
        await self.ready(page)
        return page

    @contextlib.asynccontextmanager
    async def acting(self, page: Page) -> AsyncIterator[None]:
        """Run an action on `page`; the page closing under it (``window.close()`` in a
        click handler, Ctrl+W) is the action's effect, not a failure: the tab before it
        takes over. The browser or context closing, or a crash, still raises."""
        try:
            yield
        except ExecutorClosedError as exc:
            if not await self.closed_under(page):
                raise
            logger.info("the page closed during the action (%s); acting on the previous tab", exc)

    async def closed_under(self, page: Page) -> bool:
        """After an error on `page`: whether only that page closed (the browser lives on).

        The page's ``close`` event can trail the error of a call that raced it: wait
        for it, bounded.
        """
        if self._state.closed or page in self._crashed or self.context is None:
            return False
        if not page.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(page.wait_for_event("close"), _CLOSE_EVENT_WAIT_S)
        return page.is_closed() and not self._state.closed

    async def new_tab(self) -> None:
        """Open a blank tab; the ``page`` event makes it the active one."""
        await self.call(self.context_or_raise().new_page(), "opening a new tab")

    async def switch(self, offset: int) -> None:
        """Act on the tab `offset` places after the active one (wrapping around)."""
        page = self.current()
        index = self._pages.index(page) if page in self._pages else 0
        await self._switch(self._pages[(index + offset) % len(self._pages)])

    async def switch_to(self, number: int) -> None:
        """Act on tab `number` (from 1; 9 is the last, as in browsers)."""
        self.current()
        if number == 9 or number > len(self._pages):
            number = len(self._pages) if number == 9 else number
        if number <= len(self._pages):
            await self._switch(self._pages[number - 1])

    async def _switch(self, page: Page) -> None:
        previous = self._active
        if page is previous:
            return
        self._active = page
        self._changed = True
        # a background page of a headless browser draws no frames: show it
        await self.call(page.bring_to_front(), "showing the tab")
        self._state.emit(
            "tab_switched",
            f"switched to the tab {page.url}",
            notice="Switched tabs.",
            url=page.url,
            previous_url=previous.url if previous is not None else None,
        )

    async def ready(self, page: Page) -> None:
        """Wait (bounded) until `page` is set up."""
        await wait_page_step(self._setup.get(page), self._state.options.navigation_timeout_s)

    async def goto(self, url: str) -> None:
        """Load `url` in the active tab, up to its document being parsed (bounded); a URL
        the policy refuses shows the blocked page."""
        page = await self.page()
        decision = self._policy.domains.check(url)
        if not decision.allowed:
            self._state.emit(
                "navigation_blocked",
                f"blocked navigation to {url}: {decision.reason}",
                url=url,
                reason=decision.reason,
            )
            await self.call(
                page.set_content(blocked_page_html(url, decision.reason)), "showing blocked page"
            )
            return
        self._state.input_generation += 1
        try:
            await asyncio.wait_for(
                page.goto(url, wait_until="commit"), self._state.options.navigation_timeout_s
            )
            await self._parsed(page, url)
        except asyncio.TimeoutError:
            self._state.emit("warning", f"navigation to {url} did not commit in time", url=url)
        except PlaywrightError as exc:
            if is_closed_error(exc):
                raise ExecutorClosedError(f"the page closed while loading {url}") from exc
            # The page shows Chromium's error page; the model sees it.
            self._state.emit("warning", f"navigation to {url} failed: {exc.message}", url=url)
        finally:
            self._state.input_generation += 1

    async def _parsed(self, page: Page, url: str) -> None:
        """Wait (up to `navigation_settle_s`) until the document `url` committed is parsed.

        Until then the page is empty: a click sent at once (right after `start`, or
        after `navigate` by a caller that does not `settle` first) finds nothing to
        focus and the keys after it go nowhere.
        """
        bound = self._state.options.navigation_settle_s
        try:
            await asyncio.wait_for(page.wait_for_load_state("domcontentloaded"), bound)
        except asyncio.TimeoutError:
            self._state.emit(
                "warning", f"{url} was not parsed within {bound:g} s; it is still loading", url=url
            )

    # -- the channel to pages (see `Channel`) --------------------------------------------

    async def call(self, coro: Awaitable[T], what: str, timeout: float | None = None) -> T:
        """Await a Playwright call within `timeout` (default: the action timeout)."""
        limit = self._state.options.action_timeout_s if timeout is None else timeout
        self._state.input_generation += 1  # a capture started before this is not current
        try:
            return await asyncio.wait_for(coro, limit)
        except asyncio.TimeoutError as exc:
            raise ActionFailedError(f"{what} did not finish within {limit:g} s") from exc
        except PlaywrightError as exc:
            if self._state.browser_gone is not None:
                raise BrowserGoneError(f"{self._state.browser_gone} (during {what})") from exc
            if self._active in self._crashed:
                raise ExecutorClosedError(f"the page crashed during {what}") from exc
            if is_closed_error(exc):
                raise ExecutorClosedError(f"the browser or page closed during {what}") from exc
            raise ActionFailedError(f"{what} failed: {exc.message}") from exc
        finally:
            self._state.input_generation += 1

    async def session(self, page: Page) -> CDPSession:
        """The CDP session of `page` (opened on first use if its setup has not)."""
        session = self._sessions.get(page)
        if session is None:
            session = await self.call(
                self.context_or_raise().new_cdp_session(page), "opening a CDP session"
            )
            self._sessions[page] = session
        return session

    # -- page events -------------------------------------------------------------------

    def on_page(self, page: Page) -> None:
        """The context's ``page`` event: follow the new page."""
        first = not self._pages
        self._pages.append(page)
        for listener in self.on_open:
            listener(page)
        page.on("close", self._on_close)
        page.on("crash", self._on_crash)
        if self.on_download is not None:
            page.on("download", self.on_download)
        if self.on_file_chooser is not None:
            page.on("filechooser", self.on_file_chooser)
        page.on("dialog", lambda dialog: self._on_dialog(page, dialog))
        self._policy.expect(page)
        self._setup[page] = asyncio.ensure_future(self._set_up(page))
        previous = self._active
        self._active = page
        if not first:
            self._changed = True
            self._state.emit("tab_opened", f"new tab opened: {page.url}", url=page.url)
            self._state.emit(
                "tab_switched",
                f"now acting on the new tab {page.url}",
                notice="A new tab opened; actions now go to it.",
                url=page.url,
                previous_url=previous.url if previous is not None else None,
            )

    async def _set_up(self, page: Page) -> None:
        """Open the page's CDP session and, with a policy, check its redirects."""
        try:
            session = await self.context_or_raise().new_cdp_session(page)
            self._sessions[page] = session
            await self._policy.intercept(page, session)
        except Exception as exc:
            logger.warning("could not set up CDP for %s: %s", page.url, exc)
            return
        finally:
            self._policy.intercepting(page)
        if self._policy.take_popup_navigation(page.url):
            # A popup's first navigation was held back until its redirects could be
            # checked (see `NetworkPolicy.route`); load it for real now.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    # Until the real document is parsed, an action would land on the
                    # empty placeholder (or be lost when it is replaced).
                    page.goto(page.url, wait_until="domcontentloaded"),
                    self._state.options.navigation_timeout_s,
                )

    def _on_close(self, page: Page) -> None:
        was_active = page is self._active
        if page in self._pages:
            self._pages.remove(page)
        self._sessions.pop(page, None)
        for listener in self.on_close:
            listener(page)
        if self._state.closed:
            return
        self._changed = True
        if not was_active:
            self._state.emit(
                "tab_closed",
                f"tab closed: {page.url}",
                notice=f"A background tab closed ({page.url}).",
                url=page.url,
            )
            return
        self._active = self._pages[-1] if self._pages else None
        if self._active is None:
            self._state.emit(
                "tab_closed",
                f"tab closed: {page.url}",
                notice="The tab closed; it was the last one (the next action opens a blank tab).",
                url=page.url,
            )
            return
        self._state.emit("tab_closed", f"tab closed: {page.url}", url=page.url)
        self._state.emit(
            "tab_switched",
            f"back to the previous tab {self._active.url}",
            notice=f"The tab {page.url} closed; actions go to the previous tab again.",
            url=self._active.url,
            previous_url=page.url,
        )

    def _on_crash(self, page: Page) -> None:
        self._crashed.add(page)
        self._state.emit("page_crashed", f"the page crashed: {page.url}", url=page.url)

    def _on_dialog(self, page: Page, dialog: Dialog) -> None:
        if self.on_dialog is not None:
            self.on_dialog(page, dialog)
        else:  # nobody to answer it: dismiss (an alert can only be accepted)
            self._state.spawn(dialog.accept() if dialog.type == "alert" else dialog.dismiss())
