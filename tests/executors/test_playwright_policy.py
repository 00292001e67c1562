"""Domain policy at the network layer, tabs and popups, and settling, in real Chromium.

`forbidden` listens on 127.0.0.2 and counts hits; the policy allows only
127.0.0.1, so every test ends with zero hits there and the model (the active
page) seeing the blocked page where a navigation was refused.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from browser_server import LoopbackServer
from PIL import Image

from executors import PlaywrightComputer
from sandbox import DomainPolicy

pytestmark = pytest.mark.browser

BLOCKED_TEXT = "Blocked by screenloop policy"


@pytest.fixture
async def guarded(web: LoopbackServer) -> AsyncIterator[PlaywrightComputer]:
    policy = DomainPolicy(allow=["127.0.0.1"])
    async with PlaywrightComputer(policy=policy, start_url=web.url("/events.html")) as c:
        await c.settle(5)
        c.drain_events()
        yield c


def button_page(script: str, body: str = "") -> str:
    return (
        "<!doctype html><html><body style='margin:0'>"
        "<button id=go style='position:absolute;left:0;top:0;width:200px;height:100px' "
        f'onclick="{script}">go</button>{body}</body></html>'
    )


# (name, page html built from the forbidden URL, navigation blocked?)
VECTORS = {
    "link": (
        lambda f: button_page(
            "",
            f"<a id=a href='{f}' style='position:absolute;left:0;"
            "top:0;width:200px;height:100px;display:block'>x</a>",
        ),
        True,
    ),
    "redirect": (lambda f: button_page(f"location.href='/redirect?to={f}'"), True),
    "meta_refresh": (lambda f: button_page("location.href='/meta.html'"), True),
    "popup_link": (
        lambda f: button_page(
            "",
            f"<a href='{f}' target=_blank style='position:"
            "absolute;left:0;top:0;width:200px;height:100px;"
            "display:block'>x</a>",
        ),
        True,
    ),
    "window_open": (lambda f: button_page(f"window.open('{f}')"), True),
    "popup_redirect": (lambda f: button_page(f"window.open('/redirect?to={f}')"), True),
    "iframe": (
        lambda f: button_page(
            f"document.body.insertAdjacentHTML('beforeend', '<iframe src={f}></iframe>')"
        ),
        False,
    ),
    "fetch": (lambda f: button_page(f"fetch('{f}').catch(() => 0)"), False),
    "fetch_redirect": (lambda f: button_page(f"fetch('/redirect?to={f}').catch(() => 0)"), False),
    "xhr": (
        lambda f: button_page(f"var x = new XMLHttpRequest(); x.open('GET', '{f}'); x.send()"),
        False,
    ),
    "image": (
        lambda f: button_page(f"document.body.insertAdjacentHTML('beforeend', '<img src={f}>')"),
        False,
    ),
    "websocket": (lambda f: button_page(f"new WebSocket('{f.replace('http', 'ws')}')"), False),
}


@pytest.mark.parametrize("vector", list(VECTORS))
async def test_forbidden_host_is_never_contacted(
    guarded: PlaywrightComputer, web: LoopbackServer, forbidden: LoopbackServer, vector: str
) -> None:
    build, navigation = VECTORS[vector]
    target = forbidden.url(f"/secret-{vector}")
    web.pages[f"/{vector}.html"] = build(target)
    web.pages["/meta.html"] = f"<meta http-equiv=refresh content='0; url={target}'>"
    await guarded.navigate(web.url(f"/{vector}.html"))
    await guarded.settle(5)
    await guarded.click(100, 50)
    for _ in range(3):
        await guarded.settle(5)
    assert forbidden.hits == []
    kinds = {e.kind for e in guarded.drain_events()}
    if navigation:
        assert "navigation_blocked" in kinds
        text = await guarded.page.evaluate("document.body.innerText")
        assert BLOCKED_TEXT in text
        shot = Image.open(io.BytesIO((await guarded.screenshot()).data))
        assert shot.size == (1280, 720)
    else:
        assert "request_blocked" in kinds


async def test_navigate_to_forbidden_shows_blocked_page(
    guarded: PlaywrightComputer, forbidden: LoopbackServer
) -> None:
    for url in (forbidden.url("/x"), "file:///etc/passwd", "chrome://version", "javascript:1"):
        await guarded.navigate(url)
        assert BLOCKED_TEXT in await guarded.page.evaluate("document.body.innerText")
        events = guarded.drain_events()
        assert [e.kind for e in events] == ["navigation_blocked"]
        assert events[0].data["url"] == url
    assert forbidden.hits == []


async def test_allowed_redirect_and_fetch_still_work(
    guarded: PlaywrightComputer, web: LoopbackServer
) -> None:
    await guarded.navigate(web.url("/redirect?to=/events.html"))
    await guarded.settle(5)
    assert (await guarded.current_url()) == web.url("/events.html")
    status = await guarded.page.evaluate("fetch('/redirect?to=/slow?ms=1').then(r => r.text())")
    assert status == "slow"
    assert guarded.drain_events() == []


async def test_popups_are_followed_and_closing_falls_back(web: LoopbackServer) -> None:
    web.pages["/opener.html"] = button_page("window.open('/popup.html')")
    web.pages["/popup.html"] = (
        "<body style='margin:0'><input id=t style='position:absolute;left:0;top:0;width:300px'>"
        "<button onclick='window.close()' style='position:absolute;left:0;top:100px;"
        "width:200px;height:60px'>close</button></body>"
    )
    policy = DomainPolicy(allow=["127.0.0.1"])
    async with PlaywrightComputer(policy=policy, start_url=web.url("/opener.html")) as c:
        await c.settle(5)
        await c.click(100, 50)
        await c.settle(5)
        assert await c.current_url() == web.url("/popup.html")
        events = c.drain_events()
        assert [e.kind for e in events] == ["tab_opened", "tab_switched", "tab_position"]
        await c.click(100, 10)
        await c.type("in the popup")
        assert await c.page.evaluate("document.getElementById('t').value") == "in the popup"
        await c.click(100, 130)
        for _ in range(50):
            if await c.current_url() == web.url("/opener.html"):
                break
            await c.wait(20)
        assert await c.current_url() == web.url("/opener.html")
        assert [e.kind for e in c.drain_events()] == ["tab_closed", "tab_switched"]
        await c.click(100, 50)  # still acts, on the first page
        await c.settle(5)
        assert await c.current_url() == web.url("/popup.html")


def box_colour(shot_data: bytes) -> tuple[int, int, int]:
    image = Image.open(io.BytesIO(shot_data)).convert("RGB")
    r, g, b = image.getpixel((200, 150))[:3]
    return (r, g, b)


@pytest.mark.parametrize(("button_y", "colour"), [(50, (255, 0, 0)), (130, (0, 0, 255))])
async def test_settle_waits_for_a_change_coming_after_the_click(
    web: LoopbackServer, button_y: int, colour: tuple[int, int, int]
) -> None:
    async with PlaywrightComputer(start_url=web.url("/settle.html")) as c:
        assert (await c.settle(5)).stable
        assert box_colour((await c.screenshot()).data) == (255, 255, 255)
        await c.click(600, button_y)
        result = await c.settle(5)
        assert result.stable, result.reason
        assert box_colour((await c.screenshot()).data) == colour


async def test_static_page_settles(web: LoopbackServer) -> None:
    async with PlaywrightComputer(start_url=web.url("/settle.html")) as c:
        assert (await c.settle(5)).stable
        await c.move(10, 10)
        result = await c.settle(5)
        assert result.stable, result.reason


async def test_endless_animation_is_bounded_and_reported(web: LoopbackServer) -> None:
    web.pages["/busy.html"] = (
        "<div id=d></div><script>(function f(){document.getElementById('d').textContent = "
        "Math.random(); requestAnimationFrame(f)})()</script>"
    )
    async with PlaywrightComputer(start_url=web.url("/busy.html")) as c:
        result = await c.settle(0.3)
        assert not result.stable
        assert "dom" in result.reason
