"""`PlaywrightComputer`: the `Computer` protocol on a real Chromium.

- Launches Chromium found by `sandbox.find_chromium` (never ``playwright
  install``), or attaches to a remote browser by CDP URL or a Playwright
  websocket endpoint. Each computer gets a fresh, isolated browser context.
  Computers of one event loop share one Playwright driver and, unless
  ``isolated=True``, one launched Chromium (see `executors._browser._launch`).
- Input is real input events (CDP ``Input.dispatch*`` through Playwright's
  mouse and keyboard); back/forward buttons, which Playwright's mouse lacks,
  go straight through CDP.
- Capture is CDP ``Page.captureScreenshot`` (PNG with ``optimizeForSpeed`` by
  default; ``compression="small"`` without it; ``lossless=True`` WebP is the
  fast PNG converted by libwebp, see `executors._encoding`), at the declared
  size whatever the device scale factor: without a clip first (this Chromium
  returns CSS-pixel size), else with a CSS clip at scale 1, else a Pillow resize.
- New tabs and popups are followed: actions go to the newest page; when it
  closes, to the previous one. Each switch is an `ExecutorEvent`.
- The domain policy is enforced at the network layer: ``context.route`` sees
  the first hop of every request of every page (popups, iframes, fetch, XHR,
  workers); a per-page CDP ``Fetch`` interception at the response stage checks
  every redirect target, which Playwright's router never sees. WebSockets go
  through ``context.route_web_socket``; service workers are blocked. A browser
  launched here also sends all its traffic through `sandbox.PolicyProxy` (a
  backstop for worker requests the layers above miss); a cdp_url / ws_endpoint
  browser on this machine's loopback (and a shared browser) gets it as its
  context's proxy, one
  elsewhere cannot reach it (`policy_layers` says which layers apply).
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
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from playwright.async_api import Browser, BrowserContext, Page

from executors._browser._activity import NetworkActivity
from executors._browser._capture import Capture
from executors._browser._dialogs import DialogPolicy, Dialogs
from executors._browser._keyboard import Keyboard
from executors._browser._launch import BrowserLease, DriverLease, launch_profile, lease_browser
from executors._browser._logins import Logins
from executors._browser._mouse import Mouse
from executors._browser._policy import NetworkPolicy
from executors._browser._scripts import SETTLE_INIT_SCRIPT
from executors._browser._selects import SELECT_INIT_SCRIPT
from executors._browser._shared import BrowserOptions, BrowserState, Option
from executors._browser._shortcuts import Shortcuts
from executors._browser._tabs import Tabs
from executors._browser._transfers import Transfers
from executors._computer import (
    ALL_CAPABILITIES,
    Button,
    Capability,
    ExecutorEvent,
    ImageFormat,
    Point,
    Screenshot,
    SettleResult,
    Size,
)
from executors._encoding import Compression, ImageEncoding
from executors._errors import ActionFailedError, ExecutorClosedError
from sandbox import DomainPolicy

__all__ = ["BROWSER_CAPABILITIES", "PlaywrightComputer"]

logger = logging.getLogger(__name__)

BROWSER_CAPABILITIES: frozenset[Capability] = ALL_CAPABILITIES


class PlaywrightComputer:
    """A `Computer` driving Chromium through Playwright.

    Use as ``async with PlaywrightComputer(...) as computer:`` or call
    `start` / `close`. Coordinates are CSS pixels of the declared `size`
    (the viewport), which is also the size of every screenshot.

    `settle` waits up to `settle_max_s` (or what it is given) for the screen,
    and up to `navigation_settle_s` while a navigation or requests started
    since are in flight; past that the model is told the page is still loading.

    Downloads are saved into `downloads_dir` (default: a directory of its own,
    removed at close; the agent's recorder moves them into the run directory).
    File choosers are answered by `choose_file` from `upload_dir`, or cancelled.

    Saved logins (`Logins`): ``storage_state`` (a Playwright storage-state file to
    start from), ``save_storage_state`` (written at close, mode 0600) or
    ``user_data_dir`` (a persistent Chromium profile).

    `dialogs` says who answers JavaScript dialogs: ``model`` (drawn into the
    screenshot, answered by the model's clicks and keys; dismissed after
    `dialog_auto_dismiss_after` screenshots unanswered), ``accept`` or ``dismiss``.

    Computers started in one event loop share one Playwright driver and one
    Chromium (a context each; the last to close shuts it); ``isolated=True``
    gives this computer a Chromium of its own. If the browser dies, actions
    raise `BrowserGoneError`.

    Screenshots: `image_format`, `quality` (lossy), `lossless` (WebP) and
    `compression` (``fast`` | ``small``), settable later (`executors._encoding`).

    A shell over its parts: `Tabs` (pages, the active one, page events),
    `NetworkPolicy`, `NetworkActivity`, `Keyboard`, `Mouse`, `Capture`,
    `Dialogs` and `Shortcuts`.
    """

    environment: Literal["browser"] = "browser"

    image_format: Option[ImageFormat] = Option()
    quality: Option[int | None] = Option()
    lossless: Option[bool] = Option()
    compression: Option[Compression] = Option()
    settle_max_s: Option[float] = Option()
    action_timeout_s: Option[float] = Option()
    navigation_timeout_s: Option[float] = Option()
    navigation_settle_s: Option[float] = Option()
    capture_timeout_s: Option[float] = Option()
    drag_steps: Option[int] = Option()
    downloads_dir: Option[Path | None] = Option()

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
        upload_dir: str | Path | None = None,
        image_format: ImageFormat = "png",
        quality: int | None = None,
        settle_max_s: float = 3.0,
        action_timeout_s: float = 10.0,
        navigation_timeout_s: float = 30.0,
        navigation_settle_s: float = 10.0,
        capture_timeout_s: float = 10.0,
        launch_timeout_s: float = 30.0,
        drag_steps: int = 5,
        launch_args: Sequence[str] = (),
        x_display: str | None = None,
        dialogs: DialogPolicy = "model",
        dialog_auto_dismiss_after: int = 5,
        storage_state: str | Path | None = None,
        user_data_dir: str | Path | None = None,
        save_storage_state: str | Path | None = None,
        isolated: bool = False,
        lossless: bool = False,
        compression: Compression = "fast",
    ) -> None:
        if cdp_url and ws_endpoint:
            raise ValueError("pass cdp_url or ws_endpoint, not both")
        # saved logins (executors/_browser/_logins.py): a state file, or a profile directory
        self.logins = Logins.checked(
            storage_state, user_data_dir, save_storage_state, remote=bool(cdp_url or ws_endpoint)
        )
        encoding = ImageEncoding.check(image_format, quality, lossless, compression)
        self._options = BrowserOptions(
            size=Size(int(size[0]), int(size[1])),
            image_format=encoding.format,
            quality=encoding.quality,
            lossless=encoding.lossless,
            compression=encoding.compression,
            settle_max_s=settle_max_s,
            action_timeout_s=action_timeout_s,
            navigation_timeout_s=navigation_timeout_s,
            navigation_settle_s=navigation_settle_s,
            capture_timeout_s=capture_timeout_s,
            drag_steps=max(1, int(drag_steps)),
            downloads_dir=Path(downloads_dir) if downloads_dir is not None else None,
        )
        self.device_scale_factor = float(device_scale_factor)
        self.start_url = start_url
        self.headless = headless
        self.executable_path = executable_path
        self.cdp_url = cdp_url
        self.ws_endpoint = ws_endpoint
        self.launch_timeout_s = launch_timeout_s
        self.launch_args = tuple(launch_args)
        # The X display a headed Chromium opens its window on (default: this process's DISPLAY).
        self.x_display = x_display

        self._state = BrowserState(self._options)
        self._dialogs = Dialogs(
            self._state, lambda: self._tabs.active, dialogs, dialog_auto_dismiss_after
        )
        self._policy = NetworkPolicy(policy if policy is not None else DomainPolicy(), self._state)
        self._activity = NetworkActivity()
        self._tabs = Tabs(self._state, self._policy)
        self._keyboard = Keyboard(self._tabs, self._options)
        self._mouse = Mouse(self._tabs, self._keyboard, self._options)
        self._capture = Capture(
            self._state, self._tabs, self._activity, self._policy, self._dialogs
        )
        self._shortcuts = Shortcuts(self._state, self._tabs)
        self._tabs.on_dialog = self._dialogs.on_dialog
        self._transfers = Transfers(
            self._state,
            self._options.downloads_dir,
            Path(upload_dir) if upload_dir is not None else None,
        )
        self._tabs.on_download = self._transfers.on_download
        self._tabs.on_file_chooser = self._transfers.on_file_chooser
        self._tabs.on_close.append(self._dialogs.forget)
        self._tabs.on_open.append(lambda _: self._activity.wake())
        self._tabs.on_close += [self._activity.forget, self._capture.forget]

        self.isolated = isolated
        self._lease: BrowserLease | None = None
        self._driver_lease: DriverLease | None = None  # a profile directory's browser
        self._started = False

    # -- properties ---------------------------------------------------------------

    @property
    def size(self) -> Size:
        """The declared display (viewport) size."""
        return self._options.size

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Every action of the protocol."""
        return BROWSER_CAPABILITIES

    @property
    def policy(self) -> DomainPolicy:
        """The domain policy enforced on every request."""
        return self._policy.domains

    @property
    def page(self) -> Page:
        """The Playwright page actions go to (for observing in tests and hooks)."""
        return self._tabs.current()

    @property
    def context(self) -> BrowserContext:
        """The isolated browser context of this computer."""
        if self._tabs.context is None:
            raise ExecutorClosedError("the browser is not started")
        return self._tabs.context

    @property
    def browser(self) -> Browser:
        """The Playwright browser this computer's context lives in (shared or its own)."""
        if self._lease is None or self._state.closed:
            raise ExecutorClosedError("the browser is not started")
        return self._lease.browser

    # -- lifecycle ----------------------------------------------------------------

    def _on_browser_gone(self) -> None:
        if self._state.closed:
            return
        what = "shared " if self._lease is not None and self._lease.shared else ""
        self._state.browser_gone = f"the {what}browser process is gone (crashed or killed)"
        self._state.emit("warning", "browser disconnected")

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
        """Launch or attach to the browser and open the first page (as `navigate` does)."""
        if self._started:
            return
        self._started = True
        try:
            await self._start()
        except BaseException:
            await self.close()
            raise

    async def _start(self) -> None:
        if self.logins.user_data_dir is not None:
            self._driver_lease, context = await launch_profile(
                self.logins,
                executable_path=self.executable_path,
                headless=self.headless,
                launch_args=self.launch_args,
                x_display=self.x_display,
                timeout_s=self.launch_timeout_s,
                proxy=self._policy.start_proxy(),
                downloads_path=self.downloads_dir,
                context_options=self._context_options(),
            )
        else:
            self._lease = await lease_browser(
                isolated=self.isolated,
                executable_path=self.executable_path,
                headless=self.headless,
                launch_args=self.launch_args,
                x_display=self.x_display,
                cdp_url=self.cdp_url,
                ws_endpoint=self.ws_endpoint,
                timeout_s=self.launch_timeout_s,
                proxy=self._policy.start_proxy,
                downloads_path=self.downloads_dir,
            )
            self._lease.on_gone(self._on_browser_gone)
            context = await self._lease.browser.new_context(
                **self._context_options(),
                storage_state=self.logins.state_to_load(),
                proxy=self._policy.context_proxy(
                    self.cdp_url or self.ws_endpoint, self._lease.shared
                ),
            )
        self._tabs.context = context
        context.set_default_timeout(self.action_timeout_s * 1000)
        context.set_default_navigation_timeout(self.navigation_timeout_s * 1000)
        await context.add_init_script(SETTLE_INIT_SCRIPT)
        await context.add_init_script(SELECT_INIT_SCRIPT)
        if not self._policy.is_open:
            await context.route("**/*", self._policy.route)
            await context.route_web_socket("**/*", self._policy.route_web_socket)
        context.on("page", self._tabs.on_page)
        context.on("request", self._activity.on_request)
        context.on("requestfinished", self._activity.on_request_done)
        context.on("requestfailed", self._activity.on_request_done)
        stale = list(context.pages)  # a profile directory opens with a blank tab of its own
        page = await context.new_page()
        for old in stale:
            with contextlib.suppress(Exception):
                await old.close()
        await self._tabs.ready(page)
        if self.start_url:
            await self.navigate(self.start_url)

    @property
    def remote(self) -> Literal["cdp", "ws"] | None:
        """How the browser was reached when screenloop did not launch it (else None)."""
        return "cdp" if self.cdp_url else "ws" if self.ws_endpoint else None

    @property
    def policy_layers(self) -> tuple[str, ...]:
        """The domain policy's layers on this browser (none for an open policy).

        ``routes`` (first hops, WebSockets), ``redirects`` (the per-page CDP
        interception) and ``proxy`` (the socket-level backstop): a browser
        screenloop launched, or a remote one on this machine's loopback, gets all
        three (a remote one through its context's proxy setting); a remote browser
        on another machine cannot reach the proxy and gets the first two.
        """
        if self._policy.is_open:
            return ()
        layers = ("routes", "redirects")
        return (*layers, "proxy") if self._policy.proxy_running else layers

    def _context_options(self) -> dict[str, Any]:
        size = self._options.size
        return {
            "viewport": {"width": size.width, "height": size.height},
            "screen": {"width": size.width, "height": size.height},
            "device_scale_factor": self.device_scale_factor,
            "accept_downloads": True,
            "service_workers": "block",
        }

    async def save_storage_state(self, path: str | Path) -> Path:
        """Write the context's cookies and local storage to `path` (mode 0600; it holds
        logins): load it again with ``storage_state=path``."""
        return await self.logins.save(self.context, Path(path))

    async def close(self) -> None:
        """Release held inputs, save the storage state when asked, close the context and
        the browser. Idempotent."""
        if self._state.closed:
            return
        self._state.closed = True
        active = self._tabs.active
        if active is not None and not self._tabs.is_crashed(active):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.release_all(), 5)
        for task in list(self._state.tasks):
            task.cancel()
        if self._tabs.context is not None and self.logins.save_to is not None:
            try:
                await asyncio.wait_for(self.logins.save(self._tabs.context), 10)
            except Exception as exc:
                logger.warning("could not save the storage state: %s", exc)
        if self._tabs.context is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._tabs.context.close(), 10)
        if self._lease is not None:
            await self._lease.release()  # the last computer on a shared browser closes it
        if self._driver_lease is not None:
            await self._driver_lease.release()
        self._policy.stop_proxy()
        self._tabs.clear()
        self._transfers.close()

    def drain_events(self) -> list[ExecutorEvent]:
        """Return and forget the events noticed since the last call."""
        return self._state.drain_events()

    # -- actions ------------------------------------------------------------------
    # A dialog open on the active page (dialogs="model") takes the input meant for
    # it: clicks on its buttons, Enter/Escape, typing into a prompt (see `Dialogs`).

    async def click(
        self, x: int, y: int, button: Button = "left", keys: Sequence[str] = ()
    ) -> None:
        """Click `button` at (x, y) while holding `keys`."""
        await self._pointer(x, y, lambda page: self._mouse.click(page, x, y, button, 1, keys))

    async def double_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Double-click the left button at (x, y)."""
        await self._pointer(x, y, lambda page: self._mouse.click(page, x, y, "left", 2, keys))

    async def triple_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Triple-click the left button at (x, y)."""
        await self._pointer(x, y, lambda page: self._mouse.click(page, x, y, "left", 3, keys))

    async def drag(
        self, path: Sequence[Point], keys: Sequence[str] = (), button: Button = "left"
    ) -> None:
        """Press at the first point, move through every other point, release at the last."""
        if len(path) < 2:
            raise ActionFailedError("a drag path needs at least two points")
        await self._act(lambda page: self._mouse.drag(page, path, keys, button))

    async def move(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Move the pointer to (x, y)."""
        await self._act(lambda page: self._mouse.move(page, x, y, keys))

    async def scroll(
        self, x: int, y: int, scroll_x: int, scroll_y: int, keys: Sequence[str] = ()
    ) -> None:
        """Send a real wheel event of (scroll_x, scroll_y) pixels with the pointer at (x, y)."""
        await self._act(lambda page: self._mouse.wheel(page, x, y, scroll_x, scroll_y, keys))

    async def type(self, text: str) -> None:
        """Type text into the focused element (key events for US-layout characters,
        text input for the rest)."""
        if (dialog := self._dialogs.on_active()) is not None:
            self._dialogs.type(dialog.page, text)
            return
        taken, enter = self._shortcuts.type(text)
        if taken:
            if enter:
                await self._dialogs.race(self._shortcuts.enter())
            return
        await self._act(lambda page: self._keyboard.type(page, text), keyboard=True)

    async def keypress(self, keys: Sequence[str]) -> None:
        """Press a chord: every key down in order, then up in reverse order.

        Browser shortcuts (Ctrl+W, Ctrl+Tab, Alt+Left, Ctrl+L...) are done as
        browser commands (see `executors._browser._shortcuts`).
        """
        if (dialog := self._dialogs.on_active()) is not None:
            self._dialogs.press(dialog.page, keys)
            return
        finished, taken = await self._dialogs.race(self._shortcuts.press(keys))
        if finished and not taken:
            await self._act(lambda page: self._keyboard.press(page, keys), keyboard=True)

    async def key_down(self, key: str) -> None:
        """Press and hold `key` until key_up or release_all."""
        await self._act(lambda page: self._keyboard.down(page, key), keyboard=True)

    async def key_up(self, key: str) -> None:
        """Release a key held by key_down."""
        await self._act(lambda page: self._keyboard.up(page, key), keyboard=True)

    async def mouse_down(self, x: int, y: int, button: Button = "left") -> None:
        """Move to (x, y) and press `button` (held until mouse_up or release_all)."""
        await self._act(lambda page: self._mouse.down(page, x, y, button))

    async def mouse_up(self, x: int, y: int, button: Button = "left") -> None:
        """Move to (x, y) and release `button`."""
        await self._pointer(x, y, lambda page: self._mouse.up(page, x, y, button))

    async def _pointer(self, x: int, y: int, action: Callable[[Page], Awaitable[None]]) -> None:
        """A click-like action: on an open dialog it answers the dialog."""
        if (dialog := self._dialogs.on_active()) is not None:
            self._dialogs.click(dialog.page, x, y)
            return
        await self._act(action)

    async def _act(
        self, action: Callable[[Page], Awaitable[None]], *, keyboard: bool = False
    ) -> None:
        """Run `action` on the active page, until it is done or opens a dialog.

        The page closing under it is no failure; a pointer action takes the
        focus from the address bar; with a dialog open the action does nothing.
        """
        if not keyboard:
            self._shortcuts.leave()
        if (dialog := self._dialogs.on_active()) is not None:
            self._state.emit(
                "dialog",
                f"action ignored: a {dialog.kind} dialog is open",
                notice="A dialog is open: answer it first (the last action did nothing).",
            )
            return
        page = await self._tabs.page()
        async with self._tabs.acting(page):
            await self._dialogs.race(action(page))

    async def wait(self, ms: int) -> None:
        """Wait `ms` milliseconds (the model asked for it)."""
        await asyncio.sleep(max(0, ms) / 1000)

    async def navigate(self, url: str) -> None:
        """Load `url` in the active tab until its document is parsed (bounded).

        A URL the policy refuses shows the blocked page; a dialog in the way is
        answered first (a "Leave site?" one with Leave). Bound: `navigation_settle_s`."""
        if (dialog := self._dialogs.on_active()) is not None:
            self._dialogs.leave(dialog.page)
        await self._dialogs.race(self._tabs.goto(url))

    async def current_url(self) -> str | None:
        """The active tab's URL."""
        return self._tabs.current().url

    async def screenshot(self) -> Screenshot:
        """Capture the active page's viewport at the declared size.

        Right after a `settle` that found the page unchanged since it started a
        capture (and no input since), that capture is the screenshot.
        """
        return await self._capture.screenshot()

    async def settle(self, max_wait_s: float | None = None) -> SettleResult:
        """Wait (bounded) for network quiet and unchanged animation frames.

        The screenshot is captured meanwhile (see the module docstring) and kept
        for a `screenshot` call that follows at once.
        """
        result = await self._capture.settle(max_wait_s)
        await self._transfers.saved(self._options.navigation_settle_s)
        self._tabs.tell_position()
        return result

    async def choose_file(self, name: str) -> str:
        """Give the open file chooser the file `name` of `upload_dir` (nothing else)."""
        return await self._transfers.choose(name)

    @property
    def upload_dir(self) -> Path | None:
        """The only directory files may be uploaded from (None: uploads refused)."""
        return self._transfers.upload_dir

    async def release_all(self) -> None:
        """Release every held mouse button and key (reverse order of pressing)."""
        page = self._tabs.active
        if page is None or page.is_closed():
            self._mouse.held.clear()
            self._keyboard.held.clear()
            return
        await self._mouse.release_all(page)
        await self._keyboard.release_all(page)

    def held(self) -> tuple[tuple[str, ...], tuple[Button, ...]]:
        """The keys (Playwright names) and mouse buttons held right now."""
        return tuple(self._keyboard.held), tuple(self._mouse.held)
