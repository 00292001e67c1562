"""The watch page in real Chromium while a scripted run is live (issue 19).

Each test holds the run at known events (`Gate`) and checks what the page
shows then, or steers the run from the page and proves the effect on what
reached the scripted Responses server and on the record.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect
from watch_support import Gate, live_run

from agent.testing import computer_call, message, safety_check, turn

pytestmark = pytest.mark.browser

CLICKS = [
    turn(computer_call({"type": "click", "x": 100 + 100 * i, "y": 50 + 50 * i})) for i in range(4)
]


def _texts(body: dict[str, Any]) -> list[str]:
    """Every input_text of a request's input."""
    found = []
    for item in body.get("input") or []:
        if isinstance(item, dict) and item.get("type") == "message":
            for part in item.get("content") or []:
                if isinstance(part, dict) and part.get("type") == "input_text":
                    found.append(part["text"])
    return found


async def _img_shows(page: Page, n: int) -> None:
    await page.wait_for_function(
        "n => { const i = document.getElementById('img');"
        " return i.getAttribute('data-n') === String(n) && i.complete && i.naturalWidth > 0; }",
        arg=n,
    )


async def test_the_screenshot_and_the_action_about_to_run_show_within_the_step(
    tmp_path: Path,
) -> None:
    gate = Gate("screenshot_taken", "action_starting")
    async with live_run(tmp_path, [*CLICKS[:3], turn(message("done"))], gate=gate) as (
        live,
        page,
    ):
        for step in range(3):
            # held right after screenshot n was taken: the page already shows it
            _, go = await gate.hold("screenshot_taken", step=step)
            await _img_shows(page, step)
            go.set()
            # held before the click of the next step runs: the page draws it, the click is not done
            event, go = await gate.hold("action_starting", step=step + 1)
            clicks_before = len(live.computer.calls_named("click"))
            marker = page.locator("#markers .marker")
            await expect(marker).to_have_count(1)
            left = await marker.evaluate("m => parseFloat(m.style.left)")
            assert left == pytest.approx(100 * event.screen["x"] / 800)  # type: ignore[attr-defined]
            await expect(page.locator("#doing")).to_contain_text("click")
            assert len(live.computer.calls_named("click")) == clicks_before == step
            go.set()
        gate.open()
        result = await live.task
        assert result.status == "completed"
        await expect(page.locator("#status")).to_have_text("completed")
        await expect(page.locator("#step-4")).to_contain_text("done")
        # the timeline has every step with its timing
        for step in (1, 2, 3):
            await expect(page.locator(f"#step-{step} .dur")).to_contain_text("model")


async def test_pause_holds_the_run_a_message_goes_with_the_next_request_and_resume_continues(
    tmp_path: Path,
) -> None:
    gate = Gate("screenshot_taken")
    counts: dict[str, int] = {}
    async with live_run(tmp_path, [*CLICKS, turn(message("done"))], gate=gate) as (live, page):
        gate.on["pause"] = lambda e: counts.setdefault("pause", len(live.server.requests))
        gate.on["resume"] = lambda e: counts.setdefault("resume", len(live.server.requests))
        _, _go = await gate.hold("screenshot_taken", step=1)  # step 1 has acted
        async with page.expect_response("**/control") as answer:
            await page.click("#pause")
        assert (await answer.value).ok
        await expect(page.locator("#status")).to_have_text("pausing after this step")
        gate.open()
        await expect(page.locator("#status")).to_have_text("paused")
        assert len(live.server.requests) == 1  # only step 1's request was made
        await page.fill("#text", "Use the blue button, please.")
        async with page.expect_response("**/control") as answer:
            await page.press("#text", "Enter")
        assert (await answer.value).ok
        await expect(page.locator("#flash")).to_have_text("sent with the next request")
        assert len(live.server.requests) == 1
        await page.click("#resume")
        result = await live.task
    assert result.status == "completed"
    assert counts["pause"] == counts["resume"] == 1  # no request while paused
    said = [t for t in _texts(live.bodies[1]) if "blue button" in t]
    assert said and said[0].endswith("Use the blue button, please.")
    assert not any("blue button" in t for b in live.bodies[2:] for t in _texts(b))
    step2 = live.steps()[1]
    controls = [(e["control"], e["by"]) for e in step2["events"] if e["kind"] == "control"]
    assert controls == [("pause", "watch"), ("resume", "watch"), ("message", "watch")]


