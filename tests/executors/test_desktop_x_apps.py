"""Settle on real Debian X programs (bench/_xapps.py): xterm with a blinking cursor,
mousepad (GTK 3) typing and opening a menu, on a machine kept busy by spinning
processes. Fresh is judged on the screenshot's pixels; that the settle did not
run to its bound is judged on the settle's own record (`SettleResult`), not on
time."""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bench._fresh_apps import cpu_hog, cpu_starver
from bench._xapps import XAPPS, client_origin
from executors import DesktopComputer
from executors._desktop._damage import Periodic
from sandbox import VirtualDisplay

needs = pytest.mark.skipif(
    any(shutil.which(p) is None for p in ("Xvfb", "xterm", "mousepad", "xdotool", "xwininfo")),
    reason="needs Xvfb, xterm, mousepad, xdotool and xwininfo (make apt)",
)


@pytest.fixture
def hog() -> Iterator[None]:
    with cpu_hog(True):
        yield


async def _steps(
    name: str,
    steps: int,
    *,
    launched: Callable[[int], None] = lambda pid: None,
    before_step: Callable[[int], None] = lambda i: None,
    max_wait_s: float = 2.0,
) -> list[tuple[int, bool, Any]]:
    """Run `steps` of XAPPS[name] through a DesktopComputer: (step, fresh, settle result).

    `launched(pid)` is called once the program's window shows, `before_step(i)`
    before the action of step i."""
    app = XAPPS[name]
    out = []
    with VirtualDisplay(800, 600) as display:
        proc = display.launch(list(app.argv))
        origin = await client_origin(display.display, app.window_class)
        launched(proc.pid)
        async with DesktopComputer(display) as computer:
            await computer.settle(2.0)
            for i in range(1, steps + 1):
                before_step(i)
                action = app.action(i, origin)
                if action["type"] == "type":
                    await computer.type(action["text"])
                elif action["type"] == "click":
                    await computer.click(action["x"], action["y"])
                else:
                    await computer.keypress(action["keys"])
                result = await computer.settle(max_wait_s)
                shot = await computer.screenshot()
                out.append((i, app.fresh(shot.data, origin, i), result))
    return out


@pytest.mark.desktop
@needs
async def test_a_blinking_cursor_does_not_hold_every_step_to_the_ceiling(hog: None) -> None:
    """xterm -bc redraws its cursor cell every 300-600 ms. Before periodic drawing
    was learned, each blink counted as a late answer and the response window grew
    to its 1.5 s ceiling within a few steps; now no step's window reaches it."""
    steps = await _steps("xterm", 10)
    stale = [i for i, fresh, _ in steps if not fresh]
    bounded = [(i, r) for i, _, r in steps if r.at_ceiling or not r.stable]
    assert stale == [], f"stale screenshots at steps {stale}"
    assert bounded == [], f"settle ran to its bound: {bounded}"


# Tk's Text blinks its insert cursor by redrawing the cursor's whole line, window
# wide (a 1274x19 rectangle at 1280 px), not a cursor-sized cell. Big, black
# letters; a red cursor, which never counts as ink.
_TK_TEXT = """
import tkinter as tk
root = tk.Tk()
root.geometry("800x600+0+0")
text = tk.Text(root, font=("DejaVu Sans Mono", 24), fg="black", bg="white",
               insertbackground="red", borderwidth=0, highlightthickness=0)
text.pack(fill="both", expand=True)
text.focus_force()
root.mainloop()
"""


def _ink(png: bytes) -> int:
    """Dark pixels on the Text's first line (the typed letters)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        line = image.convert("RGB").crop((0, 0, 800, 40))
        raw = line.tobytes()
    return sum(1 for i in range(0, len(raw), 3) if max(raw[i : i + 3]) < 100)


@pytest.mark.desktop
@needs
async def test_a_tk_text_blinking_its_whole_line_does_not_hold_steps_to_the_ceiling(
    hog: None,
) -> None:
    """Before thin rectangles were learned, each of Tk's line-wide blinks counted as a
    late answer: every step of bench figure 1's Tk text workload waited 1.5 s."""
    pytest.importorskip("tkinter")
    with VirtualDisplay(800, 600) as display:
        display.launch([sys.executable, "-c", _TK_TEXT])
        await client_origin(display.display, "Tk")
        async with DesktopComputer(display) as computer:
            await computer.click(400, 300)  # focus, wherever the window manager put it
            await computer.settle(2.0)
            ink = _ink((await computer.screenshot()).data)
            results = []
            for _ in range(10):
                await computer.type("W")
                result = await computer.settle(2.0)
                now = _ink((await computer.screenshot()).data)
                results.append((now > ink, result))
                ink = now
    stale = [i for i, (fresh, _) in enumerate(results, 1) if not fresh]
    bounded = [(i, r) for i, (_, r) in enumerate(results, 1) if r.at_ceiling or not r.stable]
    assert stale == [], f"stale screenshots at steps {stale}"
    assert bounded == [], f"settle ran to its bound: {bounded}"


