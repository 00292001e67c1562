"""Runs that finish, through the whole loop: real Chromium, the scripted server as the model.

Stuck detection (the same click on an unchanged page; a cycle between two
screens), the step-budget notice, the text-only ``nudge`` policy and
structured output (``output_schema``). What the model is told is read from
the requests the scripted server received; what the page did, from the page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from browser_server import LoopbackServer
from pydantic import BaseModel

from agent import Agent, OutputValidationError, RunResult
from agent._cli._exit_codes import ExitCode, exit_code_for_status
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import PlaywrightComputer

pytestmark = pytest.mark.browser

BOX = "position:absolute;left:0;top:0;width:300px;height:100px"
DEAD = (  # a click is counted by the page but changes nothing on screen
    f"<body style='margin:0'><div id=b style='{BOX};background:#ccc' "
    "onclick='window.clicks=(window.clicks||0)+1'>dead</div></body>"
)
COUNTER = (  # every click changes the screen
    f"<body style='margin:0'><div id=b style='{BOX};background:#ccc' "
    "onclick='this.textContent=++window.n' >0</div><script>window.n=0</script></body>"
)
TOGGLE = (  # every click flips between two screens
    f"<body style='margin:0'><div id=b style='{BOX};background:#f00' onclick='"
    'window.clicks=(window.clicks||0)+1;this.style.background=window.clicks%2?"#00f":"#f00"'
    "'>toggle</div></body>"
)


def told(body: dict[str, Any]) -> list[str]:
    """The text of every user message in a request's input (notices and nudges)."""
    return [
        part["text"]
        for item in body.get("input", [])
        if item.get("type") == "message" and item.get("role") == "user"
        for part in item["content"]
        if part.get("type") == "input_text"
    ]


async def drive(
    computer: PlaywrightComputer,
    script: list[dict[str, Any]],
    run_dir: Path,
    *,
    output_schema: Any = None,
    **agent: Any,
) -> tuple[RunResult, list[dict[str, Any]]]:
    """Run `script` on `computer` (pixel coordinates); the result and the request bodies."""
    with ScriptedResponsesServer(script) as server:
        result = await Agent(
            computer,
            base_url=server.base_url,
            api_key="sk-test",
            coordinate_space="pixels",
            run_dir=run_dir,
            **agent,
        ).run("the task", output_schema=output_schema)
    assert all(r.status == 200 for r in server.requests)  # every request passed the checks
    return result, [r.body for r in server.requests if r.method == "POST"]


def steps_of(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]


def nudges(step: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in step["events"] if e.get("kind") == "nudge"]


@pytest.fixture
def pages(web: LoopbackServer) -> LoopbackServer:
    web.pages["/fin-dead.html"] = DEAD
    web.pages["/fin-counter.html"] = COUNTER
    web.pages["/fin-toggle.html"] = TOGGLE
    return web