async def test_stop_ends_the_run_as_cancelled_and_releases_held_inputs(tmp_path: Path) -> None:
    gate = Gate("screenshot_taken")
    async with live_run(tmp_path, [*CLICKS, turn(message("done"))], gate=gate) as (live, page):
        _, _go = await gate.hold("screenshot_taken", step=2)
        await expect(page.locator("#step-2")).to_be_visible()
        async with page.expect_response("**/control") as answer:
            await page.click("#stop")
        assert (await answer.value).ok
        gate.open()
        result = await live.task  # a result, not an exception: only the page stopped it
        assert result.status == "cancelled"
        await expect(page.locator("#status")).to_have_text("cancelled")
        await expect(page.locator("#pause")).to_be_disabled()
    assert live.computer.calls_named("release_all")
    assert json.loads((live.run_dir / "run.json").read_text())["status"] == "cancelled"
    assert len(live.server.requests) == 2
    stops = [e for s in live.steps() for e in s["events"] if e.get("control") == "stop"]
    assert [(e["by"], e["step"]) for e in stops] == [("watch", 2)]


@pytest.mark.parametrize("answer", ["acknowledge", "deny"])
async def test_an_ask_safety_check_is_answered_on_the_page(tmp_path: Path, answer: str) -> None:
    script = [
        turn(
            computer_call(
                {"type": "click", "x": 300, "y": 200},
                safety_checks=[safety_check("sensitive_action", "About to buy a lamp.")],
            )
        ),
        turn(message("bought")),
    ]
    async with live_run(tmp_path, script, safety="ask") as (live, page):
        card = page.locator(".approval")
        await expect(card).to_contain_text("sensitive_action")
        await expect(card).to_contain_text("About to buy a lamp.")
        await expect(page.locator("#status")).to_have_text("waiting for you")
        assert not live.computer.calls_named("click")
        await page.click(f".approval button.{'ack' if answer == 'acknowledge' else 'deny'}")
        result = await live.task
        await expect(card).to_have_count(0)
    step = live.steps()[0]
    if answer == "acknowledge":
        assert result.status == "completed"
        assert live.computer.calls_named("click")
        acked = [
            item["acknowledged_safety_checks"]
            for item in live.bodies[1]["input"]
            if item.get("type") == "computer_call_output"
        ]
        assert [c["code"] for c in acked[0]] == ["sensitive_action"]
        assert [s["decision"] for s in step["safety"]] == ["acknowledged"]
    else:
        assert result.status == "safety_denied"
        assert not live.computer.calls_named("click")
        assert len(live.server.requests) == 1
        assert [s["decision"] for s in step["safety"]] == ["denied"]
    answers = [e for e in step["events"] if e.get("control") == "safety_answer"]
    assert [(e["by"], e["data"]["decision"]) for e in answers] == [
        ("watch", "acknowledged" if answer == "acknowledge" else "denied")
    ]


async def test_the_page_keeps_the_result_and_links_the_report_at_a_phone_size(
    tmp_path: Path,
) -> None:
    async with live_run(tmp_path, [CLICKS[0], turn(message("all done"))], viewport=(390, 844)) as (
        live,
        page,
    ):
        result = await live.task
        assert result.status == "completed"
        await expect(page.locator("#final")).to_contain_text("all done")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing sticks out sideways on a phone
        async with page.context.expect_page() as opened:
            await page.click("#report")
        report = await opened.value
        await report.wait_for_load_state()
        await expect(report.locator("section.step")).to_have_count(2)
        await expect(page.locator("#status")).to_have_text("completed")
    await asyncio.sleep(0)
