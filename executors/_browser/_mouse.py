"""The browser's mouse: one object, verb methods, the buttons it holds and where it is.

Playwright's mouse for the left, middle and right buttons; raw CDP
``Input.dispatchMouseEvent`` for back and forward, which Playwright lacks,
with the held buttons and keys reflected in CDP button and modifier bits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Literal

from playwright.async_api import Page

from executors._browser._keyboard import Keyboard
from executors._browser._shared import BrowserOptions, Channel
from executors._computer import Button, Point
from executors._errors import ExecutorError

__all__ = ["Mouse"]

_PW_BUTTONS: dict[str, Literal["left", "middle", "right"]] = {
    "left": "left",
    "middle": "middle",
    "right": "right",
}
# CDP Input.dispatchMouseEvent names and `buttons` bits for every button.
_CDP_BUTTON_BITS = {"left": 1, "right": 2, "middle": 4, "back": 8, "forward": 16}


class Mouse:
    """Owns the buttons held (in press order) and the pointer position; sends mouse
    events on `channel`, with `keyboard`'s keys held for the modifiers of an action."""

    def __init__(self, channel: Channel, keyboard: Keyboard, options: BrowserOptions) -> None:
        self._channel = channel
        self._keyboard = keyboard
        self._options = options
        self.held: list[Button] = []
        self._position = (0.0, 0.0)

    def _buttons_bits(self) -> int:
        bits = 0
        for button in self.held:
            bits |= _CDP_BUTTON_BITS[button]
        return bits

    async def _cdp(
        self,
        page: Page,
        kind: str,
        x: float,
        y: float,
        button: Button,
        clicks: int,
        keys: Sequence[str],
    ) -> None:
        session = await self._channel.session(page)
        await self._channel.call(
            session.send(
                "Input.dispatchMouseEvent",
                {
                    "type": kind,
                    "x": x,
                    "y": y,
                    "button": button,
                    "buttons": self._buttons_bits(),
                    "clickCount": clicks,
                    "modifiers": self._keyboard.modifier_bits(self._keyboard.names(keys)),
                },
            ),
            f"{kind} {button}",
        )

    async def _move(self, page: Page, x: float, y: float, steps: int = 1) -> None:
        await self._channel.call(page.mouse.move(x, y, steps=steps), f"moving to ({x}, {y})")
        self._position = (x, y)

    async def _button(
        self, page: Page, down: bool, button: Button, keys: Sequence[str] = ()
    ) -> None:
        x, y = self._position
        if button in _PW_BUTTONS:
            mouse = page.mouse.down if down else page.mouse.up
            await self._channel.call(mouse(button=_PW_BUTTONS[button]), f"{button} button")
        else:
            if down:
                self.held.append(button)
            elif button in self.held:
                self.held.remove(button)
            kind = "mousePressed" if down else "mouseReleased"
            await self._cdp(page, kind, x, y, button, 1, keys)
            return
        if down:
            self.held.append(button)
        elif button in self.held:
            self.held.remove(button)

    async def click(
        self, page: Page, x: int, y: int, button: Button, count: int, keys: Sequence[str]
    ) -> None:
        """Click `button` `count` times at (x, y) while holding `keys`."""
        async with self._keyboard.holding(page, keys):
            if button in _PW_BUTTONS:
                await self._channel.call(
                    page.mouse.click(x, y, button=_PW_BUTTONS[button], click_count=count),
                    f"{button} click at ({x}, {y})",
                )
                self._position = (x, y)
                return
            await self._move(page, x, y)
            for n in range(1, count + 1):
                await self._cdp(page, "mousePressed", x, y, button, n, keys)
                await self._cdp(page, "mouseReleased", x, y, button, n, keys)

    async def move(self, page: Page, x: int, y: int, keys: Sequence[str]) -> None:
        """Move the pointer to (x, y) while holding `keys`."""
        async with self._keyboard.holding(page, keys):
            await self._move(page, x, y)

    async def drag(
        self, page: Page, path: Sequence[Point], keys: Sequence[str], button: Button
    ) -> None:
        """Press at the first point, move through every other point, release at the last."""
        async with self._keyboard.holding(page, keys):
            first = path[0]
            await self._move(page, first[0], first[1])
            await self._button(page, True, button, keys)
            try:
                for point in path[1:]:
                    await self._move(page, point[0], point[1], steps=self._options.drag_steps)
            finally:
                await self._button(page, False, button, keys)

    async def down(self, page: Page, x: int, y: int, button: Button) -> None:
        """Move to (x, y) and press `button` (held until `up` or `release_all`)."""
        await self._move(page, x, y)
        await self._button(page, True, button)

    async def up(self, page: Page, x: int, y: int, button: Button) -> None:
        """Move to (x, y) and release `button`."""
        await self._move(page, x, y)
        await self._button(page, False, button)

    async def release_all(self, page: Page) -> None:
        """Release every held button, last pressed first."""
        for button in reversed(list(self.held)):
            with contextlib.suppress(ExecutorError):
                await self._button(page, False, button)
        self.held.clear()

    async def wheel(
        self, page: Page, x: int, y: int, scroll_x: int, scroll_y: int, keys: Sequence[str]
    ) -> None:
        """Send a real wheel event of (scroll_x, scroll_y) pixels with the pointer at (x, y)."""
        async with self._keyboard.holding(page, keys):
            if self.held:  # Playwright's mouse knows the buttons held
                await self._move(page, x, y)
                await self._channel.call(
                    page.mouse.wheel(scroll_x, scroll_y), f"wheel ({scroll_x}, {scroll_y})"
                )
                return
            # Chromium dispatches mouse moves and wheels at the next animation frame
            # and answers each after it: sent one after the other they cost two
            # frames. The same two events as Playwright's move + wheel, sent together
            # on the page's CDP session (one ordered channel), cost one. (Every later
            # Playwright mouse call moves first, so its own idea of the pointer
            # position being behind does not matter.)
            session = await self._channel.session(page)
            modifiers = self._keyboard.modifier_bits(self._keyboard.names(keys))
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
            await self._channel.call(
                asyncio.gather(
                    session.send("Input.dispatchMouseEvent", move),
                    session.send("Input.dispatchMouseEvent", wheel),
                ),
                f"wheel ({scroll_x}, {scroll_y}) at ({x}, {y})",
            )
            self._position = (x, y)
