"""Drive the demo shop by the bundled script's coordinates with plain Playwright.

Test support, not a product: no agent loop and no executor, so the demo app
and the script can be checked (and a realistic run directory recorded for the
report tests) independently of them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, Page, async_playwright

from agent.demo import (
    DEMO_DISPLAY,
    DEMO_FINAL_OUTPUT,
    DEMO_MODEL,
    DEMO_SECRETS,
    DEMO_STEPS,
    DEMO_TASK,
    DemoApp,
    demo_script,
)
from executors import Size
from executors._geometry import model_to_screen
from sandbox import chromium_args, find_chromium

WIDTH, HEIGHT = DEMO_DISPLAY
SCREEN = Size(WIDTH, HEIGHT)

# Lightcone key names the script uses -> Playwright's names.
PLAYWRIGHT_KEYS = {"enter": "Enter", "ctrl": "Control", "a": "a"}


async def launch_browser() -> AsyncIterator[Browser]:
    """Headless Chromium found the way screenloop finds it (use as an async generator)."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(find_chromium()), args=chromium_args(), headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def until(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Wait (bounded) for a condition the page reports asynchronously."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def screen_points(action: dict[str, Any]) -> list[tuple[int, int]]:
    """The action's points in screen pixels (the runtime's formula, not a copy of it)."""
    raw = action.get("path") or ([action] if "x" in action else [])
    points = []
    for point in raw:
        mapped = model_to_screen(point["x"], point["y"], "normalized", SCREEN)
        assert not mapped.clamped, f"{action} leaves the screen"
        points.append((mapped.point.x, mapped.point.y))
    return points


async def assert_lands_on(page: Page, point: tuple[int, int], selector: str) -> None:
    """The point is inside the target's box and the target (or a child) is what is hit there."""
    box = await page.eval_on_selector(
        selector,
        "el => { const r = el.getBoundingClientRect();"
        " return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; }",
    )
    x, y = point
    assert box["left"] <= x < box["right"] and box["top"] <= y < box["bottom"], (
        f"({x}, {y}) is outside {selector} {box} on {page.url}"
    )
    hit = await page.evaluate(
        "([x, y, sel]) => { const el = document.elementFromPoint(x, y);"
        " return !!el && !!el.closest(sel); }",
        [x, y, selector],
    )
    assert hit, f"({x}, {y}) is inside {selector}'s box but another element covers it"


async def run_step(page: Page, action: dict[str, Any], points: list[tuple[int, int]]) -> None:
    """Perform one scripted action with Playwright's mouse and keyboard."""
    kind = action["type"]
    mouse, keyboard = page.mouse, page.keyboard
    if kind == "click":
        await mouse.click(*points[0], button=action.get("button", "left"))
    elif kind == "double_click":
        await mouse.dblclick(*points[0])
    elif kind == "triple_click":
        await mouse.click(*points[0], click_count=3)
    elif kind == "move":
        await mouse.move(*points[0])
    elif kind == "drag":
        await mouse.move(*points[0])
        await mouse.down()
        for point in points[1:]:
            await mouse.move(*point, steps=4)
        await mouse.up()
    elif kind == "scroll":
        await mouse.move(*points[0])
        await mouse.wheel(action["scroll_x"], action["scroll_y"])
    elif kind in ("type", "point_and_type"):
        if points:
            await mouse.click(*points[0])
        text = action["text"]
        for name, value in DEMO_SECRETS.items():
            text = text.replace("{{secret:" + name + "}}", value)
        await keyboard.type(text)
    elif kind == "keypress":
        keys = [PLAYWRIGHT_KEYS[k.lower()] for k in action["keys"]]
        for key in keys:
            await keyboard.down(key)
        for key in reversed(keys):
            await keyboard.up(key)
    elif kind == "wait":
        await page.wait_for_load_state("load")
    elif kind == "screenshot":
        await page.screenshot()
    else:
        raise AssertionError(f"the driver does not know how to run {kind!r}")


async def wait_for_path(page: Page, path: str) -> None:
    await page.wait_for_url(lambda url: urlsplit(url).path == path)
    await page.wait_for_load_state("load")


def _screen_field(action: dict[str, Any], points: list[tuple[int, int]]) -> dict[str, Any]:
    kind = action["type"]
    screen: dict[str, Any] = {}
    if kind == "drag":
        screen["path"] = [list(p) for p in points]
    elif points:
        screen["x"], screen["y"] = points[0]
    if kind == "click":
        screen["button"] = action.get("button", "left")
    for name in ("scroll_x", "scroll_y", "text", "keys"):
        if name in action:
            screen[name] = action[name]
    return screen


