"""DesktopComputer on a real Xvfb, proved by effect: a Tk app logs every event it
receives (tests/apps/tk_events.py) and ``xdotool getmouselocation`` reports the
pointer. No fixed sleeps: tests poll the app's log until the expected events
arrive (bounded)."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from desktop_support import APP, Event, TkApp, of, python_with_tkinter
from PIL import Image

from executors import DesktopComputer, HostDisplayRefusedError, Point, Size, UnsupportedActionError
from sandbox import VirtualDisplay, connect_xlib

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]

WIDTH, HEIGHT = 800, 600
SHIFT, CONTROL = 0x1, 0x4


@pytest.fixture(scope="module")
def display() -> Iterator[VirtualDisplay]:
    with VirtualDisplay(WIDTH, HEIGHT) as display:
        yield display


@pytest.fixture(scope="module")
def app(display: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory) -> TkApp:
    python = python_with_tkinter()
    if python is None:
        pytest.skip("no Python with tkinter (apt-get install python3-tk)")
    log = tmp_path_factory.mktemp("tk") / "events.jsonl"
    log.touch()
    display.launch([python, str(APP), str(log)])  # stopped with the display
    app = TkApp(log)
    for _ in range(1500):
        if of(app.events(), "ready"):
            return app
        subprocess.run(["sleep", "0.02"], check=True)
    raise AssertionError("the Tk app did not come up")


@pytest.fixture
async def computer(display: VirtualDisplay, app: TkApp) -> AsyncIterator[DesktopComputer]:
    async with DesktopComputer(display) as computer:
        yield computer


def mouse_location(display: VirtualDisplay) -> tuple[int, int]:
    out = subprocess.run(
        ["xdotool", "getmouselocation", "--shell"],
        env=display.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    values = dict(line.split("=", 1) for line in out.split())
    return int(values["X"]), int(values["Y"])


def near(event: Event, x: int, y: int) -> bool:
    return abs(event["x_root"] - x) <= 1 and abs(event["y_root"] - y) <= 1


async def clear_text(computer: DesktopComputer, app: TkApp) -> None:
    """Focus the Text widget and empty it (Escape clears it in the app)."""
    await computer.click(20, 20)
    since = app.mark()
    await computer.keypress(["esc"])
    await app.wait(since, lambda ev: any(e.get("text") == "" for e in of(ev, "text")))


# -- pointer --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("button", "number"),
    [("left", 1), ("middle", 2), ("right", 3), ("back", 8), ("forward", 9)],
)
async def test_click_lands_exactly_with_the_right_button(
    computer: DesktopComputer, app: TkApp, display: VirtualDisplay, button: Any, number: int
) -> None:
    x, y = 411, 333
    since = app.mark()
    await computer.click(x, y, button=button)
    events = await app.wait(since, lambda ev: len(of(ev, "ButtonRelease")) >= 1)
    (press,) = of(events, "ButtonPress")
    (release,) = of(events, "ButtonRelease")
    assert press["num"] == release["num"] == number
    assert near(press, x, y) and near(release, x, y)
    assert mouse_location(display) == (x, y)


async def test_corners_are_reachable(
    computer: DesktopComputer, app: TkApp, display: VirtualDisplay
) -> None:
    # No fail-safe corner: an agent clicking (0, 0) must not lock itself out.
    for x, y in [(0, 0), (WIDTH - 1, HEIGHT - 1), (WIDTH - 1, 0)]:
        since = app.mark()
        await computer.click(x, y)
        events = await app.wait(since, lambda ev: bool(of(ev, "ButtonRelease")))
        assert near(of(events, "ButtonPress")[0], x, y)
        assert mouse_location(display) == (x, y)


@pytest.mark.parametrize(("clicks", "multi", "x"), [(2, "Double", 450), (3, "Triple", 650)])
async def test_double_and_triple_click(
    computer: DesktopComputer, app: TkApp, clicks: int, multi: str, x: int
) -> None:
    # A different spot per case: Tk would count on from an earlier test's clicks.
    since = app.mark()
    if clicks == 2:
        await computer.double_click(x, 400)
    else:
        await computer.triple_click(x, 400)
    events = await app.wait(since, lambda ev: len(of(ev, "ButtonRelease")) >= clicks)
    assert len(of(events, "ButtonPress")) == clicks
    assert len(of(events, multi)) == 1
    assert all(near(e, x, 400) for e in of(events, "ButtonPress"))


async def test_modifiers_are_held_during_the_click_only(
    computer: DesktopComputer, app: TkApp
) -> None:
    since = app.mark()
    await computer.click(300, 350, keys=["ctrl", "shift"])
    await computer.click(310, 350)
    events = await app.wait(since, lambda ev: len(of(ev, "ButtonRelease")) >= 2)
    with_keys, without = of(events, "ButtonPress")
    assert with_keys["state"] & (CONTROL | SHIFT) == CONTROL | SHIFT
    assert without["state"] & (CONTROL | SHIFT) == 0
    pressed = [e["keysym"] for e in of(events, "KeyPress")]
    released = [e["keysym"] for e in of(events, "KeyRelease")]
    assert pressed == ["Control_L", "Shift_L"]
    assert released == ["Shift_L", "Control_L"]


async def test_move_puts_the_pointer_there(
    computer: DesktopComputer, display: VirtualDisplay
) -> None:
    await computer.move(123, 456)
    assert mouse_location(display) == (123, 456)


async def test_drag_follows_the_path_with_modifiers(computer: DesktopComputer, app: TkApp) -> None:
    path = [Point(200, 300), Point(250, 320), Point(300, 340), Point(350, 360)]
    since = app.mark()
    await computer.drag(path, keys=["shift"])
    events = await app.wait(since, lambda ev: bool(of(ev, "ButtonRelease")))
    (press,) = of(events, "ButtonPress")
    (release,) = of(events, "ButtonRelease")
    assert near(press, *path[0]) and near(release, *path[-1])
    # every motion reaches the log only with Tk's motion compression off (see tk_events.py)
    assert of(app.events(), "ready")[0]["every_motion"]
    motions = [(e["x_root"], e["y_root"]) for e in of(events, "Motion")]
    assert motions == [tuple(p) for p in path[1:]]
    assert all(e["state"] & SHIFT for e in of(events, "Motion"))
    assert press["state"] & SHIFT


async def test_mouse_down_and_up_any_button(computer: DesktopComputer, app: TkApp) -> None:
    since = app.mark()
    await computer.mouse_down(100, 400, "right")
    await computer.mouse_up(150, 420, "right")
    events = await app.wait(since, lambda ev: bool(of(ev, "ButtonRelease")))
    (press,) = of(events, "ButtonPress")
    (release,) = of(events, "ButtonRelease")
    assert press["num"] == release["num"] == 3
    assert near(press, 100, 400) and near(release, 150, 420)


async def test_scroll_pixels_become_notches_with_the_remainder_carried(
    computer: DesktopComputer, app: TkApp
) -> None:
    def wheel(events: list[Event]) -> list[tuple[int, bool]]:
        # Tk 8.6 reports horizontal buttons 6/7 as Shift+4/5.
        return [(e["num"], bool(e["state"] & SHIFT)) for e in of(events, "ButtonPress")]

    since = app.mark()
    await computer.scroll(400, 400, 0, 250)  # 2 notches down, 50 px carried
    events = await app.wait(since, lambda ev: len(of(ev, "ButtonRelease")) >= 2)
    assert wheel(events) == [(5, False), (5, False)]
    assert all(near(e, 400, 400) for e in of(events, "ButtonPress"))

    since = app.mark()
    await computer.scroll(400, 400, 0, 60)  # 50 + 60 = 110: one more notch, 10 carried
    await computer.scroll(400, 400, 0, -110)  # 10 - 110 = -100: one notch up
    events = await app.wait(since, lambda ev: len(of(ev, "ButtonRelease")) >= 2)
    assert wheel(events) == [(5, False), (4, False)]

    since = app.mark()
    await computer.scroll(400, 400, 40, 0)  # below one notch: nothing yet
    await computer.scroll(400, 400, 70, 0)  # 110: one notch right (button 7)
    await computer.scroll(400, 400, -210, 0)  # 10 - 210 = -200: two notches left (6)
    events = await app.wait(since, lambda ev: len(of(ev, "ButtonRelease")) >= 3)
    assert wheel(events) == [(5, True), (4, True), (4, True)]


# -- keyboard -------------------------------------------------------------------------


async def test_chord_goes_down_in_order_and_up_in_reverse(
    computer: DesktopComputer, app: TkApp
) -> None:
    await computer.click(20, 20)
    since = app.mark()
    await computer.keypress(["ctrl", "shift", "k"])
    events = await app.wait(since, lambda ev: len(of(ev, "KeyRelease")) >= 3)
    down = [e["keycode"] for e in of(events, "KeyPress")]
    up = [e["keycode"] for e in of(events, "KeyRelease")]  # paired by keycode, not name
    assert [e["keysym"] for e in of(events, "KeyPress")] == ["Control_L", "Shift_L", "K"]
    assert up == list(reversed(down))
    k_press = of(events, "KeyPress")[2]
    assert k_press["state"] & (CONTROL | SHIFT) == CONTROL | SHIFT


@pytest.mark.parametrize(
    "text",
    [
        "a<b>c",
        'Hello, World! <tag attr="v"> {x: [1, 2]} ~`|\\ 100% & $5 #1 ^_^ ?;:\'',
        "é€ü漢",
        "naïve café — 東京 <ok> €5",
    ],
)
async def test_type_text_exactly(computer: DesktopComputer, app: TkApp, text: str) -> None:
    await clear_text(computer, app)
    since = app.mark()
    await computer.type(text)
    events = await app.wait(since, lambda ev: any(e.get("text") == text for e in of(ev, "text")))
    assert of(events, "text")[-1]["text"] == text


async def test_non_ascii_right_after_a_burst_of_typing(
    computer: DesktopComputer, app: TkApp
) -> None:
    # The app is still working through the burst when the bindings change.
    text = "The quick brown fox <jumps> over the lazy dog. " * 4 + "é€ü漢"
    await clear_text(computer, app)
    since = app.mark()
    await computer.type(text)
    events = await app.wait(since, lambda ev: any(e.get("text") == text for e in of(ev, "text")))
    assert of(events, "text")[-1]["text"] == text


async def test_type_then_click_is_not_held_back(
    computer: DesktopComputer, app: TkApp, display: VirtualDisplay
) -> None:
    # openbox with its default bindings delayed a click that followed non-ASCII typing.
    await clear_text(computer, app)
    await computer.type("漢字")
    since = app.mark()
    await computer.click(600, 500)
    # a held-back click only lands with the next typing: any bound catches it
    events = await app.wait(since, lambda ev: bool(of(ev, "ButtonRelease")))
    assert near(of(events, "ButtonPress")[0], 600, 500)


async def test_key_held_across_calls_until_key_up(computer: DesktopComputer, app: TkApp) -> None:
    since = app.mark()
    await computer.key_down("shift")
    await computer.click(300, 450)
    await computer.click(310, 450)
    await computer.key_up("shift")
    await computer.click(320, 450)
    events = await app.wait(since, lambda ev: len(of(ev, "ButtonRelease")) >= 3)
    states = [e["state"] & SHIFT for e in of(events, "ButtonPress")]
    assert states == [SHIFT, SHIFT, 0]
    assert [e["keysym"] for e in of(events, "KeyPress")] == ["Shift_L"]
    assert [e["keysym"] for e in of(events, "KeyRelease")] == ["Shift_L"]


async def test_release_all_releases_held_keys_and_buttons(
    computer: DesktopComputer, app: TkApp, display: VirtualDisplay
) -> None:
    since = app.mark()
    await computer.key_down("ctrl")
    await computer.key_down("alt")
    await computer.mouse_down(250, 450, "left")
    await computer.mouse_down(250, 450, "middle")
    await app.wait(since, lambda ev: len(of(ev, "ButtonPress")) >= 2)
    await computer.release_all()
    events = await app.wait(
        since, lambda ev: len(of(ev, "KeyRelease")) >= 2 and len(of(ev, "ButtonRelease")) >= 2
    )
    assert {e["keysym"] for e in of(events, "KeyRelease")} == {"Control_L", "Alt_L"}
    assert sorted(e["num"] for e in of(events, "ButtonRelease")) == [1, 2]
    conn = connect_xlib(display.display)
    try:
        assert not any(conn.query_keymap())
        assert conn.screen().root.query_pointer().mask & 0x1F00 == 0
    finally:
        conn.close()


async def test_close_releases_held_keys(display: VirtualDisplay, app: TkApp) -> None:
    computer = await DesktopComputer(display).start()
    since = app.mark()
    await computer.key_down("shift")
    await computer.close()
    events = await app.wait(since, lambda ev: bool(of(ev, "KeyRelease")))
    assert [e["keysym"] for e in of(events, "KeyRelease")] == ["Shift_L"]


# -- capture and settle ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_format", "pil_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")]
)
async def test_screenshot_formats_at_the_declared_size(
    display: VirtualDisplay, app: TkApp, image_format: Any, pil_format: str
) -> None:
    async with DesktopComputer(display, image_format=image_format) as computer:
        shot = await computer.screenshot()
    assert (shot.width, shot.height) == (WIDTH, HEIGHT)
    image = Image.open(io.BytesIO(shot.data))
    assert image.format == pil_format
    assert image.size == (WIDTH, HEIGHT)
    assert shot.media_type == f"image/{image_format}"
    # The Tk canvas (white) fills the lower part of the screen.
    assert image.convert("RGB").getpixel((WIDTH // 2, HEIGHT - 20)) >= (240, 240, 240)


async def test_bigger_screen_is_scaled_to_the_declared_size(tmp_path: Path) -> None:
    python = python_with_tkinter()
    if python is None:
        pytest.skip("no Python with tkinter")
    log = tmp_path / "events.jsonl"
    log.touch()
    async with VirtualDisplay(1280, 720) as big:
        big.launch([python, str(APP), str(log)])
        app = TkApp(log)
        await app.wait(0, lambda ev: bool(of(ev, "ready")))
        async with DesktopComputer(big, size=Size(640, 360)) as computer:
            assert computer.size == Size(640, 360)
            shot = await computer.screenshot()
            assert (shot.width, shot.height) == (640, 360)
            assert Image.open(io.BytesIO(shot.data)).size == (640, 360)
            [event] = computer.drain_events()
            assert event.kind == "warning" and "scaled" in event.message
            since = app.mark()
            await computer.click(320, 180)  # the declared display's centre
            events = await app.wait(since, lambda ev: bool(of(ev, "ButtonRelease")))
            assert near(of(events, "ButtonPress")[0], 640, 360)


async def test_settle_returns_quickly_on_a_static_screen(computer: DesktopComputer) -> None:
    result = await computer.settle(max_wait_s=5.0)
    assert result.stable
    assert result.waited_s < 5.0


_PAINTER = """
import sys
from sandbox import connect_xlib
conn = connect_xlib(sys.argv[1])
root = conn.screen().root
gc = root.create_gc(foreground=0)
colour = 0
first = True
while True:
    colour = (colour + 0x010203) & 0xFFFFFF
    gc.change(foreground=colour)
    root.fill_rectangle(gc, 0, 0, int(sys.argv[2]), int(sys.argv[3]))
    conn.sync()
    if first:
        print("painting", flush=True)
        first = False
