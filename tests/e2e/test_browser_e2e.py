"""End to end on real Chromium: the scripted model drives every action type through the Agent.

The event page logs every input event; its log proves each effect. The
scripted server's recorded requests prove the protocol, the run directory the record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent import Agent, AgentHooks, SafetyPolicy
from agent.testing import ScriptedResponsesServer, computer_call, safety_check, turn
from executors import PlaywrightComputer, Point, Size
from executors._geometry import model_to_screen, screen_to_model
from sandbox import DomainPolicy

pytestmark = pytest.mark.browser

SIZE = Size(1280, 720)
SECRET = "s3cret-Pa55word"


def n(x: int, y: int) -> dict[str, int]:
    """Screen pixels -> the 0-999 grid a Northstar model speaks (rounded like a model would)."""
    mx, my = screen_to_model(Point(x, y), "normalized", SIZE)
    return {"x": round(mx), "y": round(my)}


def near(event: dict[str, Any], x: int, y: int) -> bool:
    return abs(event["x"] - x) <= 2 and abs(event["y"] - y) <= 2


class PageLog(AgentHooks):
    """Reads the page's event log after every screenshot (observing only)."""

    def __init__(self, computer: PlaywrightComputer) -> None:
        self.computer = computer
        self.events: list[dict[str, Any]] = []

    async def on_screenshot(self, event: Any) -> None:
        page = self.computer.page
        if page.url.endswith("/events.html"):
            self.events = await page.evaluate("window.__events")


def script(origin: str) -> list[dict[str, Any]]:
    inner = n(900, 300)
    return [
        turn(computer_call("navigate", url=f"{origin}/events.html")),
        turn(computer_call("click", **n(100, 100))),
        turn(computer_call("mouse_down", **n(600, 100))),
        turn(computer_call("mouse_up", **n(650, 120))),
        turn(computer_call("move", **n(500, 300))),
        turn(computer_call("drag", path=[n(100, 400), n(300, 450)])),
        turn(  # a GA-style batch: one screenshot after the last action
            {
                "type": "computer_call",
                "actions": [
                    {"type": "key_down", "keys": ["shift"]},
                    {"type": "click", **n(150, 150)},
                    {"type": "key_up", "keys": ["shift"]},
                ],
            }
        ),
        # After a double/triple click a drag's mouseup can be swallowed by Chromium (a native
        # drag of the selection starts), so the drags come first.
        turn(computer_call("double_click", **n(200, 150))),
        turn(computer_call("triple_click", **n(300, 150))),
        turn(computer_call("click", button="right", **n(400, 150))),
        turn(computer_call("point_and_type", text="héllo wörld", **n(900, 34))),
        turn(computer_call("keypress", keys=["ctrl", "a"])),
        turn(
            computer_call(
                "type",
                text="{{secret:PASSWORD}}",
                safety_checks=[safety_check("sensitive_domain", "typing a password")],
            )
        ),
        turn(computer_call("scroll", scroll_x=0, scroll_y=150, **inner)),
        turn(computer_call("wait")),
        turn(computer_call("screenshot")),
        turn(computer_call("terminate", result="every effect done")),
    ]


async def test_every_action_on_real_chromium(pages_origin: str, tmp_path: Path) -> None:
    await every_action(pages_origin, tmp_path)


async def every_action(pages_origin: str, tmp_path: Path, **computer_kwargs: Any) -> dict[str, Any]:
    """The all-actions probe through the Agent, every effect checked; returns run.json.

    `computer_kwargs` go to `PlaywrightComputer` (``cdp_url=``, ``ws_endpoint=``).
    """
    policy = DomainPolicy(allow=["127.0.0.1"])
    start = f"{pages_origin}/events.html?start"
    async with PlaywrightComputer(
        size=SIZE, start_url=start, policy=policy, **computer_kwargs
    ) as computer:
        hooks = PageLog(computer)
        with ScriptedResponsesServer(script(pages_origin)) as server:
            agent = Agent(
                computer,
                base_url=server.base_url,
                api_key="sk-e2e-key-000",
                secrets={"PASSWORD": SECRET},
                safety=SafetyPolicy.allow(["sensitive_domain"]),
                hooks=hooks,
                run_dir=tmp_path / "run",
            )
            result = await agent.run("exercise every action")
        text_value = await computer.page.input_value("#text")
        scroll = await computer.page.evaluate("window.__scroll()")
    assert result.status == "completed", result.error
    assert result.final_output == "every effect done"

    ev = hooks.events

    def of(kind: str) -> list[dict[str, Any]]:
        return [e for e in ev if e["type"] == kind]

    clicks = of("click")
    assert any(near(e, 100, 100) and e["detail"] == 1 and not e["shift"] for e in clicks)
    assert any(near(e, 200, 150) for e in of("dblclick"))
    assert any(near(e, 300, 150) and e["detail"] == 3 for e in clicks)
    assert any(near(e, 400, 150) for e in of("contextmenu"))
    assert any(near(e, 500, 300) for e in of("mousemove"))
    downs, ups = of("mousedown"), of("mouseup")
    assert any(near(e, 100, 400) for e in downs) and any(near(e, 300, 450) for e in ups)
    assert any(near(e, 150, 150) and e["shift"] for e in clicks)  # key held across the batch
    assert any(near(e, 600, 100) for e in downs) and any(near(e, 650, 120) for e in ups)
    assert [e for e in of("wheel") if e["deltaY"] > 0]
    assert scroll["inner"][1] > 0
    assert text_value == SECRET  # ctrl+a selected "héllo wörld"; the secret replaced it
    assert any(e.get("value") == "héllo wörld" for e in of("input"))

    # The protocol as the server saw it.
    bodies = [r.body for r in server.requests]
    assert bodies[0]["tools"][0] == {
        "type": "computer_use", "display_width": 1280, "display_height": 720,
        "environment": "browser",
    }  # fmt: skip
    assert bodies[1]["input"][0]["output"]["current_url"] == f"{pages_origin}/events.html"
    for prev, body in zip(server.requests, bodies[1:], strict=False):
        assert body["previous_response_id"] == prev.response_id
    acked = [b["input"][0] for b in bodies[1:] if "acknowledged_safety_checks" in b["input"][0]]
    assert [a["acknowledged_safety_checks"][0]["code"] for a in acked] == ["sensitive_domain"]
    assert SECRET not in json.dumps(bodies)

    # The record.
    run_dir = tmp_path / "run"
    summary = json.loads((run_dir / "run.json").read_text())
    assert summary["status"] == "completed" and summary["executor"]["kind"] == "browser"
    steps = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]
    assert len(steps) == len(script(pages_origin))
    for step in steps[:-1]:
        assert (run_dir / step["screenshot"]).stat().st_size > 0
    (batch,) = [s for s in steps if len(s["actions"]) == 3]
    assert [a["type"] for a in batch["actions"]] == ["key_down", "click", "key_up"]
    model = n(150, 150)  # rounded to the 0-999 grid, so within a pixel of (150, 150)
    x, y = model_to_screen(model["x"], model["y"], "normalized", SIZE).point
    assert batch["actions"][1]["screen"] == {"x": x, "y": y, "button": "left", "keys": []}
    assert abs(x - 150) <= 1 and abs(y - 150) <= 1
    all_text = "".join(p.read_text() for p in run_dir.glob("*.json*"))
    assert SECRET not in all_text and "sk-e2e-key-000" not in all_text
    return summary  # type: ignore[no-any-return]