async def record_demo_run(page: Page, app: DemoApp, run_dir: Path) -> Path:
    """Follow the demo script by its coordinates and write a run directory like the recorder's.

    Screenshots, URLs and action timings are real; token counts are made up
    (there is no model). The format is docs/run-directory.md, schema 1.
    """
    shots = run_dir / "screenshots"
    shots.mkdir(parents=True)
    turns = demo_script()
    started = time.perf_counter()
    await page.goto(app.url)
    await wait_for_path(page, DEMO_STEPS[0].page)
    await page.screenshot(path=str(shots / "0000.png"))
    steps: list[dict[str, Any]] = []
    for number, (step, turn) in enumerate(zip(DEMO_STEPS, turns, strict=False), start=1):
        action = dict(step.action)
        points = screen_points(action)
        await wait_for_path(page, step.page)
        t0 = time.perf_counter()
        await run_step(page, action, points)
        t1 = time.perf_counter()
        following = DEMO_STEPS[number].page if number < len(DEMO_STEPS) else "/confirmation"
        await wait_for_path(page, following)
        t2 = time.perf_counter()
        await page.screenshot(path=str(shots / f"{number:04d}.png"))
        t3 = time.perf_counter()
        call = next(item for item in turn["output"] if item["type"] == "computer_call")
        steps.append(
            {
                "step": number,
                "response_id": f"resp_demo_{number:02d}",
                "request": {},
                "output": turn["output"],
                "observed": f"screenshots/{number - 1:04d}.png",
                "screenshot": f"screenshots/{number:04d}.png",
                "url": page.url,
                "messages": [],
                "reasoning": [step.reasoning] if step.reasoning else [],
                "actions": [
                    {
                        "call_id": call["call_id"],
                        "index": 0,
                        "type": action["type"],
                        "raw": action,
                        "screen": _screen_field(action, points),
                        "clamped": False,
                        "timings": {"action_s": t1 - t0, "settle_s": t2 - t1},
                        "error": None,
                    }
                ],
                "function_calls": [],
                "safety": [
                    {
                        "call_id": call["call_id"],
                        **check,
                        "decision": "acknowledged",
                        "decided_by": "policy",
                    }
                    for check in step.safety_checks
                ],
                "events": [],
                "usage": {
                    "input_tokens": 1800 + 40 * number,
                    "output_tokens": 60,
                    "total_tokens": 1860 + 40 * number,
                },
                "timings": {
                    "model_s": 0.004,
                    "parse_s": 0.0002,
                    "safety_s": 0.0001,
                    "action_s": t1 - t0,
                    "settle_s": t2 - t1,
                    "capture_s": t3 - t2,
                    "encode_s": 0.003,
                    "request_build_s": 0.001,
                    "record_s": 0.001,
                },
            }
        )
    last = len(DEMO_STEPS)
    steps.append(
        {
            "step": last + 1,
            "response_id": f"resp_demo_{last + 1:02d}",
            "request": {},
            "output": turns[-1]["output"],
            "observed": f"screenshots/{last:04d}.png",
            "screenshot": None,
            "url": page.url,
            "messages": [DEMO_FINAL_OUTPUT],
            "reasoning": [],
            "actions": [],
            "function_calls": [],
            "safety": [],
            "events": [],
            "usage": {"input_tokens": 2800, "output_tokens": 40, "total_tokens": 2840},
            "timings": {"model_s": 0.004, "request_build_s": 0.001, "record_s": 0.001},
        }
    )
    total = time.perf_counter() - started
    usage = {
        k: sum(s["usage"][k] for s in steps)
        for k in ("input_tokens", "output_tokens", "total_tokens")
    }
    summary = {
        "schema_version": 1,
        "task": DEMO_TASK,
        "model": DEMO_MODEL,
        "provider": "lightcone",
        "base_url": "http://127.0.0.1:0/v1",
        "executor": {
            "kind": "browser",
            "start_url": app.url,
            "launch": [],
            "device_scale_factor": 1,
        },
        "display": {"width": WIDTH, "height": HEIGHT},
        "coordinate_space": "normalized",
        "history": "server",
        "safety_mode": "allow",
        "status": "completed",
        "final_output": DEMO_FINAL_OUTPUT,
        "error": None,
        "steps": len(steps),
        "usage": usage,
        "timings": {"total_s": total, "model_s": 0.004 * len(steps), "runtime_s": total},
        "started_at": "2026-11-26T07:00:00Z",
        "ended_at": "2026-11-26T07:00:09Z",
        "initial_screenshot": "screenshots/0000.png",
    }
    (run_dir / "run.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    lines = "".join(json.dumps(step_record) + "\n" for step_record in steps)
    (run_dir / "steps.jsonl").write_text(lines, encoding="utf-8")
    return run_dir
