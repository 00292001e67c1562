"""Bad model output, property-based: a typed error or a clamped/ignored action, nothing else.

The bulk runs the loop's own stages directly (validate + parse, map, execute on
a `RecordingComputer`) for thousands of generated responses; a few hundred
more go through the whole loop (Agent + one long-lived scripted server whose
script is replaced per example). For every example: no exception other than
`ModelOutputError` / `ExecutorError`, no hang (each run is bounded), and every
coordinate that reached the computer lies on the screen.
"""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_support import API_KEY, Site, check_run_dir

from agent import Agent, ModelOutputError
from agent._actions._dispatch import execute_action, map_action
from agent._run._validate import read_response
from agent.testing import RecordingComputer, Script, ScriptedResponsesServer
from executors import ExecutorError, Point, Size

SIZE = Size(640, 400)
TYPES = [
    "click", "double_click", "triple_click", "right_click", "drag", "move", "scroll", "hscroll",
    "type", "point_and_type", "keypress", "key", "key_down", "key_up", "mouse_down", "mouse_up",
    "wait", "screenshot", "navigate", "terminate", "answer", "done",
]  # fmt: skip
FIELDS = [
    "x", "y", "end_x", "end_y", "button", "path", "keys", "key", "text", "scroll_x", "scroll_y",
    "ms", "url", "result", "status", "delta_x", "delta_y",
]  # fmt: skip

numbers = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 999, 1000, 639, 640, 400, 2**31, -(2**63), 1e308, -0.0]),
)
scalars = st.one_of(
    st.none(), st.booleans(), numbers, st.text(max_size=20),
    st.sampled_from(["ctrl+l", "Enter", "NOPE", "F25", "ctrl+", "+", "[\"ctrl\", \"a\"]", "💥",
                     "left", "wheel", "back", "{{secret:NOPE}}", "{{secret:PW}}"]),
)  # fmt: skip


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
field_values = st.one_of(
    values,
    st.lists(st.fixed_dictionaries({"x": numbers, "y": numbers}), max_size=30),
    st.lists(st.sampled_from(["ctrl", "shift", "a", "Enter", "bogus-key", ""]), max_size=6),
    st.text(max_size=3000),
    st.integers(min_value=0, max_value=300).map(nested),
)
actions = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=6).flatmap(
        lambda d: st.sampled_from([*TYPES, "launch_missiles", "", "__exit__", "CLICK"]).map(
            lambda t: {"type": t, **d}
        )
    ),
    values,  # not even an object
)


def call(action_or_actions: Any, key: str = "action", **extra: Any) -> dict[str, Any]:
    return {"type": "computer_call", "call_id": "c1", "id": "cu1", key: action_or_actions, **extra}


responses = st.one_of(
    actions.map(lambda a: {"id": "r", "status": "completed", "output": [call(a)]}),
    st.lists(actions, min_size=1, max_size=20).map(
        lambda a: {"id": "r", "output": [call(a, "actions")]}
    ),
    st.fixed_dictionaries(
        {
            "id": st.one_of(st.none(), st.text(max_size=5), numbers),
            "status": st.one_of(st.none(), st.sampled_from(["completed", "failed", "incomplete"])),
            "output": st.one_of(
                values,
                st.lists(
                    st.one_of(
                        actions.map(call),
                        st.dictionaries(st.sampled_from(["type", "call_id", "action", "actions",
                                                         "pending_safety_checks", "content",
                                                         "name", "arguments"]), values),
                    ),
                    max_size=4,
                ),
            ),
        }
    ),
)  # fmt: skip


def assert_on_screen(computer: RecordingComputer) -> None:
    for c in computer.calls:
        points = [(c.args["x"], c.args["y"])] if "x" in c.args else []
        points += [tuple(p) for p in c.args.get("path", ())]
        for x, y in points:
            assert isinstance(x, int) and isinstance(y, int), c
            assert 0 <= x < SIZE.width and 0 <= y < SIZE.height, c


