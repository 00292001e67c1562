"""The demo shop and the bundled demo script, on real Chromium over real HTTP.

No agent loop here: the app is driven by plain Playwright, once by locators
(the app works, the state API reports it) and once by the script's own 0-999
coordinates (every scripted point still lands on its target, and following the
script completes the task).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from demo_driver import (
    HEIGHT,
    WIDTH,
    assert_lands_on,
    launch_browser,
    run_step,
    screen_points,
    until,
    wait_for_path,
)
from playwright.async_api import Browser, Page

from agent import ConfigurationError
from agent.demo import (
    DEMO_ORDER_NUMBER,
    DEMO_PASSWORD,
    DEMO_SAFETY_CODE,
    DEMO_STEPS,
    DemoApp,
    demo_script,
)

pytestmark = pytest.mark.browser


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async for browser in launch_browser():
        yield browser


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    await context.close()
    assert errors == [], f"the page logged errors: {errors}"


async def sign_in(page: Page, app: DemoApp) -> None:
    await page.goto(app.url)
    await page.fill("#username", "ada")
    await page.fill("#password", DEMO_PASSWORD)
    await page.press("#password", "Enter")
    await page.wait_for_url("**/products")


# ---- the server on its own --------------------------------------------------------------


def test_state_api_and_sign_in_over_http() -> None:
    with DemoApp() as app, httpx.Client(base_url=app.url, follow_redirects=False) as http:
        assert app.url.startswith("http://127.0.0.1:")
        state = http.get("/api/state").json()
        assert state["signed_in"] is None and state["order_placed"] is False
        assert http.get("/products").headers["location"] == "/signin"

        bad = http.post("/signin", data={"username": "ada", "password": "wrong-one"})
        assert bad.status_code == 200 and "Wrong username or password" in bad.text
        good = http.post("/signin", data={"username": "ada", "password": DEMO_PASSWORD})
        assert good.status_code == 303 and good.headers["location"] == "/products"

        state = http.get("/api/state").json()
        assert state == app.state() | {"log": state["log"]}
        assert (state["signed_in"], state["sign_in_attempts"], state["failed_sign_ins"]) == (
            "ada",
            2,
            1,
        )
        # every interaction is logged, passwords never
        assert [e["path"] for e in state["log"]] == ["/products", "/signin", "/signin"]
        assert DEMO_PASSWORD not in json.dumps(state) and "wrong-one" not in json.dumps(state)

        assert http.post("/api/event", json={"kind": "nope"}).status_code == 400
        http.post("/api/reset")
        assert app.state()["signed_in"] is None and app.state()["log"] == []


def test_unknown_variant_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="moved-button"):
        DemoApp(variant="upside-down")  # type: ignore[arg-type]
    app = DemoApp()
    with pytest.raises(ConfigurationError, match="not running"):
        _ = app.url


# ---- the app through its pages ----------------------------------------------------------


async def test_playwright_completes_the_demo_task_and_the_state_api_reports_it(
    page: Page,
) -> None:
    with DemoApp() as app:
        await sign_in(page, app)
        await page.fill("#filter", "lamp")
        assert await page.text_content("#count") == "2 products"
        assert await page.locator(".card:visible").count() == 2
        await until(lambda: app.state()["filter"] == "lamp", "the filter to be reported")

        await page.dblclick("#card-desk-lamp")
        await page.wait_for_url("**/product/desk-lamp")
        await page.focus("#quantity")
        await page.keyboard.press("ArrowRight")
        await page.keyboard.press("ArrowRight")
        assert await page.text_content("#line-total") == "$117.00"
        await until(lambda: app.state()["quantity"] == 3, "the quantity to be reported")

        await page.click("#add-to-cart")
        await page.wait_for_url("**/cart")
        await page.hover("#checkout")
        assert await page.is_visible("#checkout-tip")
        await until(lambda: app.state()["hovered"] == ["checkout"], "the hover to be reported")

        await page.click("#checkout")
        await page.wait_for_url("**/checkout")
        assert await page.input_value("#name") == "ada"
        await page.click("#place-order")  # no address yet: refused, stays on checkout
        assert "Please fill in your name and address" in (await page.text_content("#error") or "")
        assert app.state()["order_placed"] is False
        await page.fill("#name", "Ada Lovelace")
        await page.fill("#address", "12 Analytical Way, London")
        await page.click("#place-order")
        await page.wait_for_url("**/confirmation")
        assert await page.text_content("h1") == "Order placed"
        assert await page.text_content("#order-number") == DEMO_ORDER_NUMBER

        state = app.state()
        assert state["order"] == {
            "number": DEMO_ORDER_NUMBER,
            "items": [
                {"product": "desk-lamp", "name": "Desk lamp", "quantity": 3, "price_cents": 3900}
            ],
            "total_cents": 11700,
            "name": "Ada Lovelace",
            "address": "12 Analytical Way, London",
        }
        assert state["cart"] == [] and state["opened_product"] == "desk-lamp"


# ---- the bundled script, executed by its coordinates ------------------------------------


async def test_every_scripted_point_lands_on_its_target_and_the_script_completes_the_task(
    page: Page,
) -> None:
    with DemoApp() as app:
        await page.goto(app.url)
        for number, step in enumerate(DEMO_STEPS, start=1):
            action = dict(step.action)
            await wait_for_path(page, step.page)
            points = screen_points(action)
            assert len(points) == len(step.targets), f"step {number}: one target per point"
            for point, target in zip(points, step.targets, strict=True):
                await assert_lands_on(page, point, target)
            if action["type"] == "drag":
                # the drag must start on the slider's thumb (28 px wide, value 1 at the left)
                box = await page.eval_on_selector("#quantity", "el => el.getBoundingClientRect()")
                assert abs(points[0][0] - (box["left"] + 14)) <= 10
            await run_step(page, action, points)
            if action["type"] == "scroll":
                await until(lambda: app.state()["max_scroll_y"] > 0, "the scroll to be reported")

        await page.wait_for_url("**/confirmation")
        assert await page.text_content("h1") == "Order placed"
        await until(lambda: app.state()["filter"] == "lamp", "the last filter to be reported")
        state = app.state()
        assert state["signed_in"] == "ada" and state["failed_sign_ins"] == 0
        assert state["max_scroll_y"] > 0
        assert state["opened_product"] == "desk-lamp"
        assert state["quantity"] == 3
        assert "checkout" in state["hovered"]
        assert state["order"]["number"] == DEMO_ORDER_NUMBER
        assert state["order"]["items"][0]["quantity"] == 3
        assert (state["order"]["name"], state["order"]["address"]) == (
            "Ada Lovelace",
            "12 Analytical Way, London",
        )


async def test_moved_button_variant_moves_add_to_cart_off_the_scripted_point(page: Page) -> None:
    step = next(s for s in DEMO_STEPS if s.targets == ("#add-to-cart",))
    point = screen_points(dict(step.action))[0]
    with DemoApp(variant="moved-button") as app:
        assert app.state()["variant"] == "moved-button"
        await sign_in(page, app)
        await page.goto(app.url + "product/desk-lamp")
        with pytest.raises(AssertionError, match="outside #add-to-cart"):
            await assert_lands_on(page, point, "#add-to-cart")
        await page.mouse.click(*point)  # clicking where the button was does nothing
        assert urlsplit(page.url).path == "/product/desk-lamp"
        assert app.state()["cart"] == []


# ---- the script as data -----------------------------------------------------------------


def test_demo_script_is_lightcone_dialect_with_one_safety_check_and_a_final_answer() -> None:
    turns = demo_script()
    assert json.loads(json.dumps(turns)) == turns
    assert demo_script() is not turns and demo_script() == turns
    calls = [item for t in turns for item in t["output"] if item["type"] == "computer_call"]
    assert len(calls) == len(DEMO_STEPS) == len(turns) - 1
    kinds = {c["action"]["type"] for c in calls}
    assert kinds >= {
        "click", "double_click", "triple_click", "drag", "move", "scroll", "type",
        "point_and_type", "keypress", "wait", "screenshot",
    }  # fmt: skip
    for call in calls:
        action = call["action"]
        for point in action.get("path", [action]):
            for axis in ("x", "y"):
                if axis in point:
                    assert isinstance(point[axis], int) and 0 <= point[axis] <= 999
    checks = [check for c in calls for check in c["pending_safety_checks"]]
    assert [c["code"] for c in checks] == [DEMO_SAFETY_CODE]
    assert "place an order" in checks[0]["message"]
    assert DEMO_PASSWORD not in json.dumps(turns)
    final = turns[-1]["output"]
    assert [item["type"] for item in final] == ["message"]
    assert DEMO_ORDER_NUMBER in final[0]["content"][0]["text"]
