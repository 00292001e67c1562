"""Where a `PlaywrightComputer`'s browser comes from: shared per event loop, or its own.

- The Playwright driver (a node process) is shared by every computer of one
  event loop, ref-counted: the first computer starts it, the last close stops it.
- A local Chromium is shared too, by every computer of the loop launched
  with the same settings (executable, headless, flags, X display): each gets
  a browser context of its own. The last computer to leave closes the browser.
- ``isolated=True`` launches a browser of the computer's own (the driver is
  still shared); ``cdp_url`` / ``ws_endpoint`` attach to someone else's
  browser (always the computer's own connection).
- When a shared browser dies (crash, SIGKILL), every computer on it is told
  (`BrowserLease.on_gone`), and the next computer launched gets a fresh one.
- `keep_shared_browsers()` holds the loop's driver and keeps its shared browsers
  open between computers (a batch whose attempts come and go, one at a time or
  N at a time, starts one driver and one browser, not one per attempt); they
  close when the last holder leaves and no computer uses them.

Playwright's objects belong to the event loop that made them, so sharing is
per loop: agents run with asyncio in one loop share one browser; threads
running their own loops (``run_sync`` in a thread pool) share per thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import (
    Browser,
    BrowserContext,
    BrowserType,
    Playwright,
    ProxySettings,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError

from executors._browser._logins import Logins
from sandbox import BrowserLaunchError, chromium_args, find_chromium

__all__ = [
    "BrowserLease",
    "DriverLease",
    "LaunchSettings",
    "keep_shared_browsers",
    "launch_profile",
    "lease_browser",
]

logger = logging.getLogger(__name__)

_CLOSE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class LaunchSettings:
    """What decides whether two computers may share a launched browser."""

    executable: str
    headless: bool
    args: tuple[str, ...]
    x_display: str | None

    def env(self) -> dict[str, str | float | bool] | None:
        return {**os.environ, "DISPLAY": self.x_display} if self.x_display else None


@dataclass(eq=False)
class _Shared:
    """One shared browser of a driver: its launch, its users and whether it died."""

    settings: LaunchSettings
    refs: int = 0
    browser: Browser | None = None
    gone: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    listeners: set[Callable[[], None]] = field(default_factory=set)


@dataclass(eq=False)
class _Driver:
    """The Playwright driver of one event loop and the browsers shared through it."""

    refs: int = 0
    pw: Playwright | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    shared: dict[LaunchSettings, _Shared] = field(default_factory=dict)
    keepers: int = 0
    """`keep_shared_browsers` holders: while any, an unused shared browser stays open."""


_drivers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Driver] = (
    weakref.WeakKeyDictionary()
)
_registry_lock = threading.Lock()


class BrowserLease:
    """A computer's hold on a browser; `release` gives it back (idempotent)."""

    def __init__(self, driver: _Driver, browser: Browser, shared: _Shared | None) -> None:
        self._driver = driver
        self.browser = browser
        self._shared = shared
        self._released = False
        self._callbacks: list[Callable[[], None]] = []

    @property
    def shared(self) -> bool:
        """Whether other computers may be using the same browser."""
        return self._shared is not None

    def on_gone(self, callback: Callable[[], None]) -> None:
        """Call `callback` once if the browser dies before this lease is released."""
        if self._shared is not None:
            if self._shared.gone:
                callback()
            else:
                self._callbacks.append(callback)
                self._shared.listeners.add(callback)
        else:
            self.browser.on("disconnected", lambda _: callback())

    async def release(self) -> None:
        if self._released:
            return
        self._released = True
        shared = self._shared
        if shared is None:
            await _bounded(self.browser.close())
        else:
            shared.listeners.difference_update(self._callbacks)
            await _release_shared(self._driver, shared)
        await _release_driver(self._driver)


async def lease_browser(
    *,
    isolated: bool,
    executable_path: str | Path | None,
    headless: bool,
    launch_args: tuple[str, ...],
    x_display: str | None,
    cdp_url: str | None,
    ws_endpoint: str | None,
    timeout_s: float,
    proxy: Callable[[], ProxySettings | None],
    downloads_path: Path | None,
) -> BrowserLease:
    """A browser for one computer: the loop's shared one, or (isolated, remote) its own.

    `proxy` is called only for a browser launched for this computer alone (a
    shared browser gets its proxy per context).
    """
    driver = await _acquire_driver()
    try:
        chromium = _pw(driver).chromium
        timeout_ms = timeout_s * 1000
        try:
            if cdp_url:
                browser = await chromium.connect_over_cdp(cdp_url, timeout=timeout_ms)
                return BrowserLease(driver, browser, None)
            if ws_endpoint:
                browser = await chromium.connect(ws_endpoint, timeout=timeout_ms)
                return BrowserLease(driver, browser, None)
            settings = LaunchSettings(
                str(find_chromium(executable_path)),
                headless,
                tuple(chromium_args(extra=launch_args)),
                x_display,
            )
            if isolated:
                browser = await chromium.launch(
                    executable_path=settings.executable,
                    headless=headless,
                    args=list(settings.args),
                    downloads_path=downloads_path,
                    proxy=proxy(),
                    timeout=timeout_ms,
                    env=settings.env(),
                )
                return BrowserLease(driver, browser, None)
            shared = await _acquire_shared(driver, settings, timeout_ms)
            assert shared.browser is not None
            return BrowserLease(driver, shared.browser, shared)
        except PlaywrightError as exc:
            where = cdp_url or ws_endpoint or "a local Chromium"
            raise BrowserLaunchError(f"could not start or reach {where}: {exc.message}") from exc
    except BaseException:
        await _release_driver(driver)
        raise


