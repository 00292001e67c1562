"""End to end on a real Xvfb display: the Agent drives a Tk app that logs every event.

tests/apps/tk_events.py writes each X event it receives as a JSON line; that
log proves each action's effect.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agent import Agent
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import DesktopComputer
from sandbox import VirtualDisplay

pytestmark = pytest.mark.desktop

APP = Path(__file__).resolve().parent.parent / "apps" / "tk_events.py"
W, H = 800, 600


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for(path: Path, predicate: Any, timeout: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = read_log(path)
        if predicate(log):
            return log
        time.sleep(0.05)
    raise AssertionError(f"condition not met; log tail: {read_log(path)[-5:]}")


def near(e: dict[str, Any], x: int, y: int) -> bool:
    return abs(e["x_root"] - x) <= 1 and abs(e["y_root"] - y) <= 1


async def test_every_desktop_action_on_xvfb(tmp_path: Path) -> None:
    log_path = tmp_path / "events.jsonl"
    script = [  # pixels: the OpenAI-style coordinate space, set explicitly below
        turn(computer_call("point_and_type", x=200, y=40, text="héllo")),
        turn(computer_call("type", text=" {{secret:WORD}}")),
        turn(computer_call("keypress", keys=["ctrl", "a"])),
        turn(computer_call("click", x=100, y=300)),
        turn(computer_call("double_click", x=200, y=300)),
        turn(computer_call("triple_click", x=300, y=300)),
        turn(computer_call("click", x=400, y=300, button="right")),
        turn(computer_call("drag", path=[{"x": 100, "y": 400}, {"x": 300, "y": 450}])),
        turn(computer_call("move", x=500, y=500)),
        turn(computer_call("scroll", x=500, y=400, scroll_x=0, scroll_y=200)),
        turn(computer_call("key_down", keys=["shift"])),
        turn(computer_call("key_up", keys=["shift"])),
        turn(computer_call("mouse_down", x=600, y=350)),
        turn(computer_call("mouse_up", x=650, y=380)),
        turn(computer_call("wait")),
        turn(computer_call("screenshot")),
        turn(message("desktop done")),
    ]
    with VirtualDisplay(W, H) as display:
        display.launch([sys.executable, str(APP), str(log_path)])
        wait_for(log_path, lambda log: any(e["type"] == "ready" for e in log))
        computer = DesktopComputer(display)
        with ScriptedResponsesServer(script) as server:
            agent = Agent(
                computer,
                base_url=server.base_url,
                api_key="sk-e2e-desktop",
                coordinate_space="pixels",
                secrets={"WORD": "wörld"},
                run_dir=tmp_path / "run",
                close_computer=True,
            )
            result = await agent.run("exercise the desktop")
        log = wait_for(log_path, lambda log: any(e["type"] == "ButtonRelease" and e["num"] == 1
                                                 and near(e, 650, 380) for e in log))  # fmt: skip
    assert result.status == "completed", result.error
    assert result.final_output == "desktop done"

    def of(kind: str, **fields: Any) -> list[dict[str, Any]]:
        return [
            e for e in log if e["type"] == kind and all(e.get(k) == v for k, v in fields.items())
        ]

    texts = [e["text"] for e in of("text")]
    assert "héllo wörld" in texts
    presses = of("ButtonPress", num=1)
    assert any(near(e, 200, 40) for e in presses)  # point_and_type clicked first
    assert any(near(e, 100, 300) for e in presses)
    assert any(near(e, 200, 300) for e in of("Double"))
    assert any(near(e, 300, 300) for e in of("Triple"))
    assert any(near(e, 400, 300) for e in of("ButtonPress", num=3))
    assert any(near(e, 100, 400) for e in presses)
    assert any(near(e, 300, 450) for e in of("ButtonRelease", num=1))
    assert of("Motion")  # the drag moved with the button held
    assert of("MouseWheel") or of("ButtonPress", num=5)  # wheel down
    assert any(e["keysym"].startswith("Shift") for e in of("KeyPress"))
    assert any(e["keysym"].startswith("Shift") for e in of("KeyRelease"))
    assert any(near(e, 600, 350) for e in presses)

    bodies = [r.body for r in server.requests]
    assert bodies[0]["tools"][0]["environment"] == "desktop"
    assert "current_url" not in bodies[1]["input"][0]["output"]
    assert "wörld" not in json.dumps(bodies, ensure_ascii=False)
    summary = json.loads((tmp_path / "run" / "run.json").read_text())
    assert summary["status"] == "completed" and summary["executor"]["kind"] == "desktop"
    assert summary["coordinate_space"] == "pixels"
    steps = (tmp_path / "run" / "steps.jsonl").read_text()
    assert "wörld" not in steps and "{{secret:WORD}}" in steps
