"""The agent loop against the scripted Responses server, on a RecordingComputer.

What the computer received proves the mapping and dispatch; what the server
recorded proves the protocol; the run directory proves the record.
"""

from __future__ import annotations

import importlib.util
import json
from typing import Any

from loop_harness import Harness

from agent import AgentHooks, Event
from agent.testing import RecordingComputer, computer_call, message, reasoning, turn
from executors import Point

EVERY_ACTION = [
    computer_call("click", x=100, y=200),
    computer_call("double_click", x=200, y=200),
    computer_call("triple_click", x=300, y=200),
    computer_call("drag", path=[{"x": 100, "y": 400}, {"x": 300, "y": 600}]),
    computer_call("move", x=500, y=500),
    computer_call("scroll", x=500, y=500, scroll_x=0, scroll_y=300),
    computer_call("type", text="hello"),
    computer_call("keypress", keys=["ctrl", "a"]),
    computer_call("key_down", keys=["shift"]),
    computer_call("key_up", keys=["shift"]),
    computer_call("mouse_down", x=100, y=100),
    computer_call("mouse_up", x=200, y=200),
    computer_call("wait"),
    computer_call("screenshot"),
    computer_call("navigate", url="http://example.test/next"),
    computer_call("point_and_type", x=600, y=800, text="abc"),
]


def acted(computer: RecordingComputer) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, c.args) for c in computer.calls if c.name not in ("screenshot", "settle")]


async def test_every_action_type_runs_in_order_with_normalized_mapping(harness: Harness) -> None:
    computer = RecordingComputer((1000, 500), environment="browser")
    script = [turn(reasoning("thinking"), call) for call in EVERY_ACTION]
    script.append(turn(message("all done")))
    result = await harness.run(script, computer=computer)

    assert result.status == "completed", result.error
    assert result.final_output == "all done"
    assert len(result.steps) == len(EVERY_ACTION) + 1
    # x: 0-999 onto 1000 px is the identity; y: round(v * 499 / 999).
    calls = acted(computer)
    names = [n for n, _ in calls if n != "release_all"]
    assert names == [
        "click", "double_click", "triple_click", "drag", "move", "scroll", "type", "keypress",
        "key_down", "key_up", "mouse_down", "mouse_up", "wait", "navigate", "click", "type",
    ]  # fmt: skip
    by_name = {n: a for n, a in calls}
    assert calls[0][1] == {"x": 100, "y": 100, "button": "left", "keys": ()}
    assert by_name["double_click"] == {"x": 200, "y": 100, "keys": ()}
    assert by_name["triple_click"] == {"x": 300, "y": 100, "keys": ()}
    assert by_name["drag"]["path"] == (Point(100, 200), Point(300, 300))
    assert by_name["move"] == {"x": 500, "y": 250, "keys": ()}
    assert by_name["scroll"] == {"x": 500, "y": 250, "scroll_x": 0, "scroll_y": 300, "keys": ()}
    assert calls[6][1] == {"text": "hello"}
    assert len(by_name["keypress"]["keys"]) == 2
    assert by_name["mouse_down"] == {"x": 100, "y": 50, "button": "left"}
    assert by_name["mouse_up"] == {"x": 200, "y": 100, "button": "left"}
    assert by_name["navigate"] == {"url": "http://example.test/next"}
    assert calls[-3:-1] == [
        ("click", {"x": 600, "y": 400, "button": "left", "keys": ()}),
        ("type", {"text": "abc"}),
    ]
    assert calls[-1][0] == "release_all"  # always, at the end of a run

    # The protocol: first request is the task + first screenshot, then chained outputs.
    bodies = harness.bodies
    first = bodies[0]
    assert first["model"] == "tzafon.northstar-cua-fast"
    assert first["tools"] == [
        {"type": "computer_use", "display_width": 1000, "display_height": 500,
         "environment": "browser"}
    ]  # fmt: skip
    assert "previous_response_id" not in first
    content = first["input"][0]["content"]
    assert content[0] == {"type": "input_text", "text": "do the task"}
    assert content[1]["type"] == "input_image"
    assert content[1]["image_url"].startswith("data:image/png;base64,")
    assert harness.server is not None
    response_ids = [r.response_id for r in harness.server.requests]
    for i, body in enumerate(bodies[1:], start=1):
        assert body["previous_response_id"] == response_ids[i - 1]
        (item,) = body["input"]
        served = harness.server.responses[response_ids[i - 1]]
        call = next(o for o in served["output"] if o["type"] == "computer_call")
        assert item["type"] == "computer_call_output"
        assert item["call_id"] == call["call_id"]
        assert item["output"]["type"] == "input_image"
        assert item["output"]["detail"] == "auto"
        assert item["output"]["image_url"].startswith("data:image/png;base64,")
        assert "acknowledged_safety_checks" not in item
    assert bodies[-1]["input"][0]["output"]["current_url"] == "http://example.test/next"

    # The run directory.
    summary = harness.run_json()
    assert summary["schema_version"] == 1
    assert summary["status"] == "completed"
    assert summary["final_output"] == "all done"
    assert summary["coordinate_space"] == "normalized"
    assert summary["display"] == {"width": 1000, "height": 500}
    assert summary["steps"] == len(EVERY_ACTION) + 1
    assert summary["initial_screenshot"] == "screenshots/0000.png"
    steps = harness.steps_jsonl()
    assert [s["step"] for s in steps] == list(range(1, len(EVERY_ACTION) + 2))
    assert steps[0]["observed"] == "screenshots/0000.png"
    assert steps[0]["screenshot"] == "screenshots/0001.png"
    assert steps[0]["reasoning"] == ["thinking"]
    assert steps[0]["actions"][0]["screen"] == {"x": 100, "y": 100, "button": "left", "keys": []}
    assert steps[0]["actions"][0]["raw"]["x"] == 100
    image = steps[0]["request"]["input"][0]["content"][1]["image_url"]
    assert image == {"screenshot_ref": "screenshots/0000.png"}
    assert "base64" not in harness.record_text()
    shots = sorted(p.name for p in (harness.run_dir / "screenshots").iterdir())
    assert len(shots) == len(EVERY_ACTION) + 1
    assert steps[-1]["messages"] == ["all done"]
    if importlib.util.find_spec("agent._record._report") is not None:
        assert (harness.run_dir / "report.html").stat().st_size > 0


