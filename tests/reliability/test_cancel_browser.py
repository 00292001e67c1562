"""Cancelling a browser run in each phase: the page's own event log proves the release.

Like test_cancel_desktop.py, on real Chromium with tests/pages/events.html:
Shift (key_down) and the left button (mouse_down) are held, then the run is
cancelled while waiting for the API, while executing a long `wait`, or right
as the capture starts. The page must then have seen ``keyup`` Shift and
``mouseup`` button 0, and run.json must say ``cancelled``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from rel_support import API_KEY, Site, check_run_dir

from agent import ActionExecuted, Agent, AgentHooks, StepStarted
from agent.testing import Delay, ScriptedResponsesServer, computer_call, message, turn
from executors import PlaywrightComputer

pytestmark = pytest.mark.browser
EVENTS_HTML = (Path(__file__).resolve().parent.parent / "pages" / "events.html").read_text()


class Phase(AgentHooks):
    def __init__(self, phase: str) -> None:
        self.phase = phase
        self.step3 = asyncio.Event()
        self.task: asyncio.Task[Any] | None = None

    async def on_step_started(self, event: StepStarted) -> None:
        if event.step == 3:
            self.step3.set()

    async def on_action(self, event: ActionExecuted) -> None:
        if self.phase == "capture" and event.step == 3 and self.task is not None:
            self.task.cancel()


def wait_requests(server: ScriptedResponsesServer, n: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(server.requests) < n and time.monotonic() < deadline:
        time.sleep(0.01)


def signal_wait_started(computer: Any) -> asyncio.Event:
    """An event set once the run is inside the executor's `wait` action."""
    started = asyncio.Event()
    original = computer.wait

    async def wait(ms: int) -> None:
        started.set()
        await original(ms)

    computer.wait = wait
    return started


THIRD = {
    "api": Delay(seconds=60),
    "action": turn(computer_call("wait", ms=60_000)),
    "capture": turn(computer_call("move", x=320, y=320)),
}


@pytest.mark.parametrize("phase", ["api", "action", "capture"])
async def test_cancel_releases_held_input_in_the_page(tmp_path: Path, phase: str) -> None:
    script = [
        turn(computer_call("key_down", keys=["shift"])),
        turn(computer_call("mouse_down", x=300, y=300)),
        THIRD[phase],
        turn(message("never")),
    ]
    hooks = Phase(phase)
    with Site() as site:
        site.pages["/events.html"] = ("text/html", EVENTS_HTML)
        async with PlaywrightComputer(size=(800, 600), start_url=site.url("/events.html")) as pc:
            with ScriptedResponsesServer(script) as server:
                agent = Agent(
                    pc,
                    base_url=server.base_url,
                    api_key=API_KEY,
                    coordinate_space="pixels",
                    run_dir=tmp_path / "run",
                    hooks=hooks,
                )
                wait_started = signal_wait_started(pc)
                task = asyncio.ensure_future(agent.run("hold and get cancelled"))
                hooks.task = task
                if phase != "capture":
                    await asyncio.wait_for(hooks.step3.wait(), 30)
                    if phase == "api":
                        await asyncio.to_thread(wait_requests, server, 3)
                    else:
                        await asyncio.wait_for(wait_started.wait(), 30)
                    task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await asyncio.wait_for(task, 30)
            events = await pc.page.evaluate("window.__events")
    kinds = [(e["type"], e.get("key"), e.get("button")) for e in events]
    assert ("keydown", "Shift", None) in kinds and ("mousedown", None, 0) in kinds
    assert ("keyup", "Shift", None) in kinds, kinds[-6:]
    assert ("mouseup", None, 0) in kinds, kinds[-6:]
    assert agent.last_result is not None and agent.last_result.status == "cancelled"
    _, steps = check_run_dir(tmp_path / "run", "cancelled")
    assert len(steps) == 3
