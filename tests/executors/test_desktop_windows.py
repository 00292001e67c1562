"""Several windows from different toolkits on one VirtualDisplay: a click focuses
and raises the window under it, keys then land in that window, and the title
bar's close button closes a window. Proved by effect: the Tk app logs the text
it received, a shell in xterm writes a file, mousepad (GTK) saves a file, and
the window manager's own root properties (``_NET_ACTIVE_WINDOW``,
``_NET_CLIENT_LIST_STACKING``) say who has focus and who is on top."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import Xlib.error
from desktop_support import APP, python_with_tkinter

from executors import DesktopComputer
from sandbox import VirtualDisplay, connect_xlib

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]

WIDTH, HEIGHT = 1024, 768
TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Geometry:
    """A client window's area in root coordinates and its frame's title bar height."""

    x: int
    y: int
    width: int
    height: int
    title_bar: int
    right_border: int

    def covers(self, x: int, y: int) -> bool:
        """Whether (x, y) is on this window's frame (title bar and borders included)."""
        return (
            self.x - self.right_border <= x <= self.x + self.width + self.right_border
            and self.y - self.title_bar <= y <= self.y + self.height + self.right_border
        )

    def close_button(self) -> tuple[int, int]:
        """The middle of the close button (the rightmost title-bar button, layout NLIMC)."""
        return self.x + self.width + self.right_border - self.title_bar // 2 - 1, (
            self.y - self.title_bar // 2
        )


