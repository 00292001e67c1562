"""Real-page hazards on real Chromium: pages that close themselves and browser shortcuts.

Each case is proved by its effect (the URL acted on, the text typed landing
where it should) and by the notices the executor leaves for the model. The
loop does `settle` right after every action, so the tests do too: that is
where a closing page used to end the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from browser_server import LoopbackServer

from executors import PlaywrightComputer
from executors._browser._shortcuts import typed_url

pytestmark = pytest.mark.browser

BUTTON = "position:absolute;left:0;top:0;width:300px;height:100px;display:block"


def page(body: str, title: str = "page") -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title></head>"
        f"<body style='margin:0'>{body}</body></html>"
    )


@pytest.fixture
def pages(web: LoopbackServer) -> LoopbackServer:
    web.pages["/opener.html"] = page(
        "<button id=go style='" + BUTTON + "' onclick=\"window.open('/closer.html', 'p', "
        "'width=400,height=300')\">popup</button>"
        "<a href='/closer.html' target=_blank style='" + BUTTON.replace("top:0", "top:150px")
        + "'>tab</a><input id=t style='position:absolute;left:0;top:300px;width:300px'>",
        "opener",
    )  # fmt: skip
    web.pages["/closer.html"] = page(
        "<button style='" + BUTTON + "' onclick='window.close()'>close me</button>", "closer"
    )
    web.pages["/second.html"] = page("<h1>second</h1>", "second")
    return web


@pytest.fixture
async def computer(pages: LoopbackServer) -> AsyncIterator[PlaywrightComputer]:
    async with PlaywrightComputer(start_url=pages.url("/opener.html")) as c:
        assert (await c.settle(5)).stable
        c.drain_events()
        yield c


def notices(c: PlaywrightComputer) -> list[str]:
    return [e.notice for e in c.drain_events() if e.notice]


@pytest.mark.parametrize("opener_y", [50, 200], ids=["window.open", "target_blank"])
async def test_a_page_closing_itself_hands_back_to_the_tab_before(
    computer: PlaywrightComputer, pages: LoopbackServer, opener_y: int
) -> None:
    await computer.click(150, opener_y)
    await computer.settle(5)
    assert await computer.current_url() == pages.url("/closer.html")
    told = notices(computer)
    assert "A new tab opened; actions now go to it." in told
    assert f"You are on tab 2 of 2: {pages.url('/closer.html')}." in told

    await computer.click(150, 50)  # window.close() in the click handler
    result = await computer.settle(5)  # used to raise: settle probed the closed page
    assert result.stable, result.reason
    assert await computer.current_url() == pages.url("/opener.html")
    told = notices(computer)
    assert any("closed; actions go to the previous tab again" in n for n in told), told
    assert f"You are on tab 1 of 1: {pages.url('/opener.html')}." in told
    shot = await computer.screenshot()
    assert shot.width == 1280
    await computer.click(150, 310)  # the first tab takes input again
    await computer.type("back")
    assert await computer.page.input_value("#t") == "back"


async def test_ctrl_w_goes_back_to_the_first_tab_and_ctrl_t_opens_one(
    computer: PlaywrightComputer, pages: LoopbackServer
) -> None:
    await computer.keypress(["ctrl", "t"])
    await computer.settle(5)
    assert await computer.current_url() == "about:blank"
    assert len(computer.context.pages) == 2
    await computer.keypress(["CTRL", "W"])
    assert (await computer.settle(5)).stable
    assert await computer.current_url() == pages.url("/opener.html")
    assert len(computer.context.pages) == 1
    assert f"You are on tab 1 of 1: {pages.url('/opener.html')}." in notices(computer)


async def test_ctrl_tab_cycles_tabs_and_ctrl_digit_picks_one(
    computer: PlaywrightComputer, pages: LoopbackServer
) -> None:
    await computer.click(150, 200)  # target=_blank: tab 2
    await computer.settle(5)
    assert await computer.current_url() == pages.url("/closer.html")
    await computer.keypress(["ctrl", "tab"])  # wraps to tab 1
    await computer.settle(5)
    assert await computer.current_url() == pages.url("/opener.html")
    assert f"You are on tab 1 of 2: {pages.url('/opener.html')}." in notices(computer)
    await computer.keypress(["ctrl", "shift", "tab"])
    assert await computer.current_url() == pages.url("/closer.html")
    await computer.keypress(["ctrl", "1"])
    assert await computer.current_url() == pages.url("/opener.html")
    await computer.click(150, 310)  # input goes to the tab switched to
    await computer.type("first")
    assert await computer.page.input_value("#t") == "first"


async def test_alt_left_right_and_reload(
    computer: PlaywrightComputer, pages: LoopbackServer
) -> None:
    await computer.navigate(pages.url("/second.html"))
    await computer.keypress(["alt", "left"])
    await computer.settle(5)
    assert await computer.current_url() == pages.url("/opener.html")
    await computer.keypress(["ALT", "ARROWRIGHT"])
    await computer.settle(5)
    assert await computer.current_url() == pages.url("/second.html")
    await computer.keypress(["alt", "right"])
    assert "There is no next page in this tab's history." in notices(computer)
    await computer.page.evaluate("window.__mark = 1")
    await computer.keypress(["F5"])
    await computer.settle(5)
    assert await computer.page.evaluate("window.__mark") is None  # a fresh document


async def test_ctrl_l_then_a_url_and_enter_navigates(
    computer: PlaywrightComputer, pages: LoopbackServer
) -> None:
    await computer.click(150, 310)
    await computer.keypress(["ctrl", "l"])
    assert any("address bar is focused" in n for n in notices(computer))
    await computer.type(pages.url("/second.html"))
    await computer.keypress(["Return"])
    await computer.settle(5)
    assert await computer.current_url() == pages.url("/second.html")
    # typed text went to the address bar, not the page's field
    await computer.keypress(["alt", "left"])
    await computer.settle(5)
    assert await computer.page.input_value("#t") == ""
    # a trailing newline is Enter; a host without scheme gets one
    await computer.keypress(["ctrl", "l"])
    await computer.type(f"127.0.0.1:{pages.port}/second.html\n")
    await computer.settle(5)
    assert await computer.current_url() == pages.url("/second.html")


async def test_address_bar_left_by_escape_and_by_a_click(
    computer: PlaywrightComputer, pages: LoopbackServer
) -> None:
    await computer.keypress(["ctrl", "l"])
    await computer.keypress(["escape"])
    await computer.click(150, 310)
    await computer.type("page")
    assert await computer.page.input_value("#t") == "page"
    await computer.keypress(["ctrl", "l"])
    await computer.click(150, 310)
    await computer.type("s")
    assert await computer.page.input_value("#t") == "pages"


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("http://a.test/x", "http://a.test/x"),
        ("example.com", "https://example.com"),
        ("localhost:8000/a", "http://localhost:8000/a"),
        ("127.0.0.1:9/x", "http://127.0.0.1:9/x"),
        ("cats and dogs", None),
        ("cats", None),
    ],
)
def test_typed_url(text: str, url: str | None) -> None:
    assert typed_url(text) == url
