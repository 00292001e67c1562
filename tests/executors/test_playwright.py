"""PlaywrightComputer proves every action by its effect in real Chromium.

The event page (tests/pages/events.html) logs every pointer, mouse, wheel,
keyboard and input event into ``window.__events``; the tests read it through
the Playwright page (observing only: every action goes through the computer).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from browser_server import LoopbackServer
from PIL import Image
from playwright.async_api import Error as PlaywrightError

from executors import CaptureError, ExecutorClosedError, PlaywrightComputer, Point, Size
from executors._geometry import CoordinateSpace, model_to_screen

pytestmark = pytest.mark.browser

DPRS = [1.0, 1.5, 2.0]
SIZE = Size(1280, 720)


@pytest.fixture(params=DPRS, ids=lambda d: f"dpr{d:g}")
async def computer(
    request: pytest.FixtureRequest, web: LoopbackServer
) -> AsyncIterator[PlaywrightComputer]:
    async with PlaywrightComputer(
        size=SIZE, device_scale_factor=request.param, start_url=web.url("/events.html")
    ) as c:
        assert (await c.settle(5)).stable
        yield c


async def events(c: PlaywrightComputer, *types: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await c.page.evaluate("window.__events")
    return [e for e in found if not types or e["type"] in types]


async def clear(c: PlaywrightComputer) -> None:
    await c.page.evaluate("window.__events.length = 0")


def close_to(event: dict[str, Any], point: Point) -> bool:
    return abs(event["x"] - point.x) <= 1 and abs(event["y"] - point.y) <= 1


def to_screen(x: float, y: float, space: CoordinateSpace) -> Point:
    return model_to_screen(x, y, space, SIZE).point


# model-space points per coordinate space: corners, edges, odd values
POINTS: dict[CoordinateSpace, list[tuple[float, float]]] = {
    "pixels": [(0, 0), (1, 1), (101, 203), (333.4, 77.6), (799, 499)],
    "normalized": [(0, 0), (1, 1), (79, 282), (333, 500), (624, 693)],
}


@pytest.mark.parametrize("space", ["pixels", "normalized"])
async def test_click_lands_at_the_exact_pixel(
    computer: PlaywrightComputer, space: CoordinateSpace
) -> None:
    for mx, my in POINTS[space]:
        point = to_screen(mx, my, space)
        await clear(computer)
        await computer.click(point.x, point.y)
        downs = await events(computer, "mousedown", "mouseup", "click")
        assert [e["type"] for e in downs] == ["mousedown", "mouseup", "click"]
        for e in downs:
            assert close_to(e, point), (space, (mx, my), point, e)
            assert e["button"] == 0


@pytest.mark.parametrize(
    ("button", "index", "aux"),
    [
        ("left", 0, "click"),
        ("middle", 1, "auxclick"),
        ("right", 2, "auxclick"),
        ("back", 3, "auxclick"),
        ("forward", 4, "auxclick"),
    ],
)
async def test_click_buttons(
    computer: PlaywrightComputer, button: Any, index: int, aux: str
) -> None:
    await computer.click(200, 150, button=button)
    downs = await events(computer, "mousedown")
    ups = await events(computer, "mouseup")
    assert [e["button"] for e in downs] == [index]
    assert [e["button"] for e in ups] == [index]
    assert close_to(downs[0], Point(200, 150))
    assert await events(computer, aux)
    assert computer.held() == ((), ())


async def test_click_holds_modifiers_and_releases_them_in_reverse(
    computer: PlaywrightComputer,
) -> None:
    await computer.click(300, 300, keys=["ctrl", "shift"])
    log = await events(computer, "keydown", "keyup", "mousedown", "mouseup")
    assert [(e["type"], e.get("key")) for e in log] == [
        ("keydown", "Control"),
        ("keydown", "Shift"),
        ("mousedown", None),
        ("mouseup", None),
        ("keyup", "Shift"),
        ("keyup", "Control"),
    ]
    down = log[2]
    assert down["ctrl"] and down["shift"] and not down["alt"] and not down["meta"]
    await clear(computer)
    await computer.click(300, 300, button="back", keys=["alt"])
    back = (await events(computer, "mousedown"))[0]
    assert back["button"] == 3 and back["alt"] and not back["ctrl"]
    await clear(computer)
    await computer.click(300, 300)
    plain = (await events(computer, "mousedown"))[0]
    assert not (plain["ctrl"] or plain["shift"] or plain["alt"] or plain["meta"])


async def test_double_and_triple_click_counts(computer: PlaywrightComputer) -> None:
    await computer.double_click(400, 100)
    assert [e["detail"] for e in await events(computer, "mousedown")] == [1, 2]
    assert len(await events(computer, "dblclick")) == 1
    await clear(computer)
    await computer.triple_click(400, 100, keys=["shift"])
    downs = await events(computer, "mousedown")
    assert [e["detail"] for e in downs] == [1, 2, 3]
    assert all(e["shift"] for e in downs)
    assert all(close_to(e, Point(400, 100)) for e in downs)


@pytest.mark.parametrize("space", ["pixels", "normalized"])
async def test_drag_follows_the_path_with_modifiers(
    computer: PlaywrightComputer, space: CoordinateSpace
) -> None:
    model_path = {
        "pixels": [(50, 50), (250, 60), (260, 300), (600, 400)],
        "normalized": [(40, 70), (195, 83), (203, 417), (469, 556)],
    }[space]
    path = [to_screen(x, y, space) for x, y in model_path]
    await computer.drag(path, keys=["shift"])
    log = await events(computer, "mousedown", "mousemove", "mouseup")
    downs = [e for e in log if e["type"] == "mousedown"]
    ups = [e for e in log if e["type"] == "mouseup"]
    assert len(downs) == 1 and len(ups) == 1
    assert close_to(downs[0], path[0]) and close_to(ups[0], path[-1])
    assert downs[0]["shift"] and ups[0]["shift"]
    i_down, i_up = log.index(downs[0]), log.index(ups[0])
    moves = log[i_down + 1 : i_up]
    assert all(e["buttons"] == 1 and e["shift"] for e in moves)
    # every path point is visited, in order
    cursor = 0
    for point in path[1:]:
        while cursor < len(moves) and not close_to(moves[cursor], point):
            cursor += 1
        assert cursor < len(moves), f"{point} not visited"
    assert computer.held() == ((), ())


async def test_move(computer: PlaywrightComputer) -> None:
    await computer.move(640, 360, keys=["alt"])
    moves = await events(computer, "mousemove")
    assert close_to(moves[-1], Point(640, 360))
    assert moves[-1]["alt"]


async def test_scroll_uses_real_wheel_events_at_the_point(computer: PlaywrightComputer) -> None:
    # inner scroll container scrolls, the window does not
    await computer.scroll(900, 300, 30, 120)
    assert (await computer.settle(5)).stable
    scroll = await computer.page.evaluate("window.__scroll()")
    assert scroll == {"window": [0, 0], "inner": [30, 120]}
    wheel = (await events(computer, "wheel"))[-1]
    assert close_to(wheel, Point(900, 300)) and wheel["target"] == "inner-content"
    assert wheel["deltaMode"] == 0
    # Chromium's device-metrics emulation reports wheel deltas divided by the
    # DPR while scrolling by the full amount (the effect checked above).
    dpr = computer.device_scale_factor
    assert wheel["deltaX"] * dpr == pytest.approx(30) and wheel["deltaY"] * dpr == pytest.approx(
        120
    )
    # the page scrolls when the pointer is over it, both axes, both directions
    await computer.scroll(300, 300, 40, 250)
    await computer.scroll(300, 300, -10, -50)
    assert (await computer.settle(5)).stable
    scroll = await computer.page.evaluate("window.__scroll()")
    assert scroll == {"window": [30, 200], "inner": [30, 120]}


async def test_type_ascii_symbols_and_unicode(computer: PlaywrightComputer) -> None:
    text = 'Hi <b>&"x"</b> é€ü漢 ok'
    await computer.click(900, 34)
    await computer.type(text)
    assert await computer.page.evaluate("document.getElementById('text').value") == text
    keys = [e["key"] for e in await events(computer, "keydown")]
    assert "<" in keys and ">" in keys  # real key events for layout characters
    inserted = [e["data"] for e in await events(computer, "input")]
    assert "漢" in inserted


async def test_keypress_chord_order_and_effect(computer: PlaywrightComputer) -> None:
    await computer.click(900, 34)
    await computer.type("select me")
    await clear(computer)
    await computer.keypress(["ctrl", "shift", "k"])
    log = [(e["type"], e["key"]) for e in await events(computer, "keydown", "keyup")]
    assert log == [
        ("keydown", "Control"),
        ("keydown", "Shift"),
        ("keydown", "K"),
        ("keyup", "K"),
        ("keyup", "Shift"),
        ("keyup", "Control"),
    ]
    await computer.keypress(["ctrl", "a"])
    await computer.type("x")
    assert await computer.page.evaluate("document.getElementById('text').value") == "x"
    await computer.keypress(["Backspace"])
    assert await computer.page.evaluate("document.getElementById('text').value") == ""


async def test_key_held_across_calls_until_key_up(computer: PlaywrightComputer) -> None:
    await computer.key_down("shift")
    await computer.click(100, 100)
    await computer.click(120, 100, keys=["shift"])  # already held: not pressed twice
    await computer.keypress(["a"])
    assert computer.held() == (("Shift",), ())
    await computer.key_up("shift")
    await computer.click(140, 100)
    downs = await events(computer, "mousedown")
    assert [e["shift"] for e in downs] == [True, True, False]
    assert [e["key"] for e in await events(computer, "keydown") if e["key"] != "Shift"] == ["A"]
    shift_events = [
        e["type"] for e in await events(computer, "keydown", "keyup") if e["key"] == "Shift"
    ]
    assert shift_events == ["keydown", "keyup"]


@pytest.mark.parametrize("button", ["left", "right", "middle", "back", "forward"])
async def test_mouse_down_up_and_release_all(computer: PlaywrightComputer, button: Any) -> None:
    index = {"left": 0, "middle": 1, "right": 2, "back": 3, "forward": 4}[button]
    await computer.mouse_down(150, 160, button=button)
    await computer.mouse_up(170, 180, button=button)
    downs, ups = await events(computer, "mousedown"), await events(computer, "mouseup")
    assert close_to(downs[0], Point(150, 160)) and downs[0]["button"] == index
    assert close_to(ups[0], Point(170, 180)) and ups[0]["button"] == index
    await clear(computer)
    await computer.key_down("ctrl")
    await computer.key_down("alt")
    await computer.mouse_down(200, 200, button=button)
    assert computer.held() == (("Control", "Alt"), (button,))
    await computer.release_all()
    log = [(e["type"], e.get("key")) for e in await events(computer, "mouseup", "keyup")]
    assert log == [("mouseup", None), ("keyup", "Alt"), ("keyup", "Control")]
    assert computer.held() == ((), ())
    await clear(computer)
    await computer.click(210, 210)
    after = (await events(computer, "mousedown"))[0]
    assert not after["ctrl"] and not after["alt"] and after["buttons"] == 1


MARKER_PAGE = """<!doctype html><html><body style="margin:0;background:#fff">
<div style="position:absolute;left:{x}px;top:{y}px;width:4px;height:4px;background:#f00"></div>
</body></html>"""


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
async def test_screenshot_is_declared_size_and_pixels_line_up(
    computer: PlaywrightComputer, web: LoopbackServer, fmt: Any
) -> None:
    web.pages["/marker.html"] = MARKER_PAGE.format(x=637, y=411)
    computer.image_format = fmt
    computer.quality = 80 if fmt != "png" else None
    await computer.navigate(web.url("/marker.html"))
    assert (await computer.settle(5)).stable
    shot = await computer.screenshot()
    assert (shot.width, shot.height, shot.format) == (1280, 720, fmt)
    image = Image.open(io.BytesIO(shot.data)).convert("RGB")
    assert image.size == (1280, 720)
    assert image.format is None or image.format.lower() == fmt
    reds = [
        (x, y)
        for y in range(400, 425)
        for x in range(625, 650)
        if (lambda p: p[0] > 200 and p[1] < 80 and p[2] < 80)(image.getpixel((x, y)))
    ]
    assert reds, "marker not found"
    assert abs(min(x for x, _ in reds) - 637) <= 1 and abs(min(y for _, y in reds) - 411) <= 1
    assert shot.capture_s > 0


async def test_screenshot_while_scrolled_shows_the_viewport(
    computer: PlaywrightComputer, web: LoopbackServer
) -> None:
    web.pages["/tall.html"] = (
        '<body style="margin:0;height:5000px;background:#fff">'
        '<div style="position:absolute;left:0;top:1000px;width:100%;height:10px;'
        'background:#00f"></div></body>'
    )
    await computer.navigate(web.url("/tall.html"))
    await computer.settle(5)
    await computer.scroll(640, 360, 0, 900)
    await computer.settle(5)
    image = Image.open(io.BytesIO((await computer.screenshot()).data)).convert("RGB")
    assert image.size == (1280, 720)
    r, g, b = image.getpixel((640, 104))
    assert b > 200 and r < 60, (r, g, b)


async def test_hung_capture_is_a_capture_error(web: LoopbackServer) -> None:
    async with PlaywrightComputer(start_url=web.url("/events.html"), capture_timeout_s=1e-6) as c:
        with pytest.raises(CaptureError):
            await c.screenshot()


async def test_crashed_page_raises_closed_on_next_action(web: LoopbackServer) -> None:
    async with PlaywrightComputer(start_url=web.url("/events.html")) as c:
        session = await c.context.new_cdp_session(c.page)
        # the page dies under the call, which may then never answer
        with contextlib.suppress(PlaywrightError, asyncio.TimeoutError):
            await asyncio.wait_for(session.send("Page.crash"), 2)
        for _ in range(100):
            if any(e.kind == "page_crashed" for e in c.drain_events()):
                break
            await c.wait(20)
        else:
            pytest.fail("no page_crashed event")
        with pytest.raises(ExecutorClosedError):
            await c.click(10, 10)


async def test_closed_computer_raises(web: LoopbackServer) -> None:
    c = PlaywrightComputer(start_url=web.url("/events.html"))
    await c.start()
    await c.close()
    await c.close()
    with pytest.raises(ExecutorClosedError):
        await c.click(1, 1)
