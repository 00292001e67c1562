"""report.html: built from run directories, looked at in real headless Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from demo_driver import launch_browser, record_demo_run
from PIL import Image, ImageDraw
from playwright.async_api import Browser, Page

from agent import RunDirectoryError
from agent._actions._recorded import describe_action
from agent._record._report import EMBED_AS_IS_BYTES, build_report
from agent.demo import DEMO_FINAL_OUTPUT, DEMO_STEPS, DemoApp

W, H = 1280, 720
XSS = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'


def _png(path: Path, color: str, label: str) -> None:
    image = Image.new("RGB", (W, H), color)
    draw = ImageDraw.Draw(image)
    for x in range(0, W, 80):
        draw.line([(x, 0), (x, H)], fill="#ffffff", width=1)
    for y in range(0, H, 80):
        draw.line([(0, y), (W, y)], fill="#ffffff", width=1)
    draw.text((20, 20), label, fill="#000000")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def _action(
    kind: str, screen: dict[str, Any], raw: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "call_id": "call_x",
        "index": 0,
        "type": kind,
        "raw": raw or {"type": kind},
        "screen": screen,
        "clamped": False,
        "timings": {"action_s": 0.002, "settle_s": 0.017},
        "error": None,
        **extra,
    }


def _step(number: int, actions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "step": number,
        "response_id": f"resp_{number}",
        "request": {},
        "output": [],
        "observed": f"screenshots/{number - 1:04d}.png",
        "screenshot": f"screenshots/{number:04d}.png",
        "url": "http://127.0.0.1:8000/page",
        "messages": [],
        "reasoning": [],
        "actions": actions,
        "function_calls": [],
        "safety": [],
        "events": [],
        "usage": {"input_tokens": 1000, "output_tokens": 50, "total_tokens": 1050},
        "timings": {"model_s": 0.8, "action_s": 0.02, "settle_s": 0.05, "capture_s": 0.04},
        **extra,
    }


def write_run(
    root: Path,
    *,
    status: str = "completed",
    steps: list[dict[str, Any]] | None = None,
    summary: dict[str, Any] | None = None,
) -> Path:
    """A small run directory in the documented format, with real PNG screenshots."""
    if steps is None:
        steps = [
            _step(
                1,
                [
                    _action(
                        "click",
                        {"x": 640, "y": 216, "button": "left"},
                        {"type": "click", "x": 500, "y": 300},
                    )
                ],
                reasoning=["I should press the big button."],
                messages=[XSS],
            ),
            _step(
                2,
                [
                    _action("drag", {"path": [[100, 600], [400, 500], [700, 650]]}),
                    _action("scroll", {"x": 900, "y": 300, "scroll_x": 0, "scroll_y": 480}),
                ],
            ),
            _step(
                3,
                [
                    _action("type", {"text": "{{secret:pw}}"}),
                    _action("keypress", {"keys": ["ctrl", "a"]}),
                    _action("click", {"x": 1200, "y": 700, "button": "right"}),
                ],
                safety=[
                    {
                        "call_id": "call_x",
                        "id": "sc_1",
                        "code": "sensitive_action",
                        "message": "About to <b>pay</b>",
                        "decision": "acknowledged",
                        "decided_by": "policy",
                    }
                ],
                function_calls=[
                    {
                        "call_id": "fc_1",
                        "name": "lookup",
                        "arguments": '{"q": 1}',
                        "output": "42",
                        "error": None,
                    }
                ],
                events=[{"kind": "tab_switched", "message": "followed a popup", "data": {}}],
            ),
            _step(4, [], messages=["All done."], screenshot=None),
        ]
    for number in range(len(steps)):
        _png(
            root / "screenshots" / f"{number:04d}.png",
            ["#dbeafe", "#dcfce7", "#fef9c3", "#fce7f3"][number % 4],
            f"screen {number}",
        )
    run = {
        "schema_version": 1,
        "task": "Press the button & report <b>what</b> happens",
        "model": "tzafon.northstar-cua-fast",
        "provider": "lightcone",
        "base_url": "https://api.tzafon.ai/v1",
        "executor": {
            "kind": "browser",
            "start_url": "http://127.0.0.1:8000/",
            "launch": [],
            "device_scale_factor": 1,
        },
        "display": {"width": W, "height": H},
        "coordinate_space": "normalized",
        "history": "server",
        "safety_mode": "allow",
        "status": status,
        "final_output": "Pressed it. " + XSS,
        "error": None,
        "steps": len(steps),
        "usage": {"input_tokens": 4000, "output_tokens": 200, "total_tokens": 4200},
        "timings": {"total_s": 3.6, "model_s": 3.2, "runtime_s": 0.4},
        "started_at": "2026-11-26T07:00:00Z",
        "ended_at": "2026-11-26T07:00:04Z",
        "initial_screenshot": "screenshots/0000.png",
        **(summary or {}),
    }
    (root / "run.json").write_text(json.dumps(run), encoding="utf-8")
    (root / "steps.jsonl").write_text("".join(json.dumps(s) + "\n" for s in steps), "utf-8")
    return root


# ---- without a browser ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "words"),
    [
        (_action("click", {"x": 412, "y": 230, "button": "left"}), "click (412, 230) left"),
        (_action("double_click", {"x": 1, "y": 2}), "double-click (1, 2)"),
        (_action("type", {"text": "hello"}), "type 'hello'"),
        (_action("keypress", {"keys": ["ctrl", "a"]}), "keypress ctrl+a"),
        (_action("drag", {"path": [[10, 10], [50, 5], [90, 40]]}), "drag (10, 10) → (90, 40)"),
        (
            _action("scroll", {"x": 640, "y": 450, "scroll_x": 0, "scroll_y": 480}),
            "scroll down 480 px at (640, 450)",
        ),
        (_action("scroll", {"scroll_x": -100, "scroll_y": 0}), "scroll left 100 px"),
        (_action("wait", {}), "wait"),
        (_action("navigate", {"url": "https://example.com/"}), "navigate https://example.com/"),
        ({"type": "click", "raw": {"type": "click", "x": 5, "y": 6}}, "click (5, 6) left"),
    ],
)
def test_describe_action(action: dict[str, Any], words: str) -> None:
    assert describe_action(action) == words


def test_report_is_one_self_contained_escaped_file(tmp_path: Path) -> None:
    out = build_report(write_run(tmp_path))
    assert out == tmp_path / "report.html"
    text = out.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)|url\(\s*["']?(https?:|//)""", text)
    assert text.count("<script") == 1  # ours, with a nonce; the model's is escaped text
    assert "&lt;script&gt;window.__pwned" in text and "<b>what</b>" not in text
    assert "{{secret:pw}}" not in text and "•••• pw" in text
    # every screenshot file is embedded exactly once (the answer step shows the final screen)
    urls = re.findall(r'src="(data:image/png;base64,[^"]+)"', text)
    assert len(urls) == len(set(urls)) == 4
    assert oct(out.stat().st_mode & 0o777) == "0o644"