async def test_openai_dialect_pixels_and_batched_actions(harness: Harness) -> None:
    batch = {
        "type": "computer_call",
        "actions": [
            {"type": "click", "x": 10, "y": 20},
            {"type": "type", "text": "hi"},
            {"type": "keypress", "keys": ["ENTER"]},
        ],
    }
    result = await harness.run(
        [turn(batch), turn(message("ok"))],
        model="computer-use-preview",
        provider="openai",
        dialect="openai",
        computer=RecordingComputer((640, 480), environment="browser"),
    )
    assert result.status == "completed", result.error
    assert harness.computer is not None
    # Pixels are passed through; one screenshot after the last action of the batch.
    assert acted(harness.computer)[:2] == [
        ("click", {"x": 10, "y": 20, "button": "left", "keys": ()}),
        ("type", {"text": "hi"}),
    ]
    assert len(harness.computer.calls_named("screenshot")) == 2  # initial + one after the batch
    first, second = harness.bodies
    assert first["tools"][0]["type"] == "computer_use_preview"
    assert first["tools"][0]["environment"] == "browser"
    assert first["truncation"] == "auto"
    output = second["input"][0]["output"]
    assert output["type"] == "computer_screenshot"
    assert output["image_url"].startswith("data:image/png;base64,")
    assert harness.run_json()["coordinate_space"] == "pixels"
    assert [a["index"] for a in harness.steps_jsonl()[0]["actions"]] == [0, 1, 2]


async def test_desktop_environment_and_explicit_coordinate_space(harness: Harness) -> None:
    result = await harness.run(
        [turn(computer_call("click", x=999, y=499)), turn(message("ok"))],
        coordinate_space="pixels",
        computer=RecordingComputer((1000, 500), environment="desktop"),
    )
    assert result.status == "completed"
    assert harness.bodies[0]["tools"][0]["environment"] == "desktop"
    assert "current_url" not in harness.bodies[1]["input"][0]["output"]
    assert harness.computer is not None
    assert acted(harness.computer)[0] == (
        "click",
        {"x": 999, "y": 499, "button": "left", "keys": ()},
    )


