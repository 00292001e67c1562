"""Settle waits for the app, not for two lucky grabs: a Tk app that redraws
200-400 ms after each key press (tests/apps/tk_events.py --redraw-delay-ms),
on a machine whose two cores are kept busy by two spinning processes. After
every step the screenshot must show the colour the app drew for that step."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bench._fresh_apps import cpu_hog as spinning
from executors import DesktopComputer
from executors._desktop._settle import ResponseWindow, is_cursor_blink
from sandbox import VirtualDisplay

needs_xvfb = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed")

APP = Path(__file__).resolve().parents[1] / "apps" / "tk_events.py"
STEPS = 20
PROBE = (320, 420)  # a canvas pixel, below the Text widget
logger = logging.getLogger(__name__)


@pytest.fixture
def cpu_hog() -> Iterator[None]:
    """Processes spinning, one per core of the test machine (at least two); always killed."""
    with spinning(True):
        yield


def events(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


async def until_drawn(log: Path, n: int) -> str:
    """The colour of the app's n-th redraw, once it has logged it (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        drawn = [e for e in events(log) if e["type"] == "drawn" and e["n"] == n]
        if drawn:
            return str(drawn[0]["color"])
        if loop.time() > deadline:
            raise AssertionError(f"the app never drew step {n}")
        await asyncio.sleep(0.02)


def pixel(png: bytes) -> str:
    r, g, b = Image.open(io.BytesIO(png)).convert("RGB").getpixel(PROBE)  # type: ignore[misc]
    return f"#{r:02x}{g:02x}{b:02x}"


def test_the_response_window_starts_cautious_and_follows_what_it_measures() -> None:
    window = ResponseWindow(prior_s=0.3)
    assert window.seconds == pytest.approx(0.5)
    window.observe(0.01)
    assert window.seconds == pytest.approx(0.5)  # one measurement does not drop the prior
    window.observe(0.0)
    assert window.seconds == pytest.approx(0.065)  # fast app: about the quiet interval
    window.observe(0.4)
    assert window.seconds == pytest.approx(0.65)  # a slow answer widens it at once
    for _ in range(5):
        window.observe(0.0)
    assert window.seconds == pytest.approx(0.05)  # and is forgotten after five steps


def test_a_thin_line_is_a_cursor_blink_and_a_glyph_is_not() -> None:
    width, height = 40, 30
    blank = bytes(width * height * 4)

    def with_box(w: int, h: int) -> bytes:
        data = bytearray(blank)
        for y in range(5, 5 + h):
            for x in range(10, 10 + w):
                data[(y * width + x) * 4 : (y * width + x) * 4 + 3] = b"\xff\xff\xff"
        return bytes(data)

    assert is_cursor_blink(blank, with_box(2, 18), width, height)  # an I-beam
    assert not is_cursor_blink(blank, with_box(8, 14), width, height)  # a typed letter
    assert is_cursor_blink(blank, blank, width, height)


