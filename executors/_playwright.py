"""`PlaywrightComputer`: the `Computer` protocol on a real Chromium.

- Launches Chromium found by `sandbox.find_chromium` (never ``playwright
  install``), or attaches to a remote browser by CDP URL or a Playwright
  websocket endpoint. Each computer gets a fresh, isolated browser context.
- Input is real input events (CDP ``Input.dispatch*`` through Playwright's
  mouse and keyboard); back/forward buttons, which Playwright's mouse lacks,
  go straight through CDP.
- Capture is CDP ``Page.captureScreenshot`` (PNG with ``optimizeForSpeed`` by
  default), at the declared size whatever the device scale factor: without a
  clip first (this Chromium returns CSS-pixel size), else with a CSS clip at
  scale 1, else a Pillow resize.
- New tabs and popups are followed: actions go to the newest page; when it
  closes, to the previous one. Each switch is an `ExecutorEvent`.
- The domain policy is enforced at the network layer: ``context.route`` sees
  the first hop of every request of every page (popups, iframes, fetch, XHR,
  workers); a per-page CDP ``Fetch`` interception at the response stage checks
  every redirect target, which Playwright's router never sees. WebSockets go
  through ``context.route_web_socket``; service workers are blocked. A browser
  launched here also sends all its traffic through `sandbox.PolicyProxy` (a
  backstop for worker requests the layers above miss; not for cdp_url /
  ws_endpoint browsers).
- `settle` waits for network quiet and, in the page, for animation frames
  with no DOM change, no short timer pending after input, no running finite
  animation (one such frame, or two when the page has scheduled frame
  callbacks or intervals since the last input): bounded, no fixed sleeps.
- The capture overlaps the settle: once the network is quiet, `settle` starts
  the page probe, then requests the screenshot, whose frame Chromium draws
  after that request (40-50 ms, two frames plus encoding). If the probe then
  reports that nothing changed since it began, that capture is kept for the
  `screenshot` call that follows at once (no input in between); otherwise it
  is dropped and `screenshot` captures afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

from playwright.async_api import (
    Browser,
    BrowserContext,
    CDPSession,
    Download,
    Page,
    Playwright,
    Request,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError

from executors._browser_capture import CaptureMixin, is_closed_error
from executors._browser_input import InputMixin, same_key
from executors._browser_page import (
    SETTLE_INIT_SCRIPT,
    blocked_page_html,
)
from executors._browser_policy import NetworkPolicyMixin, page_of
from executors._computer import (
    ALL_CAPABILITIES,
    Button,
    Capability,
    ExecutorEvent,
    ImageFormat,
    Point,
    Size,
)
from executors._errors import (
    ActionFailedError,
    ExecutorClosedError,
    ExecutorError,
)
from sandbox import BrowserLaunchError, DomainPolicy, PolicyProxy, chromium_args, find_chromium

__all__ = ["BROWSER_CAPABILITIES", "PlaywrightComputer"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

BROWSER_CAPABILITIES: frozenset[Capability] = ALL_CAPABILITIES

# Long-lived requests never "finish"; they must not hold settling back.
_UNTRACKED_RESOURCES = frozenset({"websocket", "eventsource", "media", "ping"})
_NETWORK_QUIET_S = 0.05


# Characters typed as pipelined CDP key events (see `PlaywrightComputer.type`).
_PLAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789 ")


def _plain_key_events(char: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Key down and up for one of `_PLAIN_CHARS`, as Playwright's US layout sends them."""
    if char == " ":
        key, code, key_code = " ", "Space", 32
    elif char.isdigit():
        key, code, key_code = char, "Digit" + char, ord(char)
    else:
        key, code, key_code = char, "Key" + char.upper(), ord(char.upper())
    common = {
        "modifiers": 0,
        "windowsVirtualKeyCode": key_code,
        "code": code,
        "key": key,
        "location": 0,
        "isKeypad": False,
    }
    down = {
        "type": "keyDown",
        **common,
        "commands": [],
        "text": char,
        "unmodifiedText": char,
        "autoRepeat": False,
    }
    return down, {"type": "keyUp", **common}


