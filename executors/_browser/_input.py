"""Mouse and keyboard internals for `PlaywrightComputer`: a mixin.

Playwright's mouse and keyboard for what they cover; raw CDP ``Input.dispatch*``
events for the rest (back/forward buttons, F13-F24), with the held keys and
buttons reflected in CDP modifier and button bits.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Literal, TypeVar

from playwright.async_api import CDPSession, Page

from executors._computer import Button
from executors._errors import ExecutorError
from executors._keys import normalize_chord, playwright_key, windows_key_code

__all__ = ["InputMixin", "same_key"]

T = TypeVar("T")

_PW_BUTTONS: dict[str, Literal["left", "middle", "right"]] = {
    "left": "left",
    "middle": "middle",
    "right": "right",
}
# CDP Input.dispatchMouseEvent names and `buttons` bits for every button.
_CDP_BUTTON_BITS = {"left": 1, "right": 2, "middle": 4, "back": 8, "forward": 16}
# CDP modifier bits: Alt=1, Ctrl=2, Meta=4, Shift=8.
_MODIFIER_BITS = {"Alt": 1, "Control": 2, "Meta": 4, "Shift": 8}


# Keys Playwright's keyboard layout lacks; sent as raw CDP key events.
_CDP_ONLY_KEYS = frozenset(f"F{n}" for n in range(13, 25))


def _pw_name(canonical: str, shift: bool) -> str:
    """Playwright's name for a canonical key. With shift held, a letter or digit is
    named by its physical key (``KeyA``) so the page sees ``A`` like on a real
    keyboard (Playwright would send ``a`` for ``a`` whatever is held)."""
    if shift and len(canonical) == 1 and canonical.isascii():
        if canonical.isalpha():
            return "Key" + canonical.upper()
        if canonical.isdigit():
            return "Digit" + canonical
    return playwright_key(canonical)


def same_key(a: str, b: str) -> bool:
    """True when two Playwright names are the same physical key (``a``/``KeyA``)."""

    def physical(name: str) -> str:
        if len(name) == 1 and name.isascii() and name.isalpha():
            return "Key" + name.upper()
        if len(name) == 1 and name.isdigit():
            return "Digit" + name
        return name

    return physical(a) == physical(b)


class InputMixin:
    """Key, chord, pointer and button primitives; mixed into `PlaywrightComputer`."""

    _held_keys: list[str]
    _held_buttons: list[Button]
    _mouse: tuple[float, float]

    async def _page(self) -> Page:
        raise NotImplementedError

    async def _session(self, page: Page) -> CDPSession:
        raise NotImplementedError

    async def _call(self, coro: Awaitable[T], what: str, timeout: float | None = None) -> T:
        raise NotImplementedError

    def _keys(self, keys: Sequence[str]) -> list[str]:
        """Playwright names for a chord, each as typed with the keys before it held."""
        names: list[str] = []
        for canonical in normalize_chord(keys):
            shift = "Shift" in self._held_keys or "Shift" in names
            names.append(_pw_name(canonical, shift))
        return names

    async def _key(self, page: Page, name: str, down: bool) -> None:
        """Press or release one key; F13-F24 (not in Playwright's layout) go through CDP."""
        verb = "pressing" if down else "releasing"
        if name in _CDP_ONLY_KEYS:
            session = await self._session(page)
            params = {
                "type": "rawKeyDown" if down else "keyUp",
                "key": name,
                "code": name,
                "windowsVirtualKeyCode": windows_key_code(name.lower()) or 0,
                "modifiers": self._modifier_bits(),
            }
            await self._call(session.send("Input.dispatchKeyEvent", params), f"{verb} {name}")
            return
        action = page.keyboard.down if down else page.keyboard.up
        await self._call(action(name), f"{verb} {name}")

    @contextlib.asynccontextmanager
    async def _holding(self, page: Page, keys: Sequence[str]) -> AsyncIterator[None]:
        """Hold `keys` (modifiers) down around an action, release in reverse."""
        pressed: list[str] = []
        try:
            for key in self._keys(keys):
                if any(same_key(key, k) for k in [*self._held_keys, *pressed]):
                    continue
                await self._key(page, key, True)
                pressed.append(key)
            yield
        finally:
            for key in reversed(pressed):
                with contextlib.suppress(ExecutorError):
                    await self._key(page, key, False)

    def _modifier_bits(self, extra: Sequence[str] = ()) -> int:
        bits = 0
        for key in [*self._held_keys, *extra]:
            bits |= _MODIFIER_BITS.get(key, 0)
        return bits

    def _buttons_bits(self) -> int:
        bits = 0
        for button in self._held_buttons:
            bits |= _CDP_BUTTON_BITS[button]
        return bits

    async def _cdp_mouse(
        self,
        page: Page,
        kind: str,
        x: float,
        y: float,
        button: Button,
        clicks: int,
        keys: Sequence[str],
    ) -> None:
        session = await self._session(page)
        await self._call(
            session.send(
                "Input.dispatchMouseEvent",
                {
                    "type": kind,
                    "x": x,
                    "y": y,
                    "button": button,
                    "buttons": self._buttons_bits(),
                    "clickCount": clicks,
                    "modifiers": self._modifier_bits(self._keys(keys)),
                },
            ),
            f"{kind} {button}",
        )

    async def _move(self, page: Page, x: float, y: float, steps: int = 1) -> None:
        await self._call(page.mouse.move(x, y, steps=steps), f"moving to ({x}, {y})")
        self._mouse = (x, y)

    async def _button(
        self, page: Page, down: bool, button: Button, keys: Sequence[str] = ()
    ) -> None:
        x, y = self._mouse
        if button in _PW_BUTTONS:
            mouse = page.mouse.down if down else page.mouse.up
            await self._call(mouse(button=_PW_BUTTONS[button]), f"{button} button")
        else:
            if down:
                self._held_buttons.append(button)
            elif button in self._held_buttons:
                self._held_buttons.remove(button)
            kind = "mousePressed" if down else "mouseReleased"
            await self._cdp_mouse(page, kind, x, y, button, 1, keys)
            return
        if down:
            self._held_buttons.append(button)
        elif button in self._held_buttons:
            self._held_buttons.remove(button)

    async def _click(self, x: int, y: int, button: Button, count: int, keys: Sequence[str]) -> None:
        page = await self._page()
        async with self._holding(page, keys):
            if button in _PW_BUTTONS:
                await self._call(
                    page.mouse.click(x, y, button=_PW_BUTTONS[button], click_count=count),
                    f"{button} click at ({x}, {y})",
                )
                self._mouse = (x, y)
                return
            await self._move(page, x, y)
            for n in range(1, count + 1):
                await self._cdp_mouse(page, "mousePressed", x, y, button, n, keys)
                await self._cdp_mouse(page, "mouseReleased", x, y, button, n, keys)