@pytest.mark.desktop
@needs
async def test_typing_in_mousepad_under_a_cpu_hog_is_fresh(hog: None) -> None:
    steps = await _steps("mousepad", 6)
    stale = [i for i, fresh, _ in steps if not fresh]
    assert stale == [], f"stale screenshots at steps {stale}: {steps}"
    assert all(r.stable and not r.at_ceiling for _, _, r in steps), steps


@pytest.mark.desktop
@needs
async def test_a_gtk_menu_opening_under_a_cpu_hog_is_in_the_screenshot(hog: None) -> None:
    """Click File (the menu must be drawn in the shot), Escape (it must be gone)."""
    steps = await _steps("mousepad-menu", 6)
    stale = [i for i, fresh, _ in steps if not fresh]
    assert stale == [], f"stale screenshots at steps {stale}: {steps}"


@pytest.mark.desktop
@needs
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two CPUs")
async def test_a_gtk_menu_whose_app_is_kept_off_the_cpu_is_in_the_screenshot() -> None:
    """mousepad answers its first clicks at once, so the response window shrinks to
    its floor; then a click comes while mousepad cannot run for 0.4 s. The screen
    is quiet, but mousepad has not drawn the menu yet: settle must wait for it to
    run (it is runnable all along), not take the quiet for its answer."""
    before = os.sched_getaffinity(0)
    starved_steps = (7, 15)
    with cpu_starver() as starver:
        if starver is None:
            pytest.skip("no real-time scheduling here (needs root or CAP_SYS_NICE)")
        # this thread, and the X server and the threads it starts, keep the other CPU
        os.sched_setaffinity(0, before - {starver.cpu})
        try:
            steps = await _steps(
                "mousepad-menu",
                16,
                launched=starver.pin,  # mousepad shares the CPU the starver takes
                before_step=lambda i: starver.burst() if i in starved_steps else None,
                max_wait_s=3.0,
            )
        finally:
            os.sched_setaffinity(0, before)
    stale = [i for i, fresh, _ in steps if not fresh]
    assert stale == [], f"stale screenshots at steps {stale}: {steps}"
    for i, _, result in steps:
        if i in starved_steps:
            # the menu came late because settle waited for mousepad to run, and
            # not because the learned window happened to be wide enough
            assert result.working_s > 0, (i, result)
            assert result.window_s < 0.4, (i, result)


def test_periodic_learns_a_small_rectangle_redrawn_without_input() -> None:
    cell = (316, 151, 6, 13)
    p = Periodic()
    assert p.see(cell, 2, 0.0) is False and not p.is_noise(cell, False)
    # redrawn twice more with no input in between, 100+ ms apart: a blinking cursor
    assert p.see(cell, 2, 0.25) is True and not p.is_noise(cell, True)
    assert p.see(cell, 2, 0.55) is True and p.is_noise(cell, True)
    assert p.learned == 1
    assert p.see(cell, 4, 1.0) is False and p.is_noise(cell, False)  # for good
    # the same shape elsewhere (the cursor moved with a key): the first report in a
    # generation is the answer; its repeats in that generation are the blinking
    moved = (322, 151, 6, 13)
    assert p.see(moved, 6, 1.1) is False and not p.is_noise(moved, False)
    assert p.see(moved, 6, 1.4) is True and p.is_noise(moved, True)


def test_periodic_does_not_learn_answers_to_input_nor_large_redraws() -> None:
    p = Periodic()
    label = (10, 10, 40, 20)
    for generation in range(2, 20, 2):  # redrawn at once and 300 ms later, every input
        p.see(label, generation, generation * 1.0)
        p.see(label, generation, generation * 1.0 + 0.3)
    assert p.learned == 0 and not p.is_noise(label, True)
    window = (0, 0, 640, 480)  # nor is a large area
    for t in range(10):  # a whole window redrawn on its own: still a change
        p.see(window, 2, t * 0.5)
    assert p.learned == 0 and not p.is_noise(window, True)
    button = (5, 5, 60, 30)
    for t in range(13):  # a 200 ms transition after a click, one frame every 16 ms
        p.see(button, 4, t * 0.016)
    assert p.learned == 0


def test_periodic_learns_a_spinner_that_draws_every_frame() -> None:
    p = Periodic()
    spinner = (100, 100, 16, 16)
    frames = [p.see(spinner, 2, t / 60) for t in range(40)]
    assert all(frames[1:]) and p.learned == 1 and p.is_noise(spinner, True)