def test_large_screenshots_are_embedded_as_jpeg(tmp_path: Path) -> None:
    write_run(tmp_path)
    noisy = Image.frombytes("RGB", (1800, 1000), os.urandom(1800 * 1000 * 3))
    noisy.save(tmp_path / "screenshots" / "0000.png")
    assert (tmp_path / "screenshots" / "0000.png").stat().st_size > EMBED_AS_IS_BYTES
    text = build_report(tmp_path).read_text(encoding="utf-8")
    assert text.count("data:image/jpeg;base64,") == 1 and text.count("data:image/png") == 3


def test_unfinished_run_with_a_torn_last_line_still_reports(tmp_path: Path) -> None:
    write_run(tmp_path, status="running")
    with open(tmp_path / "steps.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"step": 5, "actions": [')
    text = build_report(tmp_path, tmp_path / "elsewhere.html").read_text(encoding="utf-8")
    assert "line 5 is not valid JSON" in text and "had not finished" in text
    assert text.count('<section class="step"') == 4


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (lambda p: None, "no run.json"),
        (lambda p: (p / "run.json").write_text("{nope"), "not readable JSON"),
        (lambda p: (p / "run.json").write_text('{"schema_version": 2}'), "schema_version 2"),
    ],
)
def test_bad_run_directories_raise_run_directory_error(
    tmp_path: Path, setup: Any, match: str
) -> None:
    setup(tmp_path)
    with pytest.raises(RunDirectoryError, match=match):
        build_report(tmp_path)
    with pytest.raises(RunDirectoryError, match="not a directory"):
        build_report(tmp_path / "missing")


# ---- in Chromium -------------------------------------------------------------------------


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async for browser in launch_browser():
        yield browser


async def open_report(browser: Browser, report: Path, errors: list[str], height: int = 900) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": height})
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    await page.goto(report.as_uri())
    await page.wait_for_selector("html[data-ready='1']")
    return page


async def marker_offsets(page: Page) -> list[tuple[str, float, float]]:
    """For every marker: how far its dot's center is from where its pixel is on the image."""
    result = await page.evaluate(
        """() => Array.from(document.querySelectorAll('.marker')).map(m => {
            const img = m.closest('figure').querySelector('img').getBoundingClientRect();
            const dot = m.querySelector('.dot').getBoundingClientRect();
            const ex = img.left + Number(m.dataset.x) / 1280 * img.width;
            const ey = img.top + Number(m.dataset.y) / 720 * img.height;
            return [m.className, dot.left + dot.width / 2 - ex, dot.top + dot.height / 2 - ey];
        })"""
    )
    return [tuple(r) for r in result]


