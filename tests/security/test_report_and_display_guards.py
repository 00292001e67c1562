"""Model-supplied text in the HTML report runs nothing; no foreign display is driven unasked.

1. A run through the real loop whose model messages, reasoning, typed text and
   function arguments carry HTML/JS payloads: report.html opened in Chromium
   executes none of them and shows them as text.
2. The CLI refuses an existing X display unless ``--x-display`` names it (an
   explicit consent); the Python API test lives in tests/executors/test_desktop.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from rel_support import API_KEY

from agent import Agent
from agent.testing import (
    RecordingComputer,
    ScriptedResponsesServer,
    computer_call,
    message,
    reasoning,
    turn,
)
from sandbox import VirtualDisplay, chromium_args, find_chromium

PAYLOADS = [
    "<script>window.__pwned = (window.__pwned || 0) + 1</script>",
    "<img src=x onerror='window.__pwned = (window.__pwned || 0) + 1'>",
    "</textarea><svg onload='window.__pwned=1'>",
    '"><iframe srcdoc="<script>parent.__pwned=1</script>">',
    "javascript:window.__pwned=1",
    "\u2028</script><script>window.__pwned=1</script>",
]


@pytest.mark.browser
async def test_report_runs_no_model_supplied_script(tmp_path: Path) -> None:
    script = []
    for p in PAYLOADS:
        script.append(turn(reasoning(p), message(p), computer_call("type", text=p)))
    script.append(turn(message(PAYLOADS[0])))
    run_dir = tmp_path / "run"
    with ScriptedResponsesServer(script) as server:
        agent = Agent(
            RecordingComputer((320, 200)),
            base_url=server.base_url,
            api_key=API_KEY,
            run_dir=run_dir,
            max_steps=20,
        )
        result = await agent.run(PAYLOADS[1])
    assert result.status == "completed", result.error
    report = run_dir / "report.html"
    assert report.is_file()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(find_chromium(None)), args=chromium_args()
        )
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(report.as_uri())
        await page.wait_for_load_state("load")
        pwned = await page.evaluate("window.__pwned")
        text = await page.evaluate("document.body.innerText")
        await browser.close()
    assert pwned is None, "model-supplied markup ran in the report"
    assert "window.__pwned = (window.__pwned || 0) + 1" in text  # shown, as text


@pytest.mark.desktop
def test_cli_drives_an_existing_display_only_when_named(tmp_path: Path) -> None:
    script = [turn(computer_call("click", x=50, y=50)), turn(message("ok"))] * 2
    log = tmp_path / "tk.jsonl"
    app = Path(__file__).resolve().parent.parent / "apps" / "tk_events.py"
    with VirtualDisplay(320, 240) as display, ScriptedResponsesServer(script) as server:
        display.launch([sys.executable, str(app), str(log)])
        deadline = time.monotonic() + 20
        while not (log.exists() and '"ready"' in log.read_text()):
            assert time.monotonic() < deadline, "Tk app not ready"
            time.sleep(0.05)
        base = [
            sys.executable, "-m", "agent", "run", "t", "--base-url", server.base_url,
            "--api-key", API_KEY, "--json", "--coordinates", "pixels",
        ]  # fmt: skip
        env = {**display.env}  # $DISPLAY points at a display the command did not create
        # --desktop with $DISPLAY set: a fresh display is created, the existing one untouched
        fresh = subprocess.run(
            [*base, "--desktop", "--display", "320x240", "--record", str(tmp_path / "b")],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        presses_after_fresh = [e for e in map(json.loads, log.read_text().splitlines())
                               if e["type"] == "ButtonPress"]  # fmt: skip
        named = subprocess.run(
            [*base, "--x-display", display.display, "--record", str(tmp_path / "a")],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while '"ButtonPress"' not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        presses_after_named = [e for e in map(json.loads, log.read_text().splitlines())
                               if e["type"] == "ButtonPress"]  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr
    assert presses_after_fresh == [], "a --desktop run clicked on the existing $DISPLAY"
    assert named.returncode == 0, named.stderr
    assert presses_after_named, "the named display was not driven (the test proves nothing)"
    assert json.loads(named.stdout.strip().splitlines()[-1])["status"] == "completed"
    summary = json.loads((tmp_path / "a" / "run.json").read_text())
    assert summary["executor"]["kind"] == "desktop"
