"""Browser executor faults through the whole loop, on real Chromium.

The browser process SIGKILLed mid-run, the page's renderer crashing (CDP
``Page.crash``), a navigation to a server that never answers, and a page whose
JavaScript never yields (so a screenshot cannot be taken). Each run is awaited
under a bound and must end in a clear status with a valid run directory; every
Chromium process started for the test must be gone afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from rel_support import API_KEY, Site, alive, check_run_dir, children_of

from agent import Agent, AgentHooks, StepStarted
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import PlaywrightComputer

pytestmark = pytest.mark.browser


def chromium_pids() -> set[int]:
    """Chromium processes descending from this test process."""
    out = set()
    for pid in children_of(os.getpid()):
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if "chrom" in os.path.basename(exe):
            out.add(pid)
    return out


class OnStep(AgentHooks):
    def __init__(self, step: int, action: Any) -> None:
        self.step = step
        self.action = action

    async def on_step_started(self, event: StepStarted) -> None:
        if event.step == self.step:
            await self.action()


async def run(
    tmp_path: Path, computer: PlaywrightComputer, script: list[Any], hooks: AgentHooks | None
) -> Any:
    with ScriptedResponsesServer(script) as server:
        agent = Agent(
            computer,
            base_url=server.base_url,
            api_key=API_KEY,
            coordinate_space="pixels",
            run_dir=tmp_path / "run",
            hooks=hooks,
            close_computer=True,
            settle_max_s=1.0,
        )
        return await asyncio.wait_for(agent.run("survive the browser"), 120)


CLICKS = [turn(computer_call("click", x=50, y=50))] * 3 + [turn(message("done"))]


async def test_browser_process_killed_mid_run(tmp_path: Path) -> None:
    with Site() as site:
        computer = PlaywrightComputer(size=(640, 400), start_url=site.url("/"))
        await computer.start()
        pids = chromium_pids()
        assert pids, "no chromium child found"
        browser_pid = min(pids)  # the browser process starts first

        async def kill() -> None:
            os.kill(browser_pid, signal.SIGKILL)

        result = await run(tmp_path, computer, CLICKS, OnStep(2, kill))
    assert result.status == "error", result.status
    assert result.error["type"] in (
        "BrowserGoneError",
        "ExecutorClosedError",
        "ActionFailedError",
        "CaptureError",
    )
    check_run_dir(tmp_path / "run", "error")
    assert not await wait_gone(pids), "chromium processes outlived the run"


async def wait_gone(pids: set[int], timeout: float = 60.0) -> list[int]:
    def poll() -> list[int]:
        deadline = time.monotonic() + timeout
        while alive(pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        return alive(pids)

    return await asyncio.to_thread(poll)


async def test_renderer_crash_mid_run(tmp_path: Path) -> None:
    with Site() as site:
        computer = PlaywrightComputer(size=(640, 400), start_url=site.url("/"))
        await computer.start()
        pids = chromium_pids()

        async def crash() -> None:
            session = await computer.context.new_cdp_session(computer.page)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.send("Page.crash"), 2)

        result = await run(tmp_path, computer, CLICKS, OnStep(2, crash))
    assert result.status == "error", result.status
    assert result.error["type"] in ("ExecutorClosedError", "CaptureError"), result.error
    _, steps = check_run_dir(tmp_path / "run", "error")
    assert any(e.get("notice") == "page_crashed" for s in steps for e in s["events"]), steps[-1]
    assert not await wait_gone(pids)


async def test_navigation_that_never_finishes(tmp_path: Path) -> None:
    """The executor's navigation bound fires; the model sees the page and the run goes on."""
    with Site() as site:
        script = [turn(computer_call("navigate", url=site.url("/hang"))), turn(message("done"))]
        computer = PlaywrightComputer(size=(640, 400), navigation_timeout_s=2)
        await computer.start()
        pids = chromium_pids()
        result = await run(tmp_path, computer, script, None)
    assert result.status == "completed", result.error
    _, steps = check_run_dir(tmp_path / "run", "completed")
    notices = [e for e in steps[0]["events"]]
    # the executor's own navigation warning, naming the URL (not just any warning)
    hang = site.url("/hang")
    assert any("did not commit in time" in str(e.get("message")) and hang in json.dumps(e)
               for e in notices), notices  # fmt: skip
    assert not await wait_gone(pids)


async def test_screenshot_of_a_hung_renderer(tmp_path: Path) -> None:
    """A page stuck in an endless JS loop: capture is bounded and the run ends with an error."""
    with Site() as site:
        site.pages["/spin"] = (
            "text/html",
            "<button style='width:300px;height:300px' onclick='for(;;){}'>spin</button>",
        )
        computer = PlaywrightComputer(
            size=(640, 400), start_url=site.url("/spin"), capture_timeout_s=3, action_timeout_s=3
        )
        await computer.start()
        pids = chromium_pids()
        script = [turn(computer_call("click", x=100, y=100)), *CLICKS]
        result = await run(tmp_path, computer, script, None)
    assert result.status == "error", result.status
    assert result.error["type"] in ("CaptureError", "ActionFailedError", "ExecutorClosedError")
    check_run_dir(tmp_path / "run", "error")
    assert not await wait_gone(pids)