@pytest.mark.browser
async def test_report_in_chromium_markers_escaping_and_keyboard(
    browser: Browser, tmp_path: Path
) -> None:
    report = build_report(write_run(tmp_path))
    errors: list[str] = []
    page = await open_report(browser, report, errors)

    assert await page.locator("section.step:not(.final)").count() == 4
    assert await page.locator("nav.toc a").count() == 4
    assert await page.evaluate(
        "() => Array.from(document.images).every(i => i.complete && i.naturalWidth === 1280)"
    )
    assert await page.text_content("#status") == "completed"

    # markers sit on their pixels, before and after the screenshot is enlarged
    offsets = await marker_offsets(page)
    kinds = sorted(c.split()[1] for c, _, _ in offsets)
    assert kinds == ["click", "drag", "drag-end", "right", "scroll"]
    assert all(abs(dx) <= 1 and abs(dy) <= 1 for _, dx, dy in offsets), offsets
    await page.click("#step-1 .shot")
    assert "zoomed" in (await page.get_attribute("#step-1", "class") or "")
    assert all(abs(dx) <= 1 and abs(dy) <= 1 for _, dx, dy in await marker_offsets(page))
    click = page.locator("#step-1 .marker")
    assert await click.locator(".tag").text_content() == "left click"
    assert await page.locator("#step-3 .marker.right .tag").text_content() == "3 · right click"

    # the drag path is drawn in screen pixels on an SVG laid exactly over the image
    img = await page.locator("#step-2 img").bounding_box()
    svg = await page.locator("#step-2 svg.overlay").bounding_box()
    assert img and svg and all(abs(img[k] - svg[k]) <= 0.5 for k in img)
    bbox = await page.eval_on_selector(
        "#step-2 polyline", "p => { const b = p.getBBox(); return [b.x, b.y, b.width, b.height]; }"
    )
    assert bbox == [100, 500, 600, 150]
    line = page.locator("#step-2 line.scroll")
    x1, y1, x2, y2 = [float(await line.get_attribute(a) or "nan") for a in ("x1", "y1", "x2", "y2")]
    assert (x1, y1) == (900, 300) and x2 == x1 and y2 > y1

    # typed secrets masked, keys as keycaps, safety decision and the rest shown
    step3 = page.locator("#step-3")
    assert await step3.locator(".captions .secret").text_content() == "•••• pw"
    assert await step3.locator(".captions kbd").all_text_contents() == ["ctrl", "a"]
    safety = await step3.locator(".safety.acknowledged").text_content() or ""
    assert "acknowledged by policy" in safety and "About to <b>pay</b>" in safety
    assert "lookup" in (await step3.text_content() or "")

    # model text is text: nothing ran, and it reads as written
    assert await page.evaluate("() => window.__pwned") is None
    assert await page.evaluate("() => document.scripts.length") == 1
    assert XSS in (await page.text_content("#step-1 .msg") or "")
    assert XSS in (await page.text_content("#final-output") or "")

    # keyboard navigation
    for key, expected in [("j", 2), ("ArrowRight", 3), ("k", 2), ("End", 4), ("Home", 1)]:
        await page.keyboard.press(key)
        assert await page.evaluate("() => location.hash") == f"#step-{expected}"
        assert "current" in (await page.get_attribute(f"#step-{expected}", "class") or "")
        assert await page.locator("section.step.current").count() == 1
    await page.screenshot(path=str(tmp_path / "report.png"))
    await page.context.close()
    assert errors == []


@pytest.mark.browser
async def test_report_of_a_recorded_demo_run(browser: Browser, tmp_path: Path) -> None:
    """The demo, followed by its own coordinates (no agent loop), reported."""
    with DemoApp() as app:
        context = await browser.new_context(viewport={"width": 1280, "height": 720})
        run_dir = await record_demo_run(await context.new_page(), app, tmp_path / "run")
        await context.close()
        assert app.state()["order_placed"]
    report = build_report(run_dir)

    errors: list[str] = []
    page = await open_report(browser, report, errors, height=1000)
    steps = len(DEMO_STEPS) + 1
    assert await page.locator("section.step:not(.final)").count() == steps
    assert await page.locator("section.final").count() == 0  # the answer step shows it
    last = page.locator(f"#step-{steps} img")
    assert await last.get_attribute("alt") == f"The screen the model saw before step {steps}"
    assert await page.locator(".safety.acknowledged").count() == 1
    assert "sensitive_action" in (await page.text_content(".safety") or "")
    assert DEMO_FINAL_OUTPUT in (await page.text_content("#final-output") or "")
    pointer_steps = sum(1 for s in DEMO_STEPS if s.targets)
    assert await page.locator(".marker:not(.drag-end)").count() == pointer_steps
    assert all(abs(dx) <= 1 and abs(dy) <= 1 for _, dx, dy in await marker_offsets(page))
    assert await page.locator(".captions .secret").text_content() == "•••• demo_password"

    shot = tmp_path / "report.png"  # the top: status, answer, run facts, the first step
    await page.screenshot(path=str(shot))
    await page.context.close()
    assert errors == []


def test_cli_report_command_builds_the_report(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run")
    cli = [sys.executable, "-c", "from agent._cli import main; main()"]
    done = subprocess.run(
        [*cli, "report", str(run_dir)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(run_dir / "report.html")
    assert (run_dir / "report.html").stat().st_size > 0
    bad = subprocess.run(
        [*cli, "report", str(tmp_path / "nope")], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "not a directory" in bad.stderr
