"""Desktop executor faults through the whole loop: Xvfb killed mid-run, an X program exiting.

Real Xvfb + openbox + the Tk event-logging app, driven by the Agent against the
scripted server. Each fault ends in a clear status within a bound (the run is
awaited under `asyncio.wait_for`), the run directory stays valid, and no
Xvfb/openbox/app process outlives the test.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rel_support import API_KEY, alive, check_run_dir

from agent import Agent, AgentHooks, StepStarted
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import DesktopComputer
from sandbox import VirtualDisplay

pytestmark = pytest.mark.desktop

APP = Path(__file__).resolve().parent.parent / "apps" / "tk_events.py"
W, H = 640, 480


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
    raise AssertionError(f"condition not met; log tail: {read_log(path)[-5:]}")


def wait_dead(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and ") Z" in stat.read_text():
            return
        time.sleep(0.02)
    raise AssertionError(f"pid {pid} did not die")


class OnStep(AgentHooks):
    """Runs `action` when step `step` starts (before its request is sent)."""

    def __init__(self, step: int, action: Any) -> None:
        self.step = step
        self.action = action

    async def on_step_started(self, event: StepStarted) -> None:
        if event.step == self.step:
            self.action()


async def test_xvfb_killed_mid_run_ends_with_executor_error(tmp_path: Path) -> None:
    log_path = tmp_path / "events.jsonl"
    script = [turn(computer_call("click", x=100, y=200))] * 3 + [turn(message("never"))]
    with VirtualDisplay(W, H) as display:
        app = display.launch([sys.executable, str(APP), str(log_path)])
        wait_for_log(log_path, lambda log: any(e["type"] == "ready" for e in log))
        xvfb_pid = display.pids[0]
        owned = [*display.pids]

        def kill_xvfb() -> None:
            os.kill(xvfb_pid, signal.SIGKILL)
            wait_dead(xvfb_pid)

        computer = DesktopComputer(display, capture_timeout_s=3.0)
        with ScriptedResponsesServer(script) as server:
            agent = Agent(
                computer,
                base_url=server.base_url,
                api_key=API_KEY,
                coordinate_space="pixels",
                run_dir=tmp_path / "run",
                hooks=OnStep(2, kill_xvfb),
                close_computer=True,
            )
            result = await asyncio.wait_for(agent.run("lose the display"), 60)
        assert app.wait(timeout=10) is not None  # the app lost its display and exited
    assert result.status == "error"
    assert result.error is not None
    assert result.error["type"] in ("ExecutorClosedError", "CaptureError"), result.error
    _, steps = check_run_dir(tmp_path / "run", "error")
    assert steps[0]["screenshot"] and steps[0]["actions"][0]["error"] is None
    assert len(steps) == 2 and steps[1]["actions"][0]["error"] is not None
    assert not alive(owned), "orphans: Xvfb, openbox or the app outlived the test"


async def test_x_program_exiting_mid_run_leaves_the_desktop_usable(tmp_path: Path) -> None:
    """The display outlives the app: the run completes; later screenshots show no app."""
    log_path = tmp_path / "events.jsonl"
    script = [
        turn(computer_call("click", x=100, y=200)),
        turn(computer_call("click", x=300, y=300)),
        turn(message("done")),
    ]
    with VirtualDisplay(W, H) as display:
        app = display.launch([sys.executable, str(APP), str(log_path)])
        wait_for_log(log_path, lambda log: any(e["type"] == "ready" for e in log))
        owned = [*display.pids]

        def stop_app() -> None:
            app.terminate()
            app.wait(timeout=10)

        computer = DesktopComputer(display)
        with ScriptedResponsesServer(script) as server:
            agent = Agent(
                computer,
                base_url=server.base_url,
                api_key=API_KEY,
                coordinate_space="pixels",
                run_dir=tmp_path / "run",
                hooks=OnStep(2, stop_app),
                close_computer=True,
            )
            result = await asyncio.wait_for(agent.run("app goes away"), 60)
    assert result.status == "completed", result.error
    _, steps = check_run_dir(tmp_path / "run", "completed")
    presses = [e for e in read_log(log_path) if e["type"] == "ButtonPress"]
    assert [(e["x_root"], e["y_root"]) for e in presses] == [(100, 200)]  # 2nd hit no app
    shots = [tmp_path / "run" / s["screenshot"] for s in steps if s["screenshot"]]
    assert shots[0].read_bytes() != shots[-1].read_bytes()  # the app's window is gone
    assert not alive(owned), "orphans: Xvfb, openbox or the app outlived the test"
