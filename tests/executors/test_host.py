"""HostComputer (pyautogui + mss) on Linux, with an Xvfb display standing in for
the user's own screen (``$DISPLAY`` points at it, as on a desktop). Proved by
effect: the Tk app logs what it received. pyautogui binds the display named by
``$DISPLAY`` when it is first imported, so this module uses one display."""

from __future__ import annotations

import asyncio
import importlib.util
import io
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from desktop_support import APP, TkApp, of
from PIL import Image

from executors import HostComputer, HostFailSafeError
from sandbox import VirtualDisplay

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
    pytest.mark.skipif(
        importlib.util.find_spec("pyautogui") is None, reason="pyautogui is not installed"
    ),
    pytest.mark.skipif("pyautogui" in sys.modules, reason="pyautogui is bound to another display"),
]

WIDTH, HEIGHT = 800, 600


@pytest.fixture(scope="module")
def host() -> Iterator[tuple[VirtualDisplay, Path]]:
    log_dir = Path(tempfile.mkdtemp(prefix="screenloop-host-"))
    log = log_dir / "events.jsonl"
    log.touch()
    with VirtualDisplay(WIDTH, HEIGHT) as display:
        display.launch([sys.executable, str(APP), str(log)])
        for _ in range(1500):
            if '"ready"' in log.read_text():
                break
            subprocess.run(["sleep", "0.02"], check=True)
        else:
            raise AssertionError("the Tk app did not come up")
        mp = pytest.MonkeyPatch()
        mp.setenv("DISPLAY", display.display)  # the "host" screen, as a desktop session has it
        try:
            yield display, log
        finally:
            mp.undo()
    shutil.rmtree(log_dir, ignore_errors=True)


@pytest.fixture
async def computer(host: tuple[VirtualDisplay, Path]) -> AsyncIterator[HostComputer]:
    async with HostComputer() as computer:
        yield computer


@pytest.mark.parametrize(("button", "number"), [("left", 1), ("middle", 2), ("right", 3)])
async def test_click_lands_with_the_right_button(
    computer: HostComputer, host: tuple[VirtualDisplay, Path], button: Any, number: int
) -> None:
    _, log = host
    since = TkApp(log).mark()
    await computer.click(411, 333, button=button)
    new = await TkApp(log).wait(since, lambda ev: bool(of(ev, "ButtonRelease")))
    (press,) = of(new, "ButtonPress")
    assert (press["num"], press["x_root"], press["y_root"]) == (number, 411, 333)


async def test_typing_is_exact_including_angle_brackets_and_non_ascii(
    computer: HostComputer, host: tuple[VirtualDisplay, Path]
) -> None:
    if shutil.which("xclip") is None and shutil.which("xsel") is None:
        pytest.skip("the clipboard needs xclip or xsel (make setup)")
    _, log = host
    await computer.click(20, 20)
    since = TkApp(log).mark()
    await computer.keypress(["esc"])  # the app empties its text
    await TkApp(log).wait(since, lambda ev: any(e.get("text") == "" for e in of(ev, "text")))
    text = "Hello <world> & café 漢字 €5"
    since = TkApp(log).mark()
    await computer.type(text)
    await computer.keypress(["shift"])  # a key release makes the app log its text again
    await TkApp(log).wait(
        since, lambda ev: any(e.get("text") == text for e in of(ev, "text")), timeout_s=30
    )


async def test_chord_goes_down_in_order_and_up_in_reverse(
    computer: HostComputer, host: tuple[VirtualDisplay, Path]
) -> None:
    _, log = host
    since = TkApp(log).mark()
    await computer.keypress(["ctrl", "shift", "a"])
    new = await TkApp(log).wait(
        since, lambda ev: "Control_L" in [e["keysym"] for e in of(ev, "KeyRelease")]
    )
    # a late event of the test before may come first: look from the chord's first press
    keys = [(e["type"], e["keysym"]) for e in new if e["type"] in ("KeyPress", "KeyRelease")]
    chord = keys[keys.index(("KeyPress", "Control_L")) :]
    assert chord[:2] == [("KeyPress", "Control_L"), ("KeyPress", "Shift_L")]
    assert chord[-2:] == [("KeyRelease", "Shift_L"), ("KeyRelease", "Control_L")]


async def test_screenshot_shows_the_screen_at_the_declared_size(
    host: tuple[VirtualDisplay, Path],
) -> None:
    async with HostComputer(size=(400, 300)) as computer:
        await computer.settle(2.0)
        shot = await computer.screenshot()
    image = Image.open(io.BytesIO(shot.data))
    assert image.size == (400, 300)
    assert computer.screen_size == (WIDTH, HEIGHT)
    assert image.convert("RGB").getpixel((200, 250)) == (255, 255, 255)  # the app's canvas


async def test_the_fail_safe_corner_stops_the_next_action(
    computer: HostComputer, host: tuple[VirtualDisplay, Path]
) -> None:
    display, _ = host
    await computer.move(0, 0)  # as a user slamming the mouse into the corner
    with pytest.raises(HostFailSafeError):
        await computer.click(300, 300)
    await asyncio.to_thread(
        subprocess.run, ["xdotool", "mousemove", "300", "300"], env=display.env, check=True
    )
    await computer.click(300, 300)  # the user moved away: it runs again