async def test_stateless_history_resends_everything_including_reasoning(harness: Harness) -> None:
    script = [
        turn(reasoning("look first"), computer_call("screenshot")),
        turn(message("checking"), computer_call("click", x=1, y=1)),
        turn(message("done")),
    ]
    result = await harness.run(script, history="stateless", instructions="be brief")
    assert result.status == "completed", result.error
    bodies = harness.bodies
    assert all(b["store"] is False and "previous_response_id" not in b for b in bodies)
    assert all(b["instructions"] == "be brief" for b in bodies)
    types = [[i["type"] for i in b["input"]] for b in bodies]
    assert types[0] == ["message"]
    assert types[1] == ["message", "reasoning", "computer_call", "computer_call_output"]
    assert types[2] == [
        "message", "reasoning", "computer_call", "computer_call_output",
        "message", "computer_call", "computer_call_output",
    ]  # fmt: skip
    reasoning_item = bodies[2]["input"][1]
    assert reasoning_item["summary"][0]["text"] == "look first"
    assert reasoning_item["id"]  # ids round-trip so the server can match them
    assert bodies[2]["input"][3]["call_id"] == bodies[2]["input"][2]["call_id"]


async def test_stateless_history_trims_old_screenshots_keeping_pairs(harness: Harness) -> None:
    script = [turn(computer_call("screenshot")) for _ in range(5)] + [turn(message("ok"))]
    result = await harness.run(script, history="stateless", keep_screenshots=2)
    assert result.status == "completed"
    last = harness.bodies[-1]["input"]
    images = [i["output"]["image_url"] for i in last if i["type"] == "computer_call_output"]
    assert len(images) == 5
    full = [u for u in images if len(u) > 200]
    assert len(full) == 2 and images[-2:] == full  # the newest two are whole
    assert last[0]["content"][1] == {"type": "input_text", "text": "[earlier screenshot omitted]"}
    calls = [i["call_id"] for i in last if i["type"] == "computer_call"]
    outs = [i["call_id"] for i in last if i["type"] == "computer_call_output"]
    assert calls == outs


class Collect(AgentHooks):
    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.actions: list[str] = []

    async def on_event(self, event: Event) -> None:
        self.kinds.append(event.kind)

    async def on_action(self, event: Any) -> None:
        self.actions.append(event.type)


async def test_hooks_and_event_iterator_see_the_same_run(harness: Harness) -> None:
    hooks = Collect()
    script = [turn(computer_call("click", x=5000, y=10)), turn(message("fin"))]
    result = await harness.run(script, hooks=hooks)
    assert result.status == "completed"
    assert hooks.actions == ["click"]
    assert hooks.kinds[0] == "screenshot_taken"  # the initial screenshot
    assert "warning" in hooks.kinds  # x=5000 is off the 0-999 grid: clamped and reported
    assert hooks.kinds[-1] == "finished"
    step = harness.steps_jsonl()[0]
    assert step["actions"][0]["clamped"] is True
    assert step["actions"][0]["screen"]["x"] == 999
    assert [e["kind"] for e in step["events"]] == ["warning"]

    # The iterator form yields the same kinds, ending with Finished holding the result.
    from agent import Agent
    from agent.testing import ScriptedResponsesServer

    with ScriptedResponsesServer(script) as server:
        agent = Agent(RecordingComputer((100, 100)), base_url=server.base_url, api_key="k" * 8,
                      record=False)  # fmt: skip
        kinds = [e.kind async for e in agent.iter("t")]
    assert kinds == hooks.kinds
    assert agent.last_result is not None and agent.last_result.status == "completed"
    assert agent.last_result.run_dir is None


async def test_usage_and_timings_are_totalled(harness: Harness) -> None:
    usage = {"input_tokens": 100, "output_tokens": 10, "total_tokens": 110}
    script = [turn(computer_call("wait"), usage=usage), turn(message("ok"), usage=usage)]
    result = await harness.run(script)
    assert result.usage == {"input_tokens": 200, "output_tokens": 20, "total_tokens": 220}
    assert harness.run_json()["usage"] == result.usage
    assert set(result.timings) == {"total_s", "model_s", "runtime_s"}
    step = harness.steps_jsonl()[0]
    assert step["usage"] == usage
    assert {"model_s", "parse_s", "action_s", "settle_s", "capture_s"} <= set(step["timings"])
    assert json.dumps(result.to_json())
