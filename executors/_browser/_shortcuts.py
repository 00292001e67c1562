"""Browser shortcuts a person would press, done as browser commands.

Key events sent through CDP reach the page, never the browser's own UI, and a
headless browser has no tab strip or address bar at all: Ctrl+W, Ctrl+Tab or
Alt+Left would go to the page as plain keys. `Shortcuts` turns them into
what a browser does:

| keys | command |
|---|---|
| Ctrl+W, Ctrl+F4 | close the tab (its ``beforeunload`` runs); the tab before it takes over |
| Ctrl+T, Ctrl+N | open a blank tab and act on it |
| Ctrl+Tab, Ctrl+PageDown / Ctrl+Shift+Tab, Ctrl+PageUp | next / previous tab |
| Ctrl+1..8, Ctrl+9 | that tab / the last tab |
| Alt+Left, Alt+Right | back, forward |
| F5, Ctrl+R, Ctrl+Shift+R, Shift+F5 | reload |
| Ctrl+L, Alt+D, F6 | focus the address bar: typed text is the URL, Enter loads it |

Meta (Cmd) counts as Ctrl. The address bar lives here (it is drawn nowhere):
text typed while it is focused goes into it, Backspace edits it, Escape or a
pointer action leaves it, Enter navigates through the domain policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from playwright.async_api import Error as PlaywrightError

from executors._browser._shared import BrowserState
from executors._browser._tabs import Tabs
from executors._errors import ExecutorError
from executors._keys import normalize_chord

__all__ = ["Shortcuts", "typed_url"]

logger = logging.getLogger(__name__)

_CLOSE = {frozenset({"ctrl", "w"}), frozenset({"ctrl", "f4"})}
_NEW_TAB = {frozenset({"ctrl", "t"}), frozenset({"ctrl", "n"})}
_NEXT = {frozenset({"ctrl", "tab"}), frozenset({"ctrl", "pagedown"})}
_PREVIOUS = {frozenset({"ctrl", "shift", "tab"}), frozenset({"ctrl", "pageup"})}
_BACK = {frozenset({"alt", "left"}), frozenset({"browserback"})}
_FORWARD = {frozenset({"alt", "right"}), frozenset({"browserforward"})}
_RELOAD = {
    frozenset({"f5"}),
    frozenset({"ctrl", "r"}),
    frozenset({"ctrl", "shift", "r"}),
    frozenset({"shift", "f5"}),
}
_ADDRESS = {frozenset({"ctrl", "l"}), frozenset({"alt", "d"}), frozenset({"f6"})}


def typed_url(text: str) -> str | None:
    """What a browser loads for text typed in its address bar, or None for a search.

    A scheme is kept; a host (with a dot, a port, or ``localhost``) gets
    ``http://`` for loopback and ``https://`` otherwise.
    """
    text = text.strip()
    if not text or any(c.isspace() for c in text):
        return None
    if "://" in text or text.startswith(("about:", "data:")):
        return text
    host = text.split("/", 1)[0].split(":", 1)[0].lower()
    if not ("." in host or host == "localhost" or ":" in text.split("/", 1)[0]):
        return None
    loopback = host == "localhost" or host.startswith("127.")
    return ("http://" if loopback else "https://") + text


class Shortcuts:
    """Browser commands for browser shortcuts, and the address bar's text."""

    def __init__(self, state: BrowserState, tabs: Tabs) -> None:
        self._state = state
        self._tabs = tabs
        # the address bar's text while it is focused, else None
        self.address: str | None = None
        self._selected = False  # the whole address is selected (typing replaces it)

    def leave(self) -> None:
        """The pointer acted on the page: the address bar loses focus."""
        if self.address is not None:
            self.address = None
            self._state.emit("address_bar", "left the address bar")

    def type(self, text: str) -> tuple[bool, bool]:
        """Text typed while the address bar is focused goes into it.

        Returns (taken, enter): whether the address bar took the text, and
        whether it ended with a newline (Enter).
        """
        if self.address is None:
            return False, False
        enter = text.endswith(("\n", "\r"))
        text = text.rstrip("\r\n")
        self.address = text if self._selected else self.address + text
        self._selected = False
        return True, enter

    async def press(self, keys: Sequence[str]) -> bool:
        """Do the browser command `keys` stand for; False when they are for the page."""
        chord = frozenset("ctrl" if k == "meta" else k for k in normalize_chord(keys))
        if self.address is not None and await self._address_key(chord):
            return True
        if chord in _ADDRESS:
            self.address, self._selected = "", True
            self._state.emit(
                "address_bar",
                "address bar focused",
                notice="The address bar is focused (it is not drawn in the screenshot): "
                "type a URL and press Enter.",
            )
        elif chord in _CLOSE:
            await self._close()
        elif chord in _NEW_TAB:
            await self._tabs.new_tab()
        elif chord in _NEXT or chord in _PREVIOUS:
            await self._tabs.switch(1 if chord in _NEXT else -1)
        elif len(chord) == 2 and "ctrl" in chord and (digit := _digit(chord)) is not None:
            await self._tabs.switch_to(digit)
        elif chord in _BACK or chord in _FORWARD:
            await self._history(forward=chord in _FORWARD)
        elif chord in _RELOAD:
            await self._navigate_page("reload")
        else:
            return False
        return True

    async def enter(self) -> None:
        """Enter in the address bar: load what was typed."""
        text, self.address = self.address or "", None
        url = typed_url(text)
        if url is None:
            self._state.emit(
                "address_bar",
                f"not a URL: {text!r}",
                notice=f"{text!r} is not a URL; this browser's address bar only opens URLs.",
            )
            return
        await self._tabs.goto(url)

    async def _address_key(self, chord: frozenset[str]) -> bool:
        if chord == {"enter"}:
            await self.enter()
        elif chord == {"escape"}:
            self.leave()
        elif chord == {"backspace"}:
            text = self.address or ""
            self.address = "" if self._selected else text[:-1]
            self._selected = False
        elif chord == {"ctrl", "a"}:
            self._selected = True
        else:
            self.leave()  # another key (Tab, a shortcut) takes the focus away
            return False
        return True

    async def _close(self) -> None:
        page = self._tabs.current()
        what = "closing the tab"
        # runs the page's beforeunload (a dialog may keep it open); the close event follows
        await self._tabs.call(page.close(run_before_unload=True), what)
        with contextlib.suppress(asyncio.TimeoutError, PlaywrightError):
            await asyncio.wait_for(page.wait_for_event("close"), 1.0)

    async def _history(self, *, forward: bool) -> None:
        page = await self._tabs.page()
        went = await self._navigate_page("forward" if forward else "back")
        if not went:
            where = "next" if forward else "previous"
            self._state.emit(
                "navigation",
                f"no {where} page in the history of {page.url}",
                notice=f"There is no {where} page in this tab's history.",
            )

    async def _navigate_page(self, how: str) -> bool:
        """Back, forward or reload, up to the commit of the new document; False for none."""
        page = await self._tabs.page()
        go = {"back": page.go_back, "forward": page.go_forward, "reload": page.reload}[how]
        timeout = self._state.options.navigation_timeout_s
        before = page.url
        try:
            response = await self._tabs.call(go(wait_until="commit"), f"{how} navigation", timeout)
        except ExecutorError as exc:  # the page shows what came of it; the model sees that
            logger.info("%s navigation: %s", how, exc)
            return True
        return response is not None or how == "reload" or page.url != before


def _digit(chord: frozenset[str]) -> int | None:
    (key,) = chord - {"ctrl"}
    return int(key) if key.isdigit() and key != "0" else None