class Windows:
    """The window manager's view of the display, read over a python-xlib connection."""

    def __init__(self, display: VirtualDisplay) -> None:
        self._conn = connect_xlib(display.display)
        self._root = self._conn.screen().root

    def close(self) -> None:
        self._conn.close()

    def _atom(self, name: str) -> int:
        return int(self._conn.intern_atom(name))

    def _ids(self, prop: str) -> list[int]:
        value = self._root.get_full_property(self._atom(prop), 0)
        return [int(v) for v in value.value] if value is not None else []

    def title(self, wid: int) -> str:
        """The window's title; "" for a window destroyed since it was listed."""
        window = self._conn.create_resource_object("window", wid)
        try:
            value = window.get_full_property(self._atom("_NET_WM_NAME"), 0)
            if value is None:
                value = window.get_full_property(self._atom("WM_NAME"), 0)
        except Xlib.error.BadWindow:  # closing: still in the WM's list for a moment
            return ""
        raw = value.value if value is not None else b""
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)

    def find(self, title: str) -> int | None:
        """The client window whose title is `title` (or ends with it)."""
        for wid in self._ids("_NET_CLIENT_LIST"):
            name = self.title(wid)
            if name == title or name.endswith(title):
                return wid
        return None

    def active(self) -> int | None:
        ids = self._ids("_NET_ACTIVE_WINDOW")
        return ids[0] if ids and ids[0] else None

    def top(self) -> int | None:
        stacking = self._ids("_NET_CLIENT_LIST_STACKING")  # bottom to top
        return stacking[-1] if stacking else None

    def geometry(self, wid: int) -> Geometry:
        window = self._conn.create_resource_object("window", wid)
        where = window.translate_coords(self._root, 0, 0)
        size = window.get_geometry()
        extents = window.get_full_property(self._atom("_NET_FRAME_EXTENTS"), 0)
        _, right, top, _ = (int(v) for v in extents.value) if extents else (0, 0, 0, 0)
        return Geometry(-where.x, -where.y, size.width, size.height, top, right)

    def visible_point(self, wid: int) -> tuple[int, int]:
        """A point of `wid`'s client area that no window above it covers."""
        stacking = self._ids("_NET_CLIENT_LIST_STACKING")
        above = [self.geometry(w) for w in stacking[stacking.index(wid) + 1 :]]
        g = self.geometry(wid)
        points = [
            (x, y)
            for y in range(g.y + 10, g.y + g.height - 10, 20)
            for x in range(g.x + 10, g.x + g.width - 10, 20)
        ]
        # nearest the middle first: away from menu bars and toolbars
        middle = (g.x + g.width // 2, g.y + g.height // 2 + 20)
        points.sort(key=lambda p: abs(p[0] - middle[0]) + abs(p[1] - middle[1]))
        for x, y in points:
            if not any(other.covers(x, y) for other in above):
                return x, y
        raise AssertionError(f"window {self.title(wid)!r} is hidden under others")

    async def until(self, what: str, check: Any) -> Any:
        """Poll `check()` until it is truthy (bounded); return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT_S
        while True:
            value = check()
            if value:
                return value
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)


def texts(log: Path) -> list[str]:
    lines = log.read_text(encoding="utf-8").splitlines()
    return [e["text"] for e in map(json.loads, lines) if e["type"] == "text"]


@pytest.fixture
def display() -> Iterator[VirtualDisplay]:
    with VirtualDisplay(WIDTH, HEIGHT) as display:
        yield display


@pytest.fixture
async def desk(display: VirtualDisplay) -> AsyncIterator[tuple[DesktopComputer, Windows]]:
    windows = Windows(display)
    try:
        async with DesktopComputer(display) as computer:
            yield computer, windows
    finally:
        windows.close()


def launch_tk(display: VirtualDisplay, tmp: Path, title: str, geometry: str) -> Path:
    python = python_with_tkinter()
    if python is None:
        pytest.skip("no Python with tkinter (apt-get install python3-tk)")
    log = tmp / f"{title}.jsonl"
    log.touch()
    display.launch([python, str(APP), str(log), "--title", title, "--geometry", geometry])
    return log


async def ready(windows: Windows, title: str) -> int:
    return int(await windows.until(f"window {title!r}", lambda: windows.find(title)))


async def click_and_type(computer: DesktopComputer, windows: Windows, wid: int, text: str) -> None:
    assert windows.active() != wid
    await computer.click(*windows.visible_point(wid))
    await windows.until(f"focus on {windows.title(wid)!r}", lambda: windows.active() == wid)
    assert windows.top() == wid, "the clicked window was not raised"
    await computer.type(text)


async def test_click_focuses_and_raises_across_tk_xterm_and_gtk(
    desk: tuple[DesktopComputer, Windows], display: VirtualDisplay, tmp_path: Path
) -> None:
    computer, windows = desk
    if shutil.which("xterm") is None or shutil.which("mousepad") is None:
        pytest.skip("xterm and mousepad are needed (make setup)")
    # overlapping windows: each click has to raise the window, not only focus it
    log_a = launch_tk(display, tmp_path, "TkA", "420x300+20+40")
    log_b = launch_tk(display, tmp_path, "TkB", "420x300+220+140")
    tk_a, tk_b = await ready(windows, "TkA"), await ready(windows, "TkB")
    display.launch(
        ["xterm", "-T", "XTermWin", "-geometry", "60x14+560+440", "-e", "bash", "--norc"],
        env={**display.env, "PS1": "$ "},
    )
    xterm = await ready(windows, "XTermWin")
    saved = tmp_path / "gtk.txt"
    saved.write_text("")
    display.launch(["mousepad", str(saved)])
    gtk = await ready(windows, "Mousepad")
    # mousepad takes no geometry option: place it like a user would, in a free corner
    await asyncio.to_thread(
        subprocess.run,
        ["xdotool", "windowsize", str(gtk), "400", "250", "windowmove", str(gtk), "550", "30"],
        env=display.env,
        check=True,
    )
    await windows.until("mousepad to move", lambda: windows.geometry(gtk).height <= 250)
    written = tmp_path / "from-xterm.txt"

    await click_and_type(computer, windows, tk_a, "alpha")
    await windows.until("text in TkA", lambda: "alpha" in texts(log_a))
    await click_and_type(computer, windows, tk_b, "beta")
    await windows.until("text in TkB", lambda: "beta" in texts(log_b))
    await click_and_type(computer, windows, xterm, f"echo xterm-ok > {written}\n")
    await windows.until("the file xterm's shell writes", lambda: written.exists())
    await click_and_type(computer, windows, gtk, "gtk-ok")
    await computer.keypress(["ctrl", "s"])
    await windows.until("mousepad's save", lambda: saved.read_text() == "gtk-ok")
    # back to the first window, now under the others: the keys follow the click
    await click_and_type(computer, windows, tk_a, "!")
    await windows.until("more text in TkA", lambda: "alpha!" in texts(log_a))

    assert written.read_text() == "xterm-ok\n"
    assert "alpha" not in "".join(texts(log_b)), "keys for TkA went to TkB"
    assert "beta" not in "".join(texts(log_a)), "keys for TkB went to TkA"


async def test_close_button_closes_the_window(
    desk: tuple[DesktopComputer, Windows], display: VirtualDisplay, tmp_path: Path
) -> None:
    computer, windows = desk
    launch_tk(display, tmp_path, "Keep", "400x300+20+40")
    launch_tk(display, tmp_path, "Closes", "400x300+500+300")
    keep, closes = await ready(windows, "Keep"), await ready(windows, "Closes")
    await computer.click(*windows.geometry(closes).close_button())
    await windows.until("the window to close", lambda: windows.find("Closes") is None)
    assert windows.find("Keep") == keep


async def test_title_bar_maximise_button_maximises(
    desk: tuple[DesktopComputer, Windows], display: VirtualDisplay, tmp_path: Path
) -> None:
    computer, windows = desk
    launch_tk(display, tmp_path, "Grows", "300x200+100+100")
    wid = await ready(windows, "Grows")
    before = windows.geometry(wid)
    x, y = before.close_button()
    await computer.click(x - before.title_bar + 4, y)  # the button left of close
    await windows.until(
        "the window to fill the screen", lambda: windows.geometry(wid).width > WIDTH - 20
    )
