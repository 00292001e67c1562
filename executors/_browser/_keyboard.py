"""The browser's keyboard: one object, verb methods, the keys it holds.

Playwright's keyboard for what it covers; raw CDP ``Input.dispatchKeyEvent``
for the rest (F13-F24), with the held keys reflected in CDP modifier bits.
Plain text (lower-case letters, digits, spaces) is typed as pipelined CDP key
events, the very events Playwright's ``keyboard.type`` sends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from playwright.async_api import Page

from executors._browser._shared import BrowserOptions, Channel
from executors._errors import ActionFailedError, ExecutorError
from executors._keys import normalize_chord, playwright_key, windows_key_code

__all__ = ["Keyboard", "same_key"]

# CDP modifier bits: Alt=1, Ctrl=2, Meta=4, Shift=8.
_MODIFIER_BITS = {"Alt": 1, "Control": 2, "Meta": 4, "Shift": 8}
# Keys Playwright's keyboard layout lacks; sent as raw CDP key events.
_CDP_ONLY_KEYS = frozenset(f"F{n}" for n in range(13, 25))
# Characters typed as pipelined CDP key events (see `Keyboard.type`).
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


class Keyboard:
    """Owns the keys held (Playwright names, in press order); sends key events on `channel`."""

    def __init__(self, channel: Channel, options: BrowserOptions) -> None:
        self._channel = channel
        self._options = options
        self.held: list[str] = []

    def names(self, keys: Sequence[str]) -> list[str]:
        """Playwright names for a chord, each as typed with the keys before it held."""
        names: list[str] = []
        for canonical in normalize_chord(keys):
            shift = "Shift" in self.held or "Shift" in names
            names.append(_pw_name(canonical, shift))
        return names

    def modifier_bits(self, extra: Sequence[str] = ()) -> int:
        """CDP modifier bits of the held keys and `extra` (Playwright names)."""
        bits = 0
        for key in [*self.held, *extra]:
            bits |= _MODIFIER_BITS.get(key, 0)
        return bits

    async def _send(self, page: Page, name: str, down: bool) -> None:
        """Press or release one key; F13-F24 (not in Playwright's layout) go through CDP."""
        verb = "pressing" if down else "releasing"
        if name in _CDP_ONLY_KEYS:
            session = await self._channel.session(page)
            params = {
                "type": "rawKeyDown" if down else "keyUp",
                "key": name,
                "code": name,
                "windowsVirtualKeyCode": windows_key_code(name.lower()) or 0,
                "modifiers": self.modifier_bits(),
            }
            await self._channel.call(
                session.send("Input.dispatchKeyEvent", params), f"{verb} {name}"
            )
            return
        action = page.keyboard.down if down else page.keyboard.up
        await self._channel.call(action(name), f"{verb} {name}")

    def _one_call(self, names: Sequence[str]) -> bool:
        """Whether Playwright's ``keyboard.press`` sends exactly `holding`'s events for
        this chord: nothing held, no CDP-only key, no ``+`` (its separator), no repeat."""
        if self.held or any(n in _CDP_ONLY_KEYS or "+" in n for n in names):
            return False
        return not any(same_key(a, b) for i, a in enumerate(names) for b in names[i + 1 :])

    @contextlib.asynccontextmanager
    async def holding(self, page: Page, keys: Sequence[str]) -> AsyncIterator[None]:
        """Hold `keys` (modifiers) down around an action, release in reverse."""
        pressed: list[str] = []
        try:
            for key in self.names(keys):
                if any(same_key(key, k) for k in [*self.held, *pressed]):
                    continue
                await self._send(page, key, True)
                pressed.append(key)
            yield
        finally:
            for key in reversed(pressed):
                with contextlib.suppress(ExecutorError):
                    await self._send(page, key, False)

    async def press(self, page: Page, keys: Sequence[str]) -> None:
        """Press a chord: every key down in order, then up in reverse order."""
        names = self.names(keys)
        if not names:
            raise ActionFailedError("keypress needs at least one key")
        if self._one_call(names):
            # the same downs and reverse-order ups as `holding`, in one driver call
            # (one round trip to Playwright's driver instead of one per event)
            try:
                await self._channel.call(page.keyboard.press("+".join(names)), f"pressing {names}")
            except ExecutorError:
                # failed midway (a timeout): leave no key held, as `holding` does
                for name in reversed(names):
                    with contextlib.suppress(ExecutorError):
                        await self._channel.call(page.keyboard.up(name), f"releasing {name}")
                raise
            return
        async with self.holding(page, keys):
            pass

    async def down(self, page: Page, key: str) -> None:
        """Press and hold `key` until `up` or `release_all`."""
        name = self.names([key])[0]
        if name in self.held:
            return
        await self._send(page, name, True)
        self.held.append(name)

    async def up(self, page: Page, key: str) -> None:
        """Release a key held by `down`."""
        name = self.names([key])[0]
        # Released by the name it was pressed under (shift may have changed since).
        held = [k for k in self.held if same_key(k, name)]
        for k in held:
            self.held.remove(k)
        for k in held or [name]:
            await self._send(page, k, False)

    async def release_all(self, page: Page) -> None:
        """Release every held key, last pressed first."""
        for key in reversed(list(self.held)):
            with contextlib.suppress(ExecutorError):
                await self._send(page, key, False)
        self.held.clear()

    async def type(self, page: Page, text: str) -> None:
        """Type text into the focused element (key events for US-layout characters,
        text input for the rest)."""
        timeout = self._options.action_timeout_s + len(text) / 50
        if self.held or not set(text) <= _PLAIN_CHARS:
            await self._channel.call(page.keyboard.type(text), "typing text", timeout=timeout)
            return
        # Lower-case letters, digits and spaces: the very key events Playwright's
        # keyboard.type sends (tests/executors/test_playwright_capture.py compares
        # them), but sent together on the page's CDP session instead of waiting
        # for Chromium to answer each of them (~1.7 ms each, 22 for 11 characters).
        session = await self._channel.session(page)
        sends = []
        for char in text:
            for params in _plain_key_events(char):
                sends.append(session.send("Input.dispatchKeyEvent", params))
        await self._channel.call(asyncio.gather(*sends), "typing text", timeout=timeout)