class DriverLease:
    """The loop's driver, held by a computer whose browser runs on a profile directory
    (``user_data_dir``): such a browser is never shared, Chromium locks the directory."""

    def __init__(self, driver: _Driver) -> None:
        self._driver = driver
        self.chromium: BrowserType = _pw(driver).chromium

    async def release(self) -> None:
        await _release_driver(self._driver)


async def launch_profile(
    logins: Logins,
    *,
    executable_path: str | Path | None,
    headless: bool,
    launch_args: tuple[str, ...],
    x_display: str | None,
    timeout_s: float,
    proxy: ProxySettings | None,
    downloads_path: Path | None,
    context_options: dict[str, Any],
) -> tuple[DriverLease, BrowserContext]:
    """Chromium of a computer's own on its profile directory (``user_data_dir``), on the
    loop's shared driver: the driver's lease (release it at close) and the context."""
    lease = DriverLease(await _acquire_driver())
    try:
        settings = LaunchSettings(
            str(find_chromium(executable_path)),
            headless,
            tuple(chromium_args(extra=launch_args)),
            x_display,
        )
        context = await logins.launch_persistent(
            lease.chromium,
            executable_path=settings.executable,
            headless=headless,
            args=list(settings.args),
            downloads_path=downloads_path,
            proxy=proxy,
            timeout=timeout_s * 1000,
            env=settings.env(),
            **context_options,
        )
    except BaseException as exc:
        await lease.release()
        if isinstance(exc, PlaywrightError):
            raise BrowserLaunchError(
                f"could not start Chromium on a profile: {exc.message}"
            ) from exc
        raise
    return lease, context


@contextlib.asynccontextmanager
async def keep_shared_browsers() -> AsyncIterator[None]:
    """Keep this loop's Playwright driver, and every shared browser it launches, open
    until the block ends (then the unused ones close; the ones in use close with
    their last computer). The driver starts here; a browser only when a computer
    asks for one. A shared browser that dies meanwhile is forgotten as always: the
    next computer gets a fresh one, kept the same way."""
    driver = await _acquire_driver()
    driver.keepers += 1
    try:
        yield
    finally:
        driver.keepers -= 1
        if driver.keepers == 0:
            idle = [s for s in driver.shared.values() if s.refs == 0]
            for shared in idle:
                await _close_shared(driver, shared)
        await _release_driver(driver)


# -- the driver -------------------------------------------------------------------------


def _pw(driver: _Driver) -> Playwright:
    assert driver.pw is not None
    return driver.pw


async def _acquire_driver() -> _Driver:
    loop = asyncio.get_running_loop()
    with _registry_lock:
        driver = _drivers.get(loop)
        if driver is None:
            driver = _drivers[loop] = _Driver()
        driver.refs += 1  # before any await: a release meanwhile cannot stop it
    try:
        async with driver.lock:
            if driver.pw is None:
                driver.pw = await async_playwright().start()
    except BaseException:
        await _release_driver(driver)
        raise
    return driver


async def _release_driver(driver: _Driver) -> None:
    with _registry_lock:
        driver.refs -= 1
        if driver.refs > 0:
            return
        # forget it before awaiting: a computer starting meanwhile starts a new driver
        for loop, known in list(_drivers.items()):
            if known is driver:
                del _drivers[loop]
    if driver.pw is not None:
        pw, driver.pw = driver.pw, None
        await _bounded(pw.stop())


# -- the shared browsers ----------------------------------------------------------------


async def _acquire_shared(driver: _Driver, settings: LaunchSettings, timeout_ms: float) -> _Shared:
    shared = driver.shared.get(settings)
    if shared is None or shared.gone:
        shared = driver.shared[settings] = _Shared(settings)
    shared.refs += 1
    try:
        async with shared.lock:
            if shared.gone:
                raise BrowserLaunchError("the shared browser died while starting")
            if shared.browser is None:
                browser = await _pw(driver).chromium.launch(
                    executable_path=settings.executable,
                    headless=settings.headless,
                    args=list(settings.args),
                    timeout=timeout_ms,
                    env=settings.env(),
                )
                shared.browser = browser
                browser.on("disconnected", lambda _: _gone(driver, shared))
                logger.info("launched a shared Chromium (%s)", settings.executable)
    except BaseException:
        await _release_shared(driver, shared)
        raise
    return shared


def _gone(driver: _Driver, shared: _Shared) -> None:
    """The shared browser disconnected: tell its computers, launch afresh next time."""
    if shared.gone:
        return
    shared.gone = True
    if driver.shared.get(shared.settings) is shared:
        del driver.shared[shared.settings]
    listeners, shared.listeners = list(shared.listeners), set()
    if listeners:
        logger.warning("the shared browser is gone (%d computer(s) on it)", len(listeners))
    for callback in listeners:
        try:
            callback()
        except Exception:
            logger.exception("a computer's browser-gone callback failed")


async def _release_shared(driver: _Driver, shared: _Shared) -> None:
    shared.refs -= 1
    if shared.refs > 0:
        return
    if driver.keepers > 0 and not shared.gone and shared.browser is not None:
        return  # kept open for the next computer (keep_shared_browsers)
    await _close_shared(driver, shared)


async def _close_shared(driver: _Driver, shared: _Shared) -> None:
    if driver.shared.get(shared.settings) is shared:
        del driver.shared[shared.settings]
    shared.gone = True  # closing it on purpose: no one is left to tell
    shared.listeners.clear()
    if shared.browser is not None:
        await _bounded(shared.browser.close())


async def _bounded(coro: Any) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(coro, _CLOSE_TIMEOUT_S)