@pytest.mark.desktop
@needs_xvfb
async def test_no_stale_screenshot_under_a_cpu_hog(tmp_path: Path, cpu_hog: None) -> None:
    log = tmp_path / "events.jsonl"
    log.touch()
    with VirtualDisplay(640, 480) as display:
        display.launch([sys.executable, str(APP), str(log), "--redraw-delay-ms", "200-400"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not any(e["type"] == "ready" for e in events(log)):
            assert loop.time() < deadline, "the Tk app did not come up"
            await asyncio.sleep(0.05)
        stale: list[int] = []
        waited: list[float] = []
        async with DesktopComputer(display) as computer:
            await computer.settle(2.0)
            for step in range(1, STEPS + 1):
                await computer.keypress(["a"])
                result = await computer.settle(2.0)
                shot = await computer.screenshot()
                waited.append(result.waited_s)
                # the app draws eventually: was that drawing in the screenshot?
                if pixel(shot.data) != await until_drawn(log, step):
                    stale.append(step)
    logger.warning(
        "settle under load: %d stale of %d; waited median %.0f ms, max %.0f ms",
        len(stale),
        STEPS,
        statistics.median(waited) * 1000,
        max(waited) * 1000,
    )
    assert stale == [], f"stale screenshots at steps {stale}; settle waited {waited}"


@pytest.mark.desktop
@needs_xvfb
async def test_damage_reports_when_an_app_draws(tmp_path: Path) -> None:
    from executors._desktop._damage import DamageWatcher

    log = tmp_path / "events.jsonl"
    log.touch()
    with VirtualDisplay(640, 480) as display:
        watcher = DamageWatcher.open(display.display)
        assert watcher is not None, "Xvfb offers DAMAGE"
        try:
            display.launch([sys.executable, str(APP), str(log), "--redraw-delay-ms", "0-0"])
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while not any(e["type"] == "ready" for e in events(log)):
                assert loop.time() < deadline, "the Tk app did not come up"
                await asyncio.sleep(0.05)
            # the app mapping its window is a change the watcher saw
            assert watcher.last_change > 0
            assert watcher.last_change_between(0.0, loop.time() + 3600) == watcher.last_change
        finally:
            watcher.close()
        assert not watcher.alive


@pytest.mark.desktop
@needs_xvfb
async def test_an_answer_after_the_screenshot_widens_the_wait_for_the_next_steps(
    tmp_path: Path,
) -> None:
    """The app answers 600 ms after each key, later than the first window (0.5 s).

    The first screenshots may be stale; the late answers are measured from the
    DAMAGE reports at the next input, so from the third step on the screenshot
    shows the step's colour. (Settle that only compares grabs never sees an
    answer after it returned, and stays stale.)
    """
    log = tmp_path / "events.jsonl"
    log.touch()
    with VirtualDisplay(640, 480) as display:
        display.launch([sys.executable, str(APP), str(log), "--redraw-delay-ms", "600-600"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not any(e["type"] == "ready" for e in events(log)):
            assert loop.time() < deadline, "the Tk app did not come up"
            await asyncio.sleep(0.05)
        stale: list[int] = []
        async with DesktopComputer(display, min_response_s=0.0) as computer:
            await computer.settle(2.0)
            for step in range(1, 7):
                await computer.keypress(["a"])
                await computer.settle(3.0)
                shot = await computer.screenshot()
                if pixel(shot.data) != await until_drawn(log, step) and step >= 3:
                    stale.append(step)
    assert stale == [], f"stale screenshots at steps {stale}"


def test_min_response_s_is_checked() -> None:
    with pytest.raises(ValueError, match="min_response_s"):
        DesktopComputer(VirtualDisplay(64, 64), min_response_s=-1)


# An X client that never sleeps: connected, then computing for ever
_RESTLESS = """
from Xlib import display
conn = display.Display()
conn.sync()
print("connected", flush=True)
while True:
    pass
"""


@pytest.mark.desktop
@needs_xvfb
async def test_a_program_that_is_always_runnable_is_waited_for_twice_then_not_at_all() -> None:
    """Settle waits (bounded) for a display's programs that are still runnable on a
    quiet screen; one that computes all the time holds two settles to that bound and
    is then learned as restless, not held against every step."""
    with VirtualDisplay(320, 240) as display:
        proc = display.launch([sys.executable, "-c", _RESTLESS], stdout=subprocess.PIPE)
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)
        assert line.strip() == b"connected"
        async with DesktopComputer(display) as computer:
            results = [await computer.settle(10.0) for _ in range(3)]
    held, learned = results[:2], results[2]
    assert all(r.stable and r.working_s > 0 for r in held), results
    assert learned.stable and learned.working_s == 0, results


@pytest.mark.desktop
@needs_xvfb
async def test_reports_not_yet_read_keep_the_screen_from_counting_as_quiet() -> None:
    """A DAMAGE reader kept from its reports (here: blocked on its lock, as a starved
    thread would be) has not stamped the last change: settle must not take the
    silence for a still screen. Once it reads them, settle ends."""
    with VirtualDisplay(320, 240) as display:
        async with DesktopComputer(display) as computer:
            await computer.settle(5.0)
            watcher = computer._capture._damage
            assert watcher is not None, "Xvfb offers DAMAGE"
            with watcher._lock:
                # an xterm mapping its window: reports the reader reads but cannot stamp
                xterm = display.launch(["xterm", "-geometry", "20x5"])
                deadline = asyncio.get_running_loop().time() + 30
                while watcher.drained():
                    assert asyncio.get_running_loop().time() < deadline, "xterm drew nothing"
                    await asyncio.sleep(0.01)
                blocked = await computer.settle(1.0)
            drained = await computer.settle(10.0)
            xterm.kill()
    assert not blocked.stable and blocked.reason == "max_wait", blocked
    assert drained.stable, drained