"""


async def test_settle_is_bounded_on_a_changing_screen() -> None:
    # a large area (160x120): a small one redrawn on its own is periodic drawing (a
    # spinner), which settle learns and discounts (tests/executors/test_desktop_x_apps.py)
    async with VirtualDisplay(320, 240, window_manager=False) as other:
        # The painter is a process of its own: as a thread of this process it shared
        # the GIL with settle, and a starved painter let two grabs match under load.
        painter = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _PAINTER, other.display, "160", "120",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert painter.stdout is not None
            assert (await asyncio.wait_for(painter.stdout.readline(), 60)).strip() == b"painting"
            # A quiet interval of 1 s, 2/3 of the bound: under load the DAMAGE reader
            # thread (or the painter) can be descheduled for a few hundred ms, and a
            # 0.25 s interval then saw a still screen (1 run of 4 of the whole suite).
            async with DesktopComputer(other, settle_interval_s=1.0) as computer:
                result = await computer.settle(max_wait_s=1.5)
        finally:
            painter.kill()
            await painter.wait()
    assert not result.stable
    assert result.reason == "max_wait"
    assert result.waited_s >= 1.5  # it waited the whole bound


async def test_settle_learns_a_small_area_that_keeps_changing_on_its_own() -> None:
    """A 24x24 square repainted without pause and without input (a spinner): settle
    learns it is periodic drawing and returns stable instead of at its bound."""
    async with VirtualDisplay(320, 240, window_manager=False) as other:
        painter = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _PAINTER, other.display, "24", "24",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert painter.stdout is not None
            assert (await asyncio.wait_for(painter.stdout.readline(), 60)).strip() == b"painting"
            async with DesktopComputer(other) as computer:
                result = await computer.settle(max_wait_s=30.0)
        finally:
            painter.kill()
            await painter.wait()
    assert result.stable and result.reason == "unchanged", result


# -- safety and capabilities ---------------------------------------------------------


def test_refuses_a_display_it_did_not_create(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(HostDisplayRefusedError):
        DesktopComputer(":0")
    monkeypatch.setenv("DISPLAY", ":0")
    with pytest.raises(HostDisplayRefusedError):
        DesktopComputer()
    monkeypatch.delenv("DISPLAY")
    with pytest.raises(HostDisplayRefusedError):
        DesktopComputer(None)


async def test_host_display_allowed_explicitly(display: VirtualDisplay, app: TkApp) -> None:
    async with DesktopComputer(display.display, allow_host_display=True) as computer:
        assert computer.size == Size(WIDTH, HEIGHT)
        shot = await computer.screenshot()
        assert (shot.width, shot.height) == (WIDTH, HEIGHT)


async def test_browser_actions_are_unsupported(computer: DesktopComputer) -> None:
    assert "navigate" not in computer.capabilities
    assert "current_url" not in computer.capabilities
    assert {"click", "scroll", "type", "key_down", "screenshot"} <= computer.capabilities
    with pytest.raises(UnsupportedActionError):
        await computer.navigate("https://example.com")
    with pytest.raises(UnsupportedActionError):
        await computer.current_url()


async def test_two_displays_in_one_process() -> None:
    async with (
        VirtualDisplay(640, 480, window_manager=False) as one,
        VirtualDisplay(800, 600, window_manager=False) as two,
        DesktopComputer(one) as first,
        DesktopComputer(two) as second,
    ):
        await first.move(10, 20)
        await second.move(30, 40)
        assert mouse_location(one) == (10, 20)
        assert mouse_location(two) == (30, 40)
        assert (await first.screenshot()).width == 640
        assert (await second.screenshot()).width == 800


async def test_an_unstarted_virtual_display_is_started_and_closed_by_the_computer() -> None:
    display = VirtualDisplay(320, 240, window_manager=False)
    async with DesktopComputer(display) as computer:
        assert display.running
        assert (await computer.screenshot()).height == 240
    assert not display.running


@pytest.mark.parametrize(
    ("point", "src", "dst", "expected"),
    [
        (Point(0, 0), Size(640, 360), Size(1280, 720), Point(0, 0)),
        (Point(320, 180), Size(640, 360), Size(1280, 720), Point(640, 360)),
        (Point(639, 359), Size(640, 360), Size(1280, 720), Point(1278, 718)),  # covers 1278-9
        (Point(1279, 719), Size(1280, 720), Size(640, 360), Point(639, 359)),
        (Point(100, 100), Size(800, 600), Size(800, 600), Point(100, 100)),
    ],
)
def test_rescale_point_maps_pixel_centres(
    point: Point, src: Size, dst: Size, expected: Point
) -> None:
    from executors._geometry import rescale_point

    assert rescale_point(point, src, dst) == expected
