"""Cancelling a run in each phase on a real desktop: the record is flushed, inputs released.

The run holds Shift (key_down) and the left button (mouse_down) on the Tk
event-logging app, then is cancelled while (a) waiting for the API (a stalled
turn), (b) executing an action (a long `wait` with the key held), (c) capturing
(cancelled from the hook that fires right after an action, before its screenshot).
Afterwards the app's own log shows Shift and button 1 released, run.json says
``cancelled``, `asyncio.CancelledError` propagated, and no process outlived the test.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rel_support import API_KEY, alive, check_run_dir

from agent import ActionExecuted, Agent, AgentHooks, StepStarted
from agent.testing import Delay, ScriptedResponsesServer, computer_call, message, turn
from executors import DesktopComputer
from sandbox import VirtualDisplay

pytestmark = pytest.mark.desktop

APP = Path(__file__).resolve().parent.parent / "apps" / "tk_events.py"


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_log(path: Path, predicate: Any, timeout: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = read_log(path)
        if predicate(log):
            return log
        time.sleep(0.05)
    raise AssertionError(f"condition not met; log tail: {read_log(path)[-8:]}")


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


class Phase(AgentHooks):
    """Signals when step 3 starts; in phase "capture" cancels the run right after its action."""

    def __init__(self, phase: str) -> None:
        self.phase = phase
        self.step3 = asyncio.Event()
        self.task: asyncio.Task[Any] | None = None

    async def on_step_started(self, event: StepStarted) -> None:
        if event.step == 3:
            self.step3.set()

    async def on_action(self, event: ActionExecuted) -> None:
        if self.phase == "capture" and event.step == 3 and self.task is not None:
            self.task.cancel()  # lands at the next await: the settle/capture of this step


HOLD = [
    turn(computer_call("key_down", keys=["shift"])),
    turn(computer_call("mouse_down", x=300, y=300)),
]
THIRD = {
    "api": Delay(seconds=60),
    "action": turn(computer_call("wait", ms=60_000)),
    "capture": turn(computer_call("move", x=320, y=320)),
}


@pytest.mark.parametrize("phase", ["api", "action", "capture"])
async def test_cancel_releases_held_input_and_flushes_the_record(
    tmp_path: Path, phase: str
) -> None:
    log_path = tmp_path / "events.jsonl"
    script = [*HOLD, THIRD[phase], turn(message("never"))]
    hooks = Phase(phase)
    with VirtualDisplay(640, 480) as display:
        display.launch([sys.executable, str(APP), str(log_path)])
        wait_for_log(log_path, lambda log: any(e["type"] == "ready" for e in log))
        owned = [*display.pids]
        computer = DesktopComputer(display)
        with ScriptedResponsesServer(script) as server:
            agent = Agent(
                computer,
                base_url=server.base_url,
                api_key=API_KEY,
                coordinate_space="pixels",
                run_dir=tmp_path / "run",
                hooks=hooks,
                close_computer=True,
            )
            wait_started = signal_wait_started(computer)
            task = asyncio.ensure_future(agent.run("hold and get cancelled"))
            hooks.task = task
            if phase != "capture":
                await asyncio.wait_for(hooks.step3.wait(), 30)
                if phase == "api":  # the stalled request has reached the server
                    await asyncio.to_thread(wait_requests, server, 3)
                else:  # the wait action has started
                    await asyncio.wait_for(wait_started.wait(), 30)
                task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 30)
        log = wait_for_log(
            log_path,
            lambda log: (
                any(e["type"] == "ButtonRelease" and e["num"] == 1 for e in log)
                and any(e["type"] == "KeyRelease" and e["keysym"].startswith("Shift") for e in log)
            ),
        )
    pressed = [e for e in log if e["type"] == "KeyPress" and e["keysym"].startswith("Shift")]
    assert pressed, "the key was never held: the test would prove nothing"
    assert any(e["type"] == "ButtonPress" and e["num"] == 1 for e in log)
    assert agent.last_result is not None and agent.last_result.status == "cancelled"
    _, steps = check_run_dir(tmp_path / "run", "cancelled")
    assert len(steps) == 3
    if phase == "capture":
        assert steps[2]["actions"][0]["type"] == "move" and steps[2]["screenshot"] is None
    assert not alive(owned)
