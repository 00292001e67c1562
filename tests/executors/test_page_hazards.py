"""Real-page hazards on real Chromium: pages that close themselves and browser shortcuts.

Each case is proved by its effect (the URL acted on, the text typed landing
where it should) and by the notices the executor leaves for the model. The
loop does `settle` right after every action, so the tests do too: that is
where a closing page used to end the run.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from browser_server import LoopbackServer
from PIL import Image

from executors import PlaywrightComputer
from executors._browser._dialog_paint import DialogLayout, dialog_layout
from executors._browser._selects import OPTION_HEIGHT
from executors._browser._shortcuts import typed_url
from executors._computer import Point, Size
from executors._geometry import CoordinateSpace, model_to_screen, screen_to_model

pytestmark = pytest.mark.browser

SIZE = Size(1280, 720)
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


# -- dialogs ------------------------------------------------------------------------------

DIALOG_PAGE = page(
    "<button style='" + BUTTON + "' onclick=\"document.title = 'confirm:' + confirm('Sure?')\">"
    "confirm</button>"
    "<button style='" + BUTTON.replace("top:0", "top:120px") + "' onclick=\"document.title = "
    "'prompt:' + prompt('Your name?', 'nobody')\">prompt</button>"
    "<button style='" + BUTTON.replace("top:0", "top:240px") + "' onclick=\"alert('Saved!'); "
    "document.title = 'after alert'\">alert</button>"
    "<input id=t style='position:absolute;left:0;top:400px;width:300px'>"
    "<a href='/second.html' style='" + BUTTON.replace("top:0", "top:450px") + "'>leave</a>"
    "<script>addEventListener('beforeunload', e => { e.preventDefault(); e.returnValue = ''; })"
    "</script>",
    "dialogs",
)  # fmt: skip


async def open_dialog_page(
    web: LoopbackServer, **options: Any
) -> AsyncIterator[PlaywrightComputer]:
    web.pages["/dialogs.html"] = DIALOG_PAGE
    web.pages["/second.html"] = page("<h1>second</h1>", "second")
    async with PlaywrightComputer(start_url=web.url("/dialogs.html"), **options) as c:
        assert (await c.settle(5)).stable
        c.drain_events()
        yield c


@pytest.fixture
async def dialogs(web: LoopbackServer) -> AsyncIterator[PlaywrightComputer]:
    async for c in open_dialog_page(web):
        yield c


def pixel(shot: bytes, x: int, y: int) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(shot)) as image:
        r, g, b = image.convert("RGB").getpixel((x, y))[:3]
    return (r, g, b)


async def shows_dialog(c: PlaywrightComputer, kind: str, text: str) -> DialogLayout:
    """Settle and screenshot as the loop does; the dialog is drawn where its layout says."""
    assert (await c.settle(5)).stable
    shot = (await c.screenshot()).data
    layout = dialog_layout(kind, text, f"127.0.0.1:{c.page.url.split(':')[2].split('/')[0]}", SIZE)
    ok = layout.ok
    assert pixel(shot, ok.x + 4, ok.y + ok.height // 2) == (26, 115, 232)  # the blue OK button
    box = layout.box
    assert pixel(shot, box.x + 6, box.y + box.height - 6) == (255, 255, 255)  # the white box
    assert pixel(shot, 5, SIZE.height - 5) != (255, 255, 255)  # the page behind, dimmed
    return layout


async def title(c: PlaywrightComputer) -> str:
    for _ in range(100):  # the answer reaches the page a moment after the action returns
        text = await c.page.title()
        if text not in ("dialogs", ""):  # "" while the page resumes from the dialog
            return text
        await c.page.wait_for_timeout(20)
    return await c.page.title()


@pytest.mark.parametrize(
    ("how", "expected"),
    [("click ok", "confirm:true"), ("click cancel", "confirm:false"),
     ("enter", "confirm:true"), ("escape", "confirm:false")],
)  # fmt: skip
async def test_confirm_waits_for_the_model_and_is_answered(
    dialogs: PlaywrightComputer, how: str, expected: str
) -> None:
    await dialogs.click(150, 50)  # returns although the page waits for the answer
    layout = await shows_dialog(dialogs, "confirm", "Sure?")
    told = notices(dialogs)
    assert any("confirm dialog saying 'Sure?' is open" in n for n in told), told
    await dialogs.type("ignored")  # typing into a confirm does nothing
    if how.startswith("click"):
        await dialogs.click(400, 600)  # outside the dialog: nothing
        assert any("outside the open dialog" in n for n in notices(dialogs))
        target = layout.ok if how == "click ok" else layout.cancel
        assert target is not None
        await dialogs.click(target.x + 10, target.y + 10)
    else:
        await dialogs.keypress(["Return" if how == "enter" else "ESC"])
    assert await title(dialogs) == expected
    told = notices(dialogs)
    assert any("was answered" in n for n in told), told
    assert (await dialogs.settle(5)).stable  # the page is back
    shot = (await dialogs.screenshot()).data
    assert pixel(shot, layout.ok.x + 4, layout.ok.y + 5) != (26, 115, 232)


async def test_prompt_is_answered_by_typing(dialogs: PlaywrightComputer) -> None:
    await dialogs.click(150, 170)
    await shows_dialog(dialogs, "prompt", "Your name?")
    await dialogs.type("Ada")  # replaces the selected default text
    await dialogs.keypress(["backspace"])
    await dialogs.type("a\n")
    assert await title(dialogs) == "prompt:Ada"
    assert any("with 'Ada'" in n for n in notices(dialogs))


async def test_alert_is_shown_then_accepted(dialogs: PlaywrightComputer) -> None:
    await dialogs.click(150, 290)
    layout = await shows_dialog(dialogs, "alert", "Saved!")
    assert layout.cancel is None
    await dialogs.click(layout.ok.x + 5, layout.ok.y + 5)
    assert await title(dialogs) == "after alert"


@pytest.mark.parametrize(("key", "url"), [("Enter", "/second.html"), ("Escape", "/dialogs.html")])
async def test_beforeunload_leave_and_stay(
    dialogs: PlaywrightComputer, web: LoopbackServer, key: str, url: str
) -> None:
    await dialogs.click(150, 410)  # a user gesture: pages may ask only after one
    await dialogs.type("unsaved")
    await dialogs.click(150, 500)  # the link away
    await shows_dialog(dialogs, "beforeunload", "")
    assert any('"Leave site?" dialog' in n for n in notices(dialogs))
    await dialogs.keypress([key])
    await dialogs.settle(5)
    assert await dialogs.current_url() == web.url(url)


async def test_unanswered_dialog_is_dismissed_after_the_bound(web: LoopbackServer) -> None:
    async for c in open_dialog_page(web, dialog_auto_dismiss_after=2):
        await c.click(150, 50)
        for _ in range(2):
            await shows_dialog(c, "confirm", "Sure?")
        await c.settle(5)
        await c.screenshot()  # the third: past the bound
        assert await title(c) == "confirm:false"
        assert any("after 2 screenshots without an answer" in n for n in notices(c))


@pytest.mark.parametrize(("policy", "expected"), [("accept", "true"), ("dismiss", "false")])
async def test_dialog_policies_answer_at_once(
    web: LoopbackServer, policy: str, expected: str
) -> None:
    async for c in open_dialog_page(web, dialogs=policy):
        await c.click(150, 50)
        assert await title(c) == f"confirm:{expected}"
        assert any("automatically" in n for n in notices(c))


# -- slow navigations -------------------------------------------------------------------

SLOW_PAGE = page(
    "<a href='/slow?ms=3000&colour=00ff00' style='" + BUTTON + "'>slow link</a>"
    "<button style='" + BUTTON.replace("top:0", "top:150px") + "' onclick=\"document.body."
    "style.background = '#ffff00'; fetch('/slow?ms=3000').then(r => r.text()).then(() => "
    "{ document.body.style.background = '#0000ff' })\">load</button>",
    "slow",
)  # fmt: skip


@pytest.mark.parametrize(
    ("y", "colour"), [(50, (0, 255, 0)), (200, (0, 0, 255))], ids=["document", "fetch"]
)
async def test_a_3s_document_or_fetch_is_waited_for(
    web: LoopbackServer, y: int, colour: tuple[int, int, int]
) -> None:
    web.pages["/slow-start.html"] = SLOW_PAGE
    async with PlaywrightComputer(start_url=web.url("/slow-start.html")) as c:
        assert (await c.settle(5)).stable
        await c.click(150, y)
        result = await c.settle(2.0)  # the loop's settle bound; the navigation bound is 10 s
        assert result.stable, result.reason
        assert pixel((await c.screenshot()).data, 600, 500) == colour
        assert not [e for e in c.drain_events() if e.kind == "loading"]


async def test_a_document_slower_than_the_bound_is_told_as_still_loading(
    web: LoopbackServer,
) -> None:
    web.pages["/slow-start.html"] = SLOW_PAGE
    async with PlaywrightComputer(
        start_url=web.url("/slow-start.html"), navigation_settle_s=1.0
    ) as c:
        assert (await c.settle(5)).stable
        c.drain_events()
        await c.click(150, 50)
        result = await c.settle(0.5)
        assert not result.stable
        told = notices(c)
        assert any("The page is still loading (the next page has not arrived" in n for n in told), (
            result,
            told,
        )
        assert any("still shows the previous page" in n for n in told)


HANG_COLOURS = ["ff0000", "00ff00", "0000ff"]
HANG_PAGE = page(
    "<button style='" + BUTTON + "' onclick=\"const n = (window.clicks = (window.clicks || 0) "
    "+ 1); document.body.style.background = '#' + " + repr(HANG_COLOURS) + "[n - 1]; "
    "fetch('/hang?n=' + n)\">beacon</button>",
    "hang",
)  # fmt: skip


async def test_a_request_that_never_answers_holds_one_settle_not_every_step(
    web: LoopbackServer,
) -> None:
    # every click sends a request the server never answers (a beacon to a dead endpoint)
    web.pages["/hang.html"] = HANG_PAGE
    async with PlaywrightComputer(start_url=web.url("/hang.html"), navigation_settle_s=2.0) as c:
        assert (await c.settle(5)).stable
        await c.click(150, 50)
        first = await c.settle(0.5)
        assert not first.stable and "network busy" in first.reason, first
        for n in (2, 3):
            await c.click(150, 50)
            later = await c.settle(0.5)
            # the same address never answered before: not waited for again
            assert later.stable, (n, later)
            colour = tuple(int(HANG_COLOURS[n - 1][i : i + 2], 16) for i in (0, 2, 4))
            assert pixel((await c.screenshot()).data, 600, 500) == colour
        assert web.hanging == 3  # all three requests were sent and are still unanswered


# -- native selects -----------------------------------------------------------------------

SELECT_PAGE = page(
    "<select id=low style='position:absolute;left:40px;top:20px;width:200px;height:30px' "
    "onchange=\"document.title = 'low:' + this.value\">"
    + "".join(f"<option value=l{i}>low option {i}</option>" for i in range(6))
    + "</select><select id=high style='position:absolute;left:400px;top:660px;width:200px;"
    "height:30px' onchange=\"document.title = 'high:' + this.value\">"
    + "".join(f"<option value=h{i}>high option {i}</option>" for i in range(6))
    + "</select><div id=under style='position:absolute;left:40px;top:50px;width:600px;"
    "height:400px' onclick=\"document.title = 'under'\"></div>",
    "selects",
)  # fmt: skip


@pytest.mark.parametrize("dpr", [1.0, 2.0], ids=["dpr1", "dpr2"])
@pytest.mark.parametrize("space", ["pixels", "normalized"])
async def test_a_click_on_a_drawn_option_selects_it(
    web: LoopbackServer, dpr: float, space: CoordinateSpace
) -> None:
    web.pages["/selects.html"] = SELECT_PAGE
    async with PlaywrightComputer(start_url=web.url("/selects.html"), device_scale_factor=dpr) as c:
        assert (await c.settle(5)).stable

        async def click(x: int, y: int) -> None:
            # the way the agent gets there: model space -> screen pixels
            mx, my = screen_to_model(Point(x, y), space, SIZE)
            point = model_to_screen(round(mx), round(my), space, SIZE).point
            await c.click(point.x, point.y)
            await c.settle(5)

        # the list of the top select opens below it: option 3 is the 4th row under it
        await click(100, 35)
        shot = (await c.screenshot()).data
        assert pixel(shot, 220, 50 + 1 + OPTION_HEIGHT // 2) == (25, 103, 210)  # option 0 chosen
        await click(100, 50 + 1 + 3 * OPTION_HEIGHT + OPTION_HEIGHT // 2)
        assert await c.page.title() == "low:l3"  # the option, not the div underneath
        assert await c.page.input_value("#low") == "l3"
        # the bottom select has no room below: its list opens above it
        await click(500, 675)
        top = 660 - (6 * OPTION_HEIGHT + 2)
        await click(500, top + 1 + 5 * OPTION_HEIGHT + OPTION_HEIGHT // 2)
        assert await c.page.title() == "high:h5"
        # a click outside an open list closes it and selects nothing
        await click(100, 35)
        await click(900, 300)
        assert await c.page.input_value("#low") == "l3"
        await click(100, 200)  # the list is closed: the div underneath gets the click
        assert await c.page.title() == "under"


# -- what already worked keeps working ------------------------------------------------------

FIELD = "position:absolute;left:0;width:300px;height:40px;"
REGRESSION_PAGES = {
    "iframe": "<iframe style='position:absolute;left:0;top:0;width:400px;height:200px;"
    "border:0' srcdoc=\"<body style='margin:0'><input style='width:300px;height:40px'>\">"
    "</iframe>",
    "shadow": "<x-box style='position:absolute;left:0;top:0'></x-box><script>"
    "document.querySelector('x-box').attachShadow({mode:'open'}).innerHTML = "
    "`<input style='width:300px;height:40px'>`</script>",
    "contenteditable": f"<div contenteditable style='{FIELD}top:0;border:1px solid'></div>",
    "canvas": "<canvas width=400 height=300 style='position:absolute;left:100px;top:100px'>"
    "</canvas><script>const cv = document.querySelector('canvas'); cv.addEventListener("
    "'mousedown', e => { window.__hit = [e.offsetX, e.offsetY]; cv.getContext('2d')."
    "fillRect(e.offsetX - 5, e.offsetY - 5, 10, 10); })</script>",
    "focus": "".join(f"<input id=f{i} style='{FIELD}top:{i * 60}px'>" for i in range(3)),
    "clipboard": f"<input id=a value='copy me' style='{FIELD}top:0'>"
    f"<input id=b style='{FIELD}top:60px'>",
    "hover": "<style>#m{position:absolute;left:0;top:0;width:200px;height:40px;background:#ccc}"
    "#sub{display:none;position:absolute;top:40px;width:200px;height:40px;background:#f00}"
    "#m:hover #sub{display:block}</style><div id=m>menu<div id=sub "
    "onclick=\"document.title = 'picked'\">item</div></div>",
    "contextmenu": "<div id=zone style='position:absolute;left:0;top:0;width:400px;height:300px'>"
    "</div><div id=menu style='display:none;position:absolute;width:150px;height:30px;"
    "background:#00f' onclick=\"document.title = 'menu item'\"></div><script>"
    "zone.addEventListener('contextmenu', e => { e.preventDefault(); menu.style.left = "
    "e.clientX + 'px'; menu.style.top = e.clientY + 'px'; menu.style.display = 'block'; })"
    "</script>",
}


@pytest.fixture
async def plain(web: LoopbackServer) -> AsyncIterator[PlaywrightComputer]:
    for name, body in REGRESSION_PAGES.items():
        web.pages[f"/r-{name}.html"] = page(body, name)
    async with PlaywrightComputer(start_url="about:blank") as c:
        yield c


async def open_case(c: PlaywrightComputer, web: LoopbackServer, name: str) -> None:
    await c.navigate(web.url(f"/r-{name}.html"))
    assert (await c.settle(5)).stable


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("iframe", "document.querySelector('iframe').contentDocument.querySelector('input').value"),
        ("shadow", "document.querySelector('x-box').shadowRoot.querySelector('input').value"),
        ("contenteditable", "document.querySelector('[contenteditable]').innerText"),
    ],
)
async def test_typing_reaches_frames_shadow_roots_and_editable_content(
    plain: PlaywrightComputer, web: LoopbackServer, name: str, value: str
) -> None:
    await open_case(plain, web, name)
    await plain.click(100, 20)
    await plain.type("héllo wörld")
    assert (await plain.page.evaluate(value)).strip() == "héllo wörld"


async def test_canvas_click_lands_at_the_point(
    plain: PlaywrightComputer, web: LoopbackServer
) -> None:
    await open_case(plain, web, "canvas")
    await plain.click(250, 175)
    await plain.settle(5)
    assert await plain.page.evaluate("window.__hit") == [150, 75]
    assert pixel((await plain.screenshot()).data, 250, 175) == (0, 0, 0)  # drawn where clicked


async def test_focus_order_follows_tab_and_shift_tab(
    plain: PlaywrightComputer, web: LoopbackServer
) -> None:
    await open_case(plain, web, "focus")
    await plain.click(100, 20)
    await plain.keypress(["TAB"])
    await plain.type("second")
    await plain.keypress(["shift", "tab"])
    await plain.type("first")
    values = [await plain.page.input_value(f"#f{i}") for i in range(3)]
    assert values == ["first", "second", ""]


async def test_clipboard_copy_and_paste(plain: PlaywrightComputer, web: LoopbackServer) -> None:
    await open_case(plain, web, "clipboard")
    await plain.click(100, 20)
    await plain.keypress(["ctrl", "a"])
    await plain.keypress(["ctrl", "c"])
    await plain.click(100, 80)
    await plain.keypress(["ctrl", "v"])
    assert await plain.page.input_value("#b") == "copy me"


async def test_hover_menu_opens_and_its_item_takes_the_click(
    plain: PlaywrightComputer, web: LoopbackServer
) -> None:
    await open_case(plain, web, "hover")
    await plain.move(100, 20)
    await plain.settle(5)
    assert pixel((await plain.screenshot()).data, 100, 60) == (255, 0, 0)  # the submenu
    await plain.move(100, 60)
    await plain.click(100, 60)
    assert await plain.page.title() == "picked"


async def test_custom_context_menu_opens_at_the_pointer(
    plain: PlaywrightComputer, web: LoopbackServer
) -> None:
    await open_case(plain, web, "contextmenu")
    await plain.click(200, 100, button="right")
    await plain.settle(5)
    assert pixel((await plain.screenshot()).data, 260, 115) == (0, 0, 255)
    await plain.click(260, 115)
    assert await plain.page.title() == "menu item"
