"""`RecordingComputer`: a public fake `Computer` that records every call.

It acts on nothing: each method appends a `Call` to `calls`, keeps track of
held keys and buttons, and `screenshot()` returns a PNG of the declared size
(one solid colour, or random noise so request sizes look like real
screenshots). Use it to test code built on `Agent` without a browser or
display; screenloop's own loop tests use it together with the scripted server.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from executors._computer import (
    ALL_CAPABILITIES,
    Button,
    Capability,
    ExecutorEvent,
    Point,
    Screenshot,
    SettleResult,
    Size,
)
from executors._errors import ExecutorClosedError, UnsupportedActionError

__all__ = ["Call", "RecordingComputer"]


@dataclass(frozen=True)
class Call:
    """One recorded method call: its name and arguments."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


class RecordingComputer:
    """A `Computer` that records calls and returns synthetic screenshots.

    Args:
        size: the declared display size.
        environment: ``"browser"`` or ``"desktop"``.
        capabilities: the actions it claims to support (others raise
            `UnsupportedActionError`, like a real backend).
        color: RGB of the solid screenshot.
        noise: random pixels instead of a solid colour (realistic PNG sizes).
        url: the initial `current_url` (browser only).
        block_on: action names that block until cancelled (for cancel tests);
            `blocked` is set when one is reached.
        fail_on: action name -> exception raised when it is called.
    """

    def __init__(
        self,
        size: Size | tuple[int, int] = (1280, 720),
        *,
        environment: Literal["browser", "desktop"] = "desktop",
        capabilities: Collection[Capability] = ALL_CAPABILITIES,
        color: tuple[int, int, int] = (32, 96, 160),
        noise: bool = False,
        url: str | None = "about:blank",
        block_on: Collection[str] = (),
        fail_on: Mapping[str, BaseException] | None = None,
    ) -> None:
        self._size = Size(*size)
        self._environment = environment
        self._capabilities = frozenset(capabilities)
        self.color = color
        self.noise = noise
        self.url = url if environment == "browser" else None
        self.block_on = frozenset(block_on)
        self.fail_on = dict(fail_on or {})
        self.calls: list[Call] = []
        self.held_keys: list[str] = []
        self.held_buttons: list[str] = []
        self.pending_events: list[ExecutorEvent] = []
        self.blocked = asyncio.Event()
        self.closed = False
        self._solid: bytes | None = None

    # -- properties ---------------------------------------------------------
    @property
    def environment(self) -> Literal["browser", "desktop"]:
        """``browser`` or ``desktop`` as configured."""
        return self._environment

    @property
    def size(self) -> Size:
        """The declared display size."""
        return self._size

    @property
    def capabilities(self) -> frozenset[Capability]:
        """The configured capabilities."""
        return self._capabilities

    def calls_named(self, name: str) -> list[Call]:
        """The recorded calls of one method."""
        return [c for c in self.calls if c.name == name]

    # -- recording ----------------------------------------------------------
    async def _record(self, name: str, capability: str | None = None, **args: Any) -> None:
        if self.closed:
            raise ExecutorClosedError("RecordingComputer is closed")
        if capability is not None and capability not in self._capabilities:
            raise UnsupportedActionError(capability, "RecordingComputer")
        self.calls.append(Call(name, args))
        if name in self.fail_on:
            raise self.fail_on[name]
        if name in self.block_on:
            self.blocked.set()
            await asyncio.Event().wait()  # until cancelled

    def _png(self) -> bytes:
        from PIL import Image

        w, h = self._size
        if self.noise:
            img = Image.frombytes("RGB", (w, h), os.urandom(w * h * 3))
        else:
            if self._solid is not None:
                return self._solid
            img = Image.new("RGB", (w, h), self.color)
        buf = io.BytesIO()
        img.save(buf, "PNG", compress_level=1)
        data = buf.getvalue()
        if not self.noise:
            self._solid = data
        return data

    # -- Computer methods ---------------------------------------------------
    async def screenshot(self) -> Screenshot:
        """A PNG of the declared size."""
        await self._record("screenshot", "screenshot")
        return Screenshot(self._png(), "png", self._size.width, self._size.height)

    async def click(
        self, x: int, y: int, button: Button = "left", keys: Sequence[str] = ()
    ) -> None:
        """Record a click."""
        await self._record("click", "click", x=x, y=y, button=button, keys=tuple(keys))

    async def double_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Record a double click."""
        await self._record("double_click", "double_click", x=x, y=y, keys=tuple(keys))

    async def triple_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Record a triple click."""
        await self._record("triple_click", "triple_click", x=x, y=y, keys=tuple(keys))

    async def drag(
        self, path: Sequence[Point], keys: Sequence[str] = (), button: Button = "left"
    ) -> None:
        """Record a drag."""
        pts = tuple(Point(*p) for p in path)
        await self._record("drag", "drag", path=pts, keys=tuple(keys), button=button)

    async def move(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        """Record a move."""
        await self._record("move", "move", x=x, y=y, keys=tuple(keys))

    async def scroll(
        self, x: int, y: int, scroll_x: int, scroll_y: int, keys: Sequence[str] = ()
    ) -> None:
        """Record a scroll."""
        await self._record(
            "scroll", "scroll", x=x, y=y, scroll_x=scroll_x, scroll_y=scroll_y, keys=tuple(keys)
        )

    async def type(self, text: str) -> None:
        """Record typed text."""
        await self._record("type", "type", text=text)

    async def keypress(self, keys: Sequence[str]) -> None:
        """Record a chord."""
        await self._record("keypress", "keypress", keys=tuple(keys))

    async def key_down(self, key: str) -> None:
        """Record a held key."""
        await self._record("key_down", "key_down", key=key)
        self.held_keys.append(key)

    async def key_up(self, key: str) -> None:
        """Record a released key."""
        await self._record("key_up", "key_up", key=key)
        if key in self.held_keys:
            self.held_keys.remove(key)

    async def mouse_down(self, x: int, y: int, button: Button = "left") -> None:
        """Record a held button."""
        await self._record("mouse_down", "mouse_down", x=x, y=y, button=button)
        self.held_buttons.append(button)

    async def mouse_up(self, x: int, y: int, button: Button = "left") -> None:
        """Record a released button."""
        await self._record("mouse_up", "mouse_up", x=x, y=y, button=button)
        if button in self.held_buttons:
            self.held_buttons.remove(button)

    async def wait(self, ms: int) -> None:
        """Record a wait (returns at once)."""
        await self._record("wait", "wait", ms=ms)

    async def navigate(self, url: str) -> None:
        """Record a navigation and remember the URL."""
        await self._record("navigate", "navigate", url=url)
        self.url = url

    async def current_url(self) -> str | None:
        """The last navigated URL (browser), else None."""
        return self.url if self._environment == "browser" else None

    async def settle(self, max_wait_s: float) -> SettleResult:
        """Always stable at once."""
        self.calls.append(Call("settle", {"max_wait_s": max_wait_s}))
        return SettleResult(0.0, True, "recording")

    def drain_events(self) -> list[ExecutorEvent]:
        """Return and forget `pending_events` (tests append to it)."""
        events, self.pending_events = self.pending_events, []
        return events

    async def release_all(self) -> None:
        """Release every held key and button."""
        self.calls.append(
            Call(
                "release_all", {"keys": tuple(self.held_keys), "buttons": tuple(self.held_buttons)}
            )
        )
        self.held_keys.clear()
        self.held_buttons.clear()

    async def close(self) -> None:
        """Mark closed; later calls raise `ExecutorClosedError`."""
        self.calls.append(Call("close"))
        self.closed = True