async def run_stages(response: Any, computer: RecordingComputer) -> None:
    """The loop's parse -> map -> execute stages on one response (no loop, no HTTP)."""
    try:
        parsed = read_response(response)
        pointer = Point(SIZE.width // 2, SIZE.height // 2)
        for pc in parsed.computer_calls:
            for action in pc.actions:
                for space in ("pixels", "normalized"):
                    mapped = map_action(action, space, SIZE, pointer)  # type: ignore[arg-type]
                    await asyncio.wait_for(execute_action(computer, mapped, {"PW": "pw-value"}), 10)
                    pointer = mapped.pointer
    except (ModelOutputError, ExecutorError):
        pass


# 3000 examples take minutes on a loaded machine: more than the suite's default timeout
@pytest.mark.timeout(1200)
@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(responses)
def test_parse_map_execute_stages(response: Any) -> None:
    computer = RecordingComputer(SIZE)
    asyncio.run(run_stages(response, computer))
    assert_on_screen(computer)


@pytest.fixture(scope="module")
def server() -> Any:
    with ScriptedResponsesServer([]) as srv:
        yield srv


@pytest.mark.timeout(1200)
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(output=st.lists(st.one_of(actions.map(call), actions.map(lambda a: call([a], "actions"))),
                       min_size=1, max_size=3))  # fmt: skip
def test_whole_loop(server: ScriptedResponsesServer, tmp_path_factory: Any, output: Any) -> None:
    for i, item in enumerate(output):
        item["call_id"] = f"c{i}"
    try:
        json.dumps(output)
    except (ValueError, RecursionError):
        return  # not representable as JSON: no server could send it
    server.script = Script([{"output": output}, {"output": [
        {"type": "message", "role": "assistant", "content": "ok"}]}])  # fmt: skip
    computer = RecordingComputer(SIZE)
    run_dir = tmp_path_factory.mktemp("run")
    agent = Agent(
        computer, base_url=server.base_url, api_key=API_KEY, run_dir=run_dir, max_steps=3,
        secrets={"PW": "pw-value"}, safety="allow",
    )  # fmt: skip
    result = asyncio.run(asyncio.wait_for(agent.run("fuzz"), 60))
    assert result.status in ("completed", "error", "max_steps", "safety_denied"), result.status
    if result.status == "error":
        assert result.error is not None
    assert_on_screen(computer)
    check_run_dir(run_dir, result.status)


async def test_thousands_of_actions_in_one_batch(tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    batch = [
        {"type": "click", "x": rng.randint(-5000, 5000), "y": rng.uniform(-1e9, 1e9)}
        for _ in range(5000)
    ]
    script = [{"output": [call(batch, "actions")]}, {"output": [
        {"type": "message", "role": "assistant", "content": "ok"}]}]  # fmt: skip
    computer = RecordingComputer(SIZE)
    with ScriptedResponsesServer(script) as srv:
        # the default cap (100 actions per response) lifted: the machinery is under test
        agent = Agent(
            computer, base_url=srv.base_url, api_key=API_KEY, run_dir=tmp_path / "r",
            max_actions_per_response=None,
        )  # fmt: skip
        result = await asyncio.wait_for(agent.run("many"), 120)
    assert result.status == "completed", result.error
    assert len(computer.calls_named("click")) == 5000
    assert_on_screen(computer)
    _, steps = check_run_dir(tmp_path / "r", "completed")
    assert sum(a["clamped"] for a in steps[0]["actions"]) > 4000
    warnings = [e for e in steps[0]["events"] if e.get("kind") == "warning"]
    assert len(warnings) >= 4000  # every clamp is an event


async def test_enormous_text_and_nan(tmp_path: Path) -> None:
    script = [
        {"output": [call({"type": "type", "text": "x" * 2_000_000})]},
        {"output": [call({"type": "click", "x": "NaN", "y": 1})]},
    ]
    computer = RecordingComputer(SIZE)
    with ScriptedResponsesServer(script) as srv:
        # the default cap (10,000 characters per text) lifted: the machinery is under test
        agent = Agent(
            computer, base_url=srv.base_url, api_key=API_KEY, run_dir=tmp_path / "r",
            max_type_chars=None,
        )  # fmt: skip
        result = await asyncio.wait_for(agent.run("big"), 120)
    # typed in chunks (a cancel lands between them), every character of it
    assert "".join(c.args["text"] for c in computer.calls_named("type")) == "x" * 2_000_000
    assert result.status == "error" and result.error is not None
    assert result.error["type"] == "ActionParseError"
    assert computer.calls_named("click") == []
    check_run_dir(tmp_path / "r", "error")


@pytest.mark.parametrize("depth", [100, 5000, 200_000])
async def test_deeply_nested_json_from_the_server(tmp_path: Path, depth: int) -> None:
    """A body nested deeper than Python's recursion limit is a typed error, not a crash."""
    body = (
        '{"id": "r", "output": [{"type": "computer_call", "call_id": "c", "action": '
        '{"type": "click", "x": 1, "y": 1, "extra": ' + "[" * depth + "]" * depth + "}}]}"
    )
    with Site() as site:
        site.pages["/v1/responses"] = ("application/json", body)
        computer = RecordingComputer(SIZE)
        agent = Agent(
            computer, base_url=site.url("/v1"), api_key=API_KEY, run_dir=tmp_path / "r",
            max_steps=1,
        )  # fmt: skip
        result = await asyncio.wait_for(agent.run("deep"), 60)
    assert result.status in ("error", "max_steps"), result.error
    if result.status == "error":
        assert result.error is not None
        assert result.error["type"] in ("MalformedResponseError", "ActionParseError")
    assert_on_screen(computer)
    check_run_dir(tmp_path / "r", result.status)


def test_nan_and_inf_never_reach_the_screen() -> None:
    for bad in (math.nan, math.inf, -math.inf):
        computer = RecordingComputer(SIZE)
        response = {"id": "r", "output": [call({"type": "click", "x": bad, "y": 3})]}
        asyncio.run(run_stages(response, computer))
        assert computer.calls_named("click") == []
