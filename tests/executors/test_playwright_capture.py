"""The capture `settle` starts early is used only when it shows the settled screen.

`PlaywrightComputer.settle` requests the screenshot while its page probe is
still checking frames and keeps it for the `screenshot` call that follows.
Each test makes the screen change in a way that would show in a stale or early
capture, and checks the pixels that come back.
"""

from __future__ import annotations

import io

import pytest
from browser_server import LoopbackServer
from PIL import Image

from executors import PlaywrightComputer

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0} #box{position:absolute;left:0;top:0;width:400px;height:300px;
background:rgb(255,255,255)} button{position:absolute;left:500px;width:200px;height:40px}
</style></head><body><div id="box"></div>
<button id="now" style="top:20px">now</button>
<button id="raf2" style="top:80px">two frames later</button>
<button id="frames" style="top:140px">every frame for 200 ms</button>
<script>
  const box = document.getElementById('box');
  const paint = (c) => { box.style.background = c; };
  document.getElementById('now').onclick = () => paint('rgb(255, 0, 0)');
  document.getElementById('raf2').onclick = () =>
    requestAnimationFrame(() => requestAnimationFrame(() => paint('rgb(0, 0, 255)')));
  document.getElementById('frames').onclick = () => {
    const start = performance.now();
    const tick = () => {
      if (performance.now() - start > 200) { paint('rgb(0, 160, 0)'); return; }
      paint('rgb(' + Math.floor(Math.random() * 200) + ', 0, 90)');
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
</script></body></html>"""

BUTTONS = {"now": 40, "raf2": 100, "frames": 160}


def box(data: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as image:
        r, g, b = image.convert("RGB").getpixel((200, 150))[:3]
    return (r, g, b)


@pytest.fixture(params=[1.0, 2.0], ids=lambda d: f"dpr{d:g}")
def dpr(request: pytest.FixtureRequest) -> float:
    return float(request.param)


async def start(web: LoopbackServer, dpr: float) -> PlaywrightComputer:
    web.pages["/capture.html"] = PAGE
    computer = PlaywrightComputer(device_scale_factor=dpr, start_url=web.url("/capture.html"))
    await computer.start()
    assert (await computer.settle(5)).stable
    assert box((await computer.screenshot()).data) == (255, 255, 255)
    return computer


@pytest.mark.parametrize(
    ("button", "colour"),
    [("now", (255, 0, 0)), ("raf2", (0, 0, 255)), ("frames", (0, 160, 0))],
)
async def test_screenshot_after_settle_shows_the_settled_page(
    web: LoopbackServer, dpr: float, button: str, colour: tuple[int, int, int]
) -> None:
    computer = await start(web, dpr)
    try:
        for _ in range(3):  # the same change again: only a fresh frame can show it
            await computer.click(600, BUTTONS[button])
            result = await computer.settle(5)
            assert result.stable, result.reason
            shot = await computer.screenshot()
            assert (shot.width, shot.height) == (1280, 720)
            assert box(shot.data) == colour
            await computer.page.evaluate("document.getElementById('box').style.background = ''")
            assert (await computer.settle(5)).stable
            assert box((await computer.screenshot()).data) == (255, 255, 255)
    finally:
        await computer.close()


async def test_input_after_settle_means_a_fresh_capture(web: LoopbackServer, dpr: float) -> None:
    computer = await start(web, dpr)
    try:
        assert (await computer.settle(5)).stable
        await computer.click(600, BUTTONS["now"])  # the change happens in the click handler
        assert box((await computer.screenshot()).data) == (255, 0, 0)
    finally:
        await computer.close()


async def test_format_changed_after_settle_is_honoured(web: LoopbackServer) -> None:
    computer = await start(web, 1.0)
    try:
        assert (await computer.settle(5)).stable
        computer.image_format = "jpeg"
        computer.quality = 80
        shot = await computer.screenshot()
        assert shot.format == "jpeg" and shot.data[:2] == b"\xff\xd8"
    finally:
        await computer.close()


KEYS_PAGE = """<!doctype html><html><body><input id="t" autocomplete="off"><script>
  window.__keys = [];
  for (const type of ['keydown', 'keypress', 'keyup', 'beforeinput', 'input', 'textInput']) {
    window.addEventListener(type, (e) => window.__keys.push([
      e.type, e.key, e.code, e.keyCode, e.which, e.charCode, e.location, e.repeat,
      e.isComposing, e.altKey, e.ctrlKey, e.metaKey, e.shiftKey, e.data, e.inputType,
      e.target.value, e.isTrusted,
    ]), true);
  }
</script></body></html>"""


async def test_plain_typing_sends_what_playwright_sends(web: LoopbackServer) -> None:
    # computer.type sends lower-case letters, digits and spaces as pipelined CDP key
    # events: the page must see exactly the events Playwright's keyboard.type makes.
    web.pages["/keys.html"] = KEYS_PAGE
    text = "hello world 0123456789 abcdefghijklmnopqrstuvwxyz"
    async with PlaywrightComputer(start_url=web.url("/keys.html")) as computer:
        assert (await computer.settle(5)).stable
        logs = []
        for typer in (computer.page.keyboard.type, computer.type):
            await computer.page.evaluate(
                "() => { const t = document.getElementById('t'); t.value = ''; t.focus();"
                " window.__keys = []; }"
            )
            await typer(text)
            logs.append(await computer.page.evaluate("window.__keys"))
            assert await computer.page.evaluate("document.getElementById('t').value") == text
        assert logs[0] == logs[1]
        assert len(logs[0]) >= 4 * len(text)


async def test_chromiums_base64_is_the_data_url_and_decodes_to_the_screenshot(
    web: LoopbackServer, dpr: float
) -> None:
    import base64

    from agent._api._profiles import data_url

    computer = await start(web, dpr)
    try:
        await computer.click(600, BUTTONS["now"])
        await computer.settle(5)
        shot = await computer.screenshot()
        # sent once as Chromium encoded it, not decoded and encoded again
        assert shot.b64 is not None
        url = data_url(shot)
        assert url == f"data:image/png;base64,{shot.b64}"
        assert base64.b64decode(url.split(",", 1)[1]) == shot.data
        assert box(shot.data) == (255, 0, 0)
    finally:
        await computer.close()


@pytest.mark.parametrize("keys", [["BACKSPACE"], ["shift", "a"], ["ctrl", "shift", "b"]])
async def test_keypress_sends_what_holding_each_key_sends(
    web: LoopbackServer, keys: list[str]
) -> None:
    # a chord with nothing held goes to Playwright's keyboard.press in one call: the page
    # must see exactly the events of pressing each key in order and releasing in reverse
    web.pages["/keys.html"] = KEYS_PAGE
    async with PlaywrightComputer(start_url=web.url("/keys.html")) as computer:
        assert (await computer.settle(5)).stable
        page = computer.page

        async def one_by_one(chord: list[str]) -> None:
            names = computer._keyboard.names(chord)
            for name in names:
                await page.keyboard.down(name)
            for name in reversed(names):
                await page.keyboard.up(name)

        logs = []
        for press in (one_by_one, computer.keypress):
            await page.evaluate(
                "() => { const t = document.getElementById('t'); t.value = 'xyz'; t.focus();"
                " window.__keys = []; }"
            )
            await press(keys)
            logs.append(await page.evaluate("window.__keys"))
        assert logs[0] == logs[1]
        assert len(logs[0]) >= 2 * len(keys)