class PlaywrightComputer(NetworkPolicyMixin, CaptureMixin, InputMixin):
    """A `Computer` driving Chromium through Playwright.

    Use as ``async with PlaywrightComputer(...) as computer:`` or call
    `start` / `close`. Coordinates are CSS pixels of the declared `size`
    (the viewport), which is also the size of every screenshot.
    """

    environment: Literal["browser"] = "browser"

    def __init__(
        self,
        *,
        size: tuple[int, int] = (1280, 720),
        device_scale_factor: float = 1.0,
        start_url: str | None = None,
        headless: bool = True,
        executable_path: str | Path | None = None,
        cdp_url: str | None = None,
        ws_endpoint: str | None = None,
        policy: DomainPolicy | None = None,
        downloads_dir: str | Path | None = None,
        image_format: ImageFormat = "png",
        quality: int | None = None,
        settle_max_s: float = 3.0,
        action_timeout_s: float = 10.0,
        navigation_timeout_s: float = 30.0,
        capture_timeout_s: float = 10.0,
        launch_timeout_s: float = 30.0,
        drag_steps: int = 5,
        launch_args: Sequence[str] = (),
        x_display: str | None = None,
    ) -> None:
        if cdp_url and ws_endpoint:
            raise ValueError("pass cdp_url or ws_endpoint, not both")
        if image_format not in ("png", "jpeg", "webp"):
            raise ValueError(f"unknown image format {image_format!r}")
        self._size = Size(int(size[0]), int(size[1]))
        self.device_scale_factor = float(device_scale_factor)
        self.start_url = start_url
        self.headless = headless
        self.executable_path = executable_path
        self.cdp_url = cdp_url
        self.ws_endpoint = ws_endpoint
        self.policy = policy if policy is not None else DomainPolicy()
        self.downloads_dir = Path(downloads_dir) if downloads_dir is not None else None
        self.image_format: ImageFormat = image_format
        self.quality = quality
        self.settle_max_s = settle_max_s
        self.action_timeout_s = action_timeout_s
        self.navigation_timeout_s = navigation_timeout_s
        self.capture_timeout_s = capture_timeout_s
        self.launch_timeout_s = launch_timeout_s
        self.drag_steps = max(1, int(drag_steps))
        self.launch_args = tuple(launch_args)
        # The X display a headed Chromium opens its window on (default: this process's DISPLAY).
        self.x_display = x_display

        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._pages: list[Page] = []
        self._active: Page | None = None
        self._sessions: dict[Page, CDPSession] = {}
        # set once a page's CDP interception is on (requests of the page wait for it)
        self._page_ready: dict[Page, asyncio.Future[None]] = {}
        # done once a page is fully set up, popup re-navigation included (actions wait)
        self._page_setup: dict[Page, asyncio.Future[None]] = {}
        self._crashed: set[Page] = set()
        self._events: list[ExecutorEvent] = []
        self._inflight: dict[Page, set[Request]] = {}
        self._net_activity: dict[Page, tuple[int, float]] = {}
        self._net_changed = asyncio.Event()
        self._popup_renavigate: set[str] = set()
        # navigations of pages that do not exist yet (popups being opened)
        self._orphans: set[Request] = set()
        self._held_keys: list[str] = []
        self._held_buttons: list[Button] = []
        self._mouse = (0.0, 0.0)
        self._use_clip: set[Page] = set()
        # every input (and navigation) bumps this when it starts and when it ends
        self._input_generation = 0
        self._prefetch = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._started = False
        self._proxy: PolicyProxy | None = None

    # -- properties ---------------------------------------------------------------

    @property
    def size(self) -> Size:
        """The declared display (viewport) size."""
        return self._size

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Every action of the protocol."""
        return BROWSER_CAPABILITIES

    @property
    def page(self) -> Page:
        """The Playwright page actions go to (for observing in tests and hooks)."""
        return self._current_page()

    @property
    def context(self) -> BrowserContext:
        """The isolated browser context of this computer."""
        if self._context is None:
            raise ExecutorClosedError("the browser is not started")
        return self._context

    # -- lifecycle ----------------------------------------------------------------

    async def __aenter__(self) -> PlaywrightComputer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Launch or attach to the browser and open the first page."""
        if self._started:
            return
        self._started = True
        try:
            await self._start()
        except BaseException:
            await self.close()
            raise

    async def _start(self) -> None:
        self._pw = await async_playwright().start()
        chromium = self._pw.chromium
        timeout_ms = self.launch_timeout_s * 1000
        try:
            if self.cdp_url:
                self._browser = await chromium.connect_over_cdp(self.cdp_url, timeout=timeout_ms)
            elif self.ws_endpoint:
                self._browser = await chromium.connect(self.ws_endpoint, timeout=timeout_ms)
            else:
                executable = find_chromium(self.executable_path)
                self._browser = await chromium.launch(
                    executable_path=str(executable),
                    headless=self.headless,
                    args=chromium_args(extra=self.launch_args),
                    downloads_path=self.downloads_dir,
                    proxy=self._start_proxy(),
                    timeout=timeout_ms,
                    env={**os.environ, "DISPLAY": self.x_display} if self.x_display else None,
                )
        except PlaywrightError as exc:
            where = self.cdp_url or self.ws_endpoint or "a local Chromium"
            raise BrowserLaunchError(f"could not start or reach {where}: {exc.message}") from exc
        if self.downloads_dir is not None:
            self.downloads_dir.mkdir(parents=True, exist_ok=True)
        context = await self._browser.new_context(
            viewport={"width": self._size.width, "height": self._size.height},
            screen={"width": self._size.width, "height": self._size.height},
            device_scale_factor=self.device_scale_factor,
            accept_downloads=self.downloads_dir is not None,
            service_workers="block",
        )
        self._context = context
        context.set_default_timeout(self.action_timeout_s * 1000)
        context.set_default_navigation_timeout(self.navigation_timeout_s * 1000)
        await context.add_init_script(SETTLE_INIT_SCRIPT)
        if not self.policy.is_open:
            await context.route("**/*", self._route)
            await context.route_web_socket("**/*", self._route_web_socket)
        context.on("page", self._on_page)
        context.on("request", self._on_request)
        context.on("requestfinished", self._on_request_done)
        context.on("requestfailed", self._on_request_done)
        self._browser.on("disconnected", lambda _: self._emit("warning", "browser disconnected"))
        page = await context.new_page()
        await self._ready(page, setup=True)
        if self.start_url:
            await self.navigate(self.start_url)

    async def close(self) -> None:
        """Release held inputs, close the context and the browser. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._active is not None and self._active not in self._crashed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._release_all(), 5)
        for task in list(self._tasks):
            task.cancel()
        if self._context is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._context.close(), 10)
        if self._browser is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._browser.close(), 10)
        if self._pw is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pw.stop(), 10)
        self._stop_proxy()
        self._pages.clear()
        self._active = None

    # -- events -------------------------------------------------------------------

    def _emit(self, kind: str, message: str, **data: object) -> None:
        logger.info("%s: %s", kind, message)
        self._events.append(ExecutorEvent(kind, message, dict(data)))

    def drain_events(self) -> list[ExecutorEvent]:
        """Return and forget the events noticed since the last call."""
        events, self._events = self._events, []
        return events

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- pages and tabs -----------------------------------------------------------

    def _on_page(self, page: Page) -> None:
        first = not self._pages
        self._pages.append(page)
        self._net_changed.set()
        page.on("close", self._on_close)
        page.on("crash", self._on_crash)
        page.on("download", self._on_download)
        page.on("dialog", lambda dialog: self._spawn(self._on_dialog(dialog)))
        self._page_ready[page] = asyncio.get_running_loop().create_future()
        self._page_setup[page] = asyncio.ensure_future(self._setup_page(page))
        previous = self._active
        self._active = page
        if not first:
            self._emit("tab_opened", f"new tab opened: {page.url}", url=page.url)
            self._emit(
                "tab_switched",
                f"now acting on the new tab {page.url}",
                url=page.url,
                previous_url=previous.url if previous is not None else None,
            )

    async def _setup_page(self, page: Page) -> None:
        """Open the page's CDP session and, with a policy, check its redirects."""
        ready = self._page_ready[page]
        try:
            session = await self._context_or_raise().new_cdp_session(page)
            self._sessions[page] = session
            if not self.policy.is_open:
                session.on("Fetch.requestPaused", lambda ev: self._on_paused(session, ev))
                await session.send(
                    "Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Response"}]}
                )
        except Exception as exc:
            logger.warning("could not set up CDP for %s: %s", page.url, exc)
            return
        finally:
            if not ready.done():
                ready.set_result(None)
        if page.url in self._popup_renavigate:
            # A popup's first navigation was held back until its redirects could be
            # checked (see `_route`); load it for real now.
            url = page.url
            self._popup_renavigate.discard(url)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    # Until the real document is parsed, an action would land on the
                    # empty placeholder (or be lost when it is replaced).
                    page.goto(url, wait_until="domcontentloaded"),
                    self.navigation_timeout_s,
                )

    async def _ready(self, page: Page, *, setup: bool = False) -> None:
        future = (self._page_setup if setup else self._page_ready).get(page)
        if future is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(future), self.navigation_timeout_s)

    def _on_close(self, page: Page) -> None:
        was_active = page is self._active
        if page in self._pages:
            self._pages.remove(page)
        self._sessions.pop(page, None)
        self._inflight.pop(page, None)
        self._use_clip.discard(page)
        if self._closed:
            return
        self._emit("tab_closed", f"tab closed: {page.url}", url=page.url)
        if was_active:
            self._active = self._pages[-1] if self._pages else None
            if self._active is not None:
                self._emit(
                    "tab_switched",
                    f"back to the previous tab {self._active.url}",
                    url=self._active.url,
                    previous_url=page.url,
                )

    def _on_crash(self, page: Page) -> None:
        self._crashed.add(page)
        self._emit("page_crashed", f"the page crashed: {page.url}", url=page.url)

    def _on_download(self, download: Download) -> None:
        self._spawn(self._save_download(download))

    async def _save_download(self, download: Download) -> None:
        if self.downloads_dir is None:
            return
        name = Path(download.suggested_filename).name or "download"
        target = self.downloads_dir / name
        try:
            await download.save_as(target)
        except PlaywrightError as exc:
            self._emit("download", f"download of {download.url} failed: {exc.message}")
            return
        self._emit("download", f"downloaded {download.url} to {target}", path=str(target))

    async def _on_dialog(self, dialog: Any) -> None:
        self._emit(
            "dialog",
            f"{dialog.type} dialog dismissed: {dialog.message}",
            dialog_type=dialog.type,
            text=dialog.message,
        )
        with contextlib.suppress(PlaywrightError):
            if dialog.type == "alert":
                await dialog.accept()
            else:
                await dialog.dismiss()

    def _context_or_raise(self) -> BrowserContext:
        if self._closed or self._context is None:
            raise ExecutorClosedError("the browser computer is closed")
        return self._context

    def _current_page(self) -> Page:
        self._context_or_raise()
        page = self._active
        if page is None:
            raise ExecutorClosedError("every tab has been closed")
        if page in self._crashed:
            raise ExecutorClosedError(f"the page crashed ({page.url}); start a new computer")
        if page.is_closed():
            raise ExecutorClosedError("the page is closed")
        return page

    async def _page(self) -> Page:
        if not self._closed and self._context is not None and self._active is None:
            page = await self._call(self._context.new_page(), "opening a new tab")
            self._emit("tab_opened", "every tab was closed; opened a blank one")
        page = self._current_page()
        await self._ready(page, setup=True)
        return page

    # -- network tracking (for settle) ---------------------------------------------

    def _touch(self, page: Page) -> None:
        count, _ = self._net_activity.get(page, (0, 0.0))
        self._net_activity[page] = (count + 1, time.monotonic())
        self._net_changed.set()

    def _on_request(self, request: Request) -> None:
        if request.resource_type in _UNTRACKED_RESOURCES:
            return
        page = page_of(request)
        if page is None:
            if request.is_navigation_request():
                self._orphans.add(request)
                self._net_changed.set()
            return
        self._inflight.setdefault(page, set()).add(request)
        self._touch(page)

    def _on_request_done(self, request: Request) -> None:
        self._orphans.discard(request)
        page = page_of(request)
        if page is None:
            return
        inflight = self._inflight.get(page)
        if inflight is not None and request in inflight:
            inflight.discard(request)
            self._touch(page)

    async def _wait_network_quiet(self, page: Page, deadline: float) -> bool:
        while True:
            now = time.monotonic()
            busy = len(self._inflight.get(page, ()))
            _, last = self._net_activity.get(page, (0, 0.0))
            quiet_for = now - last
            if busy == 0 and quiet_for >= _NETWORK_QUIET_S:
                return True
            if now >= deadline:
                return False
            wait = deadline - now if busy else min(deadline - now, _NETWORK_QUIET_S - quiet_for)
            self._net_changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._net_changed.wait(), max(wait, 0.001))

    # -- calls --------------------------------------------------------------------

    async def _call(self, coro: Awaitable[T], what: str, timeout: float | None = None) -> T:
        limit = self.action_timeout_s if timeout is None else timeout
        self._input_generation += 1  # a capture started before this is not current
        try:
            return await asyncio.wait_for(coro, limit)
        except asyncio.TimeoutError as exc:
            raise ActionFailedError(f"{what} did not finish within {limit:g} s") from exc
        except PlaywrightError as exc:
            if self._active in self._crashed:
                raise ExecutorClosedError(f"the page crashed during {what}") from exc
            if is_closed_error(exc):
                raise ExecutorClosedError(f"the browser or page closed during {what}") from exc
            raise ActionFailedError(f"{what} failed: {exc.message}") from exc
        finally:
            self._input_generation += 1

    async def _session(self, page: Page) -> CDPSession:
        session = self._sessions.get(page)
        if session is None:
            session = await self._call(
                self._context_or_raise().new_cdp_session(page), "opening a CDP session"
            )
            self._sessions[page] = session
        return session

    # -- actions ------------------------------------------------------------------

    async def click(
        self, x: int, y: int, button: Button = "left", keys: Sequence[str] = ()
    ) -> None:
        """Click `button` at (x, y) while holding `keys`."""
        await self._click(x, y, button, 1, keys)

    async def double_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Double-click the left button at (x, y)."""
        await self._click(x, y, "left", 2, keys)

    async def triple_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Triple-click the left button at (x, y)."""
        await self._click(x, y, "left", 3, keys)

    async def drag(
        self, path: Sequence[Point], keys: Sequence[str] = (), button: Button = "left"
    ) -> None:
        """Press at the first point, move through every other point, release at the last."""
        if len(path) < 2:
            raise ActionFailedError("a drag path needs at least two points")
        page = await self._page()
        async with self._holding(page, keys):
            first = path[0]
            await self._move(page, first[0], first[1])
            await self._button(page, True, button, keys)
            try:
                for point in path[1:]:
                    await self._move(page, point[0], point[1], steps=self.drag_steps)
            finally:
                await self._button(page, False, button, keys)

    async def move(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Move the pointer to (x, y)."""
        page = await self._page()
        async with self._holding(page, keys):
            await self._move(page, x, y)

    async def scroll(
        self, x: int, y: int, scroll_x: int, scroll_y: int, keys: Sequence[str] = ()
    ) -> None:
        """Send a real wheel event of (scroll_x, scroll_y) pixels with the pointer at (x, y)."""
        page = await self._page()
        async with self._holding(page, keys):
            if self._held_buttons:  # Playwright's mouse knows the buttons held
                await self._move(page, x, y)
                await self._call(
                    page.mouse.wheel(scroll_x, scroll_y), f"wheel ({scroll_x}, {scroll_y})"
                )
                return
            # Chromium dispatches mouse moves and wheels at the next animation frame
            # and answers each after it: sent one after the other they cost two
            # frames. The same two events as Playwright's move + wheel, sent together
            # on the page's CDP session (one ordered channel), cost one. (Every later
            # Playwright mouse call moves first, so its own idea of the pointer
            # position being behind does not matter.)
            session = await self._session(page)
            modifiers = self._modifier_bits(self._keys(keys))
            move = {
                "type": "mouseMoved",
                "button": "none",
                "buttons": 0,
                "x": x,
                "y": y,
                "modifiers": modifiers,
                "force": 0,
            }
            wheel = {
                "type": "mouseWheel",
                "x": x,
                "y": y,
                "modifiers": modifiers,
                "deltaX": scroll_x,
                "deltaY": scroll_y,
            }
            await self._call(
                asyncio.gather(
                    session.send("Input.dispatchMouseEvent", move),
                    session.send("Input.dispatchMouseEvent", wheel),
                ),
                f"wheel ({scroll_x}, {scroll_y}) at ({x}, {y})",
            )
            self._mouse = (x, y)

    async def type(self, text: str) -> None:
        """Type text into the focused element (key events for US-layout characters,
        text input for the rest)."""
        page = await self._page()
        timeout = self.action_timeout_s + len(text) / 50
        if self._held_keys or not set(text) <= _PLAIN_CHARS:
            await self._call(page.keyboard.type(text), "typing text", timeout=timeout)
            return
        # Lower-case letters, digits and spaces: the very key events Playwright's
        # keyboard.type sends (tests/executors/test_playwright_capture.py compares
        # them), but sent together on the page's CDP session instead of waiting
        # for Chromium to answer each of them (~1.7 ms each, 22 for 11 characters).
        session = await self._session(page)
        sends = []
        for char in text:
            for params in _plain_key_events(char):
                sends.append(session.send("Input.dispatchKeyEvent", params))
        await self._call(asyncio.gather(*sends), "typing text", timeout=timeout)

    async def keypress(self, keys: Sequence[str]) -> None:
        """Press a chord: every key down in order, then up in reverse order."""
        page = await self._page()
        names = self._keys(keys)
        if not names:
            raise ActionFailedError("keypress needs at least one key")
        async with self._holding(page, keys):
            pass

    async def key_down(self, key: str) -> None:
        """Press and hold `key` until key_up or release_all."""
        page = await self._page()
        name = self._keys([key])[0]
        if name in self._held_keys:
            return
        await self._key(page, name, True)
        self._held_keys.append(name)

    async def key_up(self, key: str) -> None:
        """Release a key held by key_down."""
        page = await self._page()
        name = self._keys([key])[0]
        # Released by the name it was pressed under (shift may have changed since).
        held = [k for k in self._held_keys if same_key(k, name)]
        for k in held:
            self._held_keys.remove(k)
        for k in held or [name]:
            await self._key(page, k, False)

    async def mouse_down(self, x: int, y: int, button: Button = "left") -> None:
        """Move to (x, y) and press `button` (held until mouse_up or release_all)."""
        page = await self._page()
        await self._move(page, x, y)
        await self._button(page, True, button)

    async def mouse_up(self, x: int, y: int, button: Button = "left") -> None:
        """Move to (x, y) and release `button`."""
        page = await self._page()
        await self._move(page, x, y)
        await self._button(page, False, button)

    async def wait(self, ms: int) -> None:
        """Wait `ms` milliseconds (the model asked for it)."""
        await asyncio.sleep(max(0, ms) / 1000)

    async def navigate(self, url: str) -> None:
        """Load `url` in the active tab; a URL the policy refuses shows the blocked page."""
        page = await self._page()
        decision = self.policy.check(url)
        if not decision.allowed:
            self._emit(
                "navigation_blocked",
                f"blocked navigation to {url}: {decision.reason}",
                url=url,
                reason=decision.reason,
            )
            await self._call(
                page.set_content(blocked_page_html(url, decision.reason)), "showing blocked page"
            )
            return
        self._input_generation += 1
        try:
            await asyncio.wait_for(page.goto(url, wait_until="commit"), self.navigation_timeout_s)
        except asyncio.TimeoutError:
            self._emit("warning", f"navigation to {url} did not commit in time", url=url)
        except PlaywrightError as exc:
            if is_closed_error(exc):
                raise ExecutorClosedError(f"the page closed while loading {url}") from exc
            # The page shows Chromium's error page; the model sees it.
            self._emit("warning", f"navigation to {url} failed: {exc.message}", url=url)
        finally:
            self._input_generation += 1

    async def current_url(self) -> str | None:
        """The active tab's URL."""
        return self._current_page().url

    async def release_all(self) -> None:
        """Release every held mouse button and key (reverse order of pressing)."""
        await self._release_all()

    async def _release_all(self) -> None:
        page = self._active
        if page is None or page.is_closed():
            self._held_buttons.clear()
            self._held_keys.clear()
            return
        for button in reversed(list(self._held_buttons)):
            with contextlib.suppress(ExecutorError):
                await self._button(page, False, button)
        self._held_buttons.clear()
        for key in reversed(list(self._held_keys)):
            with contextlib.suppress(ExecutorError):
                await self._key(page, key, False)
        self._held_keys.clear()

    def held(self) -> tuple[tuple[str, ...], tuple[Button, ...]]:
        """The keys (Playwright names) and mouse buttons held right now."""
        return tuple(self._held_keys), tuple(self._held_buttons)