async def test_the_same_click_on_an_unchanged_page_is_nudged_then_stopped_as_stuck(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    script = [turn(computer_call("click", x=150, y=50)) for _ in range(6)] + [turn(message("x"))]
    run_dir = tmp_path / "run"
    async with PlaywrightComputer(start_url=pages.url("/fin-dead.html")) as computer:
        result, bodies = await drive(computer, script, run_dir, stuck_after=3, stuck_stop_after=2)
        clicks = await computer.page.evaluate("window.clicks")
    assert result.status == "stuck"
    assert result.error is not None and result.error["type"] == "StuckError"
    assert clicks == 5  # every click ran; the 6th response was never asked for
    assert len(bodies) == 5
    # the nudge went with the request after the third click, and only then
    nudge_texts = [[t for t in told(b) if "did not change" in t] for b in bodies]
    assert [len(n) for n in nudge_texts] == [0, 0, 0, 1, 0]
    assert "You have done the same thing (click" in nudge_texts[3][0]
    steps = steps_of(run_dir)
    assert any("did not change" in n for n in steps[2]["notices"])
    assert nudges(steps[2])[0]["reason"] == "stuck"
    assert nudges(steps[4])[0]["data"]["stopped"] is True
    run_json = json.loads((run_dir / "run.json").read_text())
    assert run_json["status"] == "stuck"
    assert run_json["finishing"]["stuck_after"] == 3
    assert "st-stuck" in (run_dir / "report.html").read_text()
    assert exit_code_for_status("stuck") == ExitCode.LIMIT_REACHED


async def test_the_same_click_that_changes_the_screen_is_not_stuck(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    script = [turn(computer_call("click", x=150, y=50)) for _ in range(6)] + [turn(message("ok"))]
    async with PlaywrightComputer(start_url=pages.url("/fin-counter.html")) as computer:
        result, bodies = await drive(computer, script, tmp_path / "run", stuck_after=2)
        shown = await computer.page.inner_text("#b")
    assert result.status == "completed", result.error
    assert shown == "6"
    assert not any("did not change" in t for b in bodies for t in told(b))


async def test_a_cycle_between_two_screens_is_nudged_then_stopped(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    script = [turn(computer_call("click", x=150, y=50)) for _ in range(8)] + [turn(message("x"))]
    run_dir = tmp_path / "run"
    async with PlaywrightComputer(start_url=pages.url("/fin-toggle.html")) as computer:
        result, bodies = await drive(computer, script, run_dir, stuck_after=2, stuck_stop_after=1)
        clicks = await computer.page.evaluate("window.clicks")
    assert result.status == "stuck"
    assert clicks == 6  # nudged after 2 whole cycles (4 clicks), stopped after the 3rd
    cycle = [[t for t in told(b) if "back and forth" in t] for b in bodies]
    assert [len(c) for c in cycle] == [0, 0, 0, 0, 1, 0]
    assert nudges(steps_of(run_dir)[3])[0]["data"]["period"] == 2


async def test_the_step_budget_notice_is_sent_once_at_its_share(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    script = [turn(computer_call("click", x=150, y=50)) for _ in range(4)] + [turn(message("ok"))]
    run_dir = tmp_path / "run"
    async with PlaywrightComputer(start_url=pages.url("/fin-counter.html")) as computer:
        result, bodies = await drive(computer, script, run_dir, max_steps=5, budget_notice_at=0.6)
    assert result.status == "completed", result.error
    budget = [[t for t in told(b) if "Step budget" in t] for b in bodies]
    assert [len(b) for b in budget] == [0, 0, 1, 0, 0]  # with request 3 = 60 % of 5
    assert "step 3 of at most 5 (3 left" in budget[2][0]
    step = steps_of(run_dir)[1]
    assert any("Step budget" in n for n in step["notices"])
    assert [n["reason"] for n in nudges(step)] == ["budget"]


async def test_no_budget_notice_when_turned_off(pages: LoopbackServer, tmp_path: Path) -> None:
    script = [turn(computer_call("click", x=150, y=50)) for _ in range(4)] + [turn(message("ok"))]
    async with PlaywrightComputer(start_url=pages.url("/fin-counter.html")) as computer:
        result, bodies = await drive(
            computer, script, tmp_path / "run", max_steps=5, budget_notice_at=None
        )
    assert result.status == "completed", result.error
    assert not any("Step budget" in t for b in bodies for t in told(b))


async def test_text_only_answers_are_nudged_then_complete(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    script = [
        turn(message("I will click the box now.")),  # answered without acting: nudged
        turn(computer_call("click", x=150, y=50)),
        turn(message("Clicked.")),  # nudged again (the second and last nudge)
        turn(message("The box shows 1.")),  # nudges used up: the run completes
    ]
    run_dir = tmp_path / "run"
    async with PlaywrightComputer(start_url=pages.url("/fin-counter.html")) as computer:
        result, bodies = await drive(computer, script, run_dir, text_only="nudge")
        shown = await computer.page.inner_text("#b")
    assert result.status == "completed", result.error
    assert result.final_output == "The box shows 1."
    assert shown == "1"
    # the nudge is the whole input of the next request: one user message
    assert [i["type"] for i in bodies[1]["input"]] == ["message"]
    assert "Continue with the next action" in told(bodies[1])[0]
    assert "Continue with the next action" in told(bodies[3])[0]
    steps = steps_of(run_dir)
    assert [[n["reason"] for n in nudges(s)] for s in steps] == [
        ["text_only"],
        [],
        ["text_only"],
        [],
    ]
    assert json.loads((run_dir / "run.json").read_text())["finishing"]["text_only"] == "nudge"


async def test_text_only_complete_is_the_default(pages: LoopbackServer, tmp_path: Path) -> None:
    async with PlaywrightComputer(start_url=pages.url("/fin-counter.html")) as computer:
        result, bodies = await drive(computer, [turn(message("done"))], tmp_path / "run")
    assert result.status == "completed" and result.final_output == "done"
    assert len(bodies) == 1


class Box(BaseModel):
    label: str
    clicks: int


async def test_structured_output_is_asked_for_validated_and_recorded(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    script = [
        turn(computer_call("click", x=150, y=50)),
        turn(message('```json\n{"label": "counter", "clicks": 1}\n```')),
    ]
    run_dir = tmp_path / "run"
    async with PlaywrightComputer(start_url=pages.url("/fin-counter.html")) as computer:
        result, bodies = await drive(computer, script, run_dir, output_schema=Box)
    assert result.status == "completed", result.error
    assert result.output == Box(label="counter", clicks=1)
    assert result.to_json()["output"] == {"label": "counter", "clicks": 1}
    fmt = bodies[0]["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["name"] == "Box" and fmt["strict"] is True
    assert fmt["schema"]["required"] == ["label", "clicks"]
    assert fmt["schema"]["additionalProperties"] is False
    assert all(b["text"] == bodies[0]["text"] for b in bodies)
    run_json = json.loads((run_dir / "run.json").read_text())
    assert run_json["output"] == {"label": "counter", "clicks": 1}
    assert run_json["output_schema"]["name"] == "Box"
    report = (run_dir / "report.html").read_text()
    assert 'id="structured-output"' in report and "&quot;counter&quot;" in report


async def test_an_answer_that_does_not_fit_the_schema_is_a_typed_error(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    async with PlaywrightComputer(start_url=pages.url("/fin-counter.html")) as computer:
        result, _ = await drive(
            computer,
            [turn(message('{"label": "counter", "clicks": "many"}'))],
            run_dir,
            output_schema=Box,
        )
    assert result.status == "error"
    assert result.error is not None and result.error["type"] == OutputValidationError.__name__
    assert "clicks" in result.error["message"]
    assert result.final_output == '{"label": "counter", "clicks": "many"}'  # the text is kept
    assert result.output is None
    assert exit_code_for_status("error", result.error) == ExitCode.API_ERROR


async def test_structured_output_of_a_non_object_type_is_wrapped(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    async with PlaywrightComputer(start_url=pages.url("/fin-counter.html")) as computer:
        result, bodies = await drive(
            computer,
            [turn(message('{"value": ["a", "b"]}'))],
            tmp_path / "run",
            output_schema=list[str],
        )
    assert result.status == "completed", result.error
    assert result.output == ["a", "b"]
    assert bodies[0]["text"]["format"]["schema"]["properties"]["value"]["type"] == "array"


# -- notices off: nothing injected the user did not ask for ---------------------------


async def test_notices_off_stops_a_stuck_run_without_nudging(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    script = [turn(computer_call("click", x=150, y=50)) for _ in range(6)] + [turn(message("x"))]
    run_dir = tmp_path / "run"
    async with PlaywrightComputer(start_url=pages.url("/fin-dead.html")) as computer:
        result, bodies = await drive(
            computer,
            script,
            run_dir,
            stuck_after=3,
            stuck_stop_after=2,
            budget_notice_at=0.5,
            max_steps=8,
            notices=False,
        )
        clicks = await computer.page.evaluate("window.clicks")
    assert result.status == "stuck"  # the detector still ends it, at the same repeat
    assert clicks == 5 and len(bodies) == 5
    assert not any(told(b) for b in bodies[1:])  # no nudge, no budget notice: no user text
    steps = steps_of(run_dir)
    assert all(not s.get("notices") for s in steps)
    assert nudges(steps[2])[0]["data"]["told"] is False  # detected, recorded, not told
    assert nudges(steps[4])[0]["data"]["stopped"] is True
    finishing = json.loads((run_dir / "run.json").read_text())["finishing"]
    assert finishing["notices"] is False
    assert finishing["stuck_nudge"] is False and finishing["budget_notice"] is False
    assert finishing["stuck_after"] == 3 and finishing["budget_notice_at"] == 0.5


async def test_notices_off_keeps_an_explicit_text_only_nudge(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    script = [
        turn(message("I will click the box now.")),
        turn(computer_call("click", x=150, y=50)),
        turn(computer_call("click", x=150, y=50)),
        turn(message("The box shows 2.")),
    ]
    run_dir = tmp_path / "run"
    async with PlaywrightComputer(start_url=pages.url("/fin-counter.html")) as computer:
        result, bodies = await drive(
            computer,
            script,
            run_dir,
            text_only="nudge",
            text_only_nudges=1,
            max_steps=4,
            budget_notice_at=0.5,
            notices=False,
        )
        shown = await computer.page.inner_text("#b")
    assert result.status == "completed", result.error
    assert shown == "2"
    texts = [told(b) for b in bodies]
    assert "Continue with the next action" in texts[1][0]  # asked for: still sent
    assert not any("Step budget" in t for ts in texts for t in ts)
    assert [len(t) for t in texts[2:]] == [0, 0]
    finishing = json.loads((run_dir / "run.json").read_text())["finishing"]
    assert finishing["text_only"] == "nudge" and finishing["budget_notice"] is False
