"""What the parts of one `PlaywrightComputer` share: its options and a small state.

Every part (tabs, network policy, network activity, keyboard, mouse, capture)
gets the `BrowserState` and the other parts it needs passed in; none of them
sees the computer itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, overload

from playwright.async_api import CDPSession, Page, Request
from playwright.async_api import Error as PlaywrightError

from executors._computer import ExecutorEvent, ImageFormat, Size
from executors._encoding import Compression, ImageEncoding

__all__ = [
    "BrowserOptions",
    "BrowserState",
    "Channel",
    "Option",
    "is_closed_error",
    "page_of",
    "wait_page_step",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


V = TypeVar("V")


class Option(Generic[V]):
    """An attribute of the computer kept in its `BrowserOptions`, where the parts read it."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type) -> Option[V]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> V: ...

    def __get__(self, obj: object | None, owner: type) -> Option[V] | V:
        if obj is None:
            return self
        value: V = getattr(obj._options, self._name)  # type: ignore[attr-defined]
        return value

    def __set__(self, obj: object, value: V) -> None:
        setattr(obj._options, self._name, value)  # type: ignore[attr-defined]


@dataclass
class BrowserOptions:
    """The settings the parts read at use time (the computer's attributes of the same name)."""

    size: Size
    image_format: ImageFormat
    quality: int | None
    settle_max_s: float
    action_timeout_s: float
    navigation_timeout_s: float
    navigation_settle_s: float
    capture_timeout_s: float
    drag_steps: int
    downloads_dir: Path | None
    lossless: bool = False
    compression: Compression = "fast"

    def encoding(self) -> ImageEncoding:
        """The image options as one `ImageEncoding` (read at each capture)."""
        return ImageEncoding(self.image_format, self.quality, self.lossless, self.compression)


class BrowserState:
    """Events noticed, background tasks, the input generation and the closed flag."""

    def __init__(self, options: BrowserOptions) -> None:
        self.options = options
        self.events: list[ExecutorEvent] = []
        self.tasks: set[asyncio.Task[Any]] = set()
        # every input (and navigation) bumps this when it starts and when it ends
        self.input_generation = 0
        self.closed = False
        # why the browser process is gone (crash, kill), once it is
        self.browser_gone: str | None = None

    def emit(self, kind: str, message: str, *, notice: str = "", **data: object) -> None:
        """Log an event and keep it for `drain_events`; `notice` is the line for the model."""
        logger.info("%s: %s", kind, message)
        self.events.append(ExecutorEvent(kind, message, dict(data), notice))

    def drain_events(self) -> list[ExecutorEvent]:
        """Return and forget the events noticed since the last call."""
        events, self.events = self.events, []
        return events

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Future[Any]:
        """Run `coro` in the background; `close` cancels it if it is still running."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


class Channel(Protocol):
    """How the keyboard and mouse reach the page: bounded calls and its CDP session."""

    async def call(self, coro: Awaitable[T], what: str, timeout: float | None = None) -> T:
        """Await a Playwright call, bounded, with its errors made executor errors."""
        ...

    async def session(self, page: Page) -> CDPSession:
        """The page's CDP session."""
        ...


def is_closed_error(exc: BaseException) -> bool:
    """Whether a Playwright error means the browser, page or target is gone."""
    text = str(exc).lower()
    closed = ("has been closed", "target closed", "browser closed", "crash", "no object with guid")
    return any(s in text for s in closed)


def page_of(request: Request) -> Page | None:
    """The page a request belongs to, or None (a popup's first navigation, a worker)."""
    try:
        return request.frame.page
    except PlaywrightError:
        return None


async def wait_page_step(future: asyncio.Future[None] | None, timeout: float) -> None:
    """Wait (bounded, its failure ignored) for a step of a page's setup, if there is one."""
    if future is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(future), timeout)
