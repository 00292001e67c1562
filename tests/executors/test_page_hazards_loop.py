"""Real-page hazards through the whole loop: real Chromium, the scripted server as the model.

What the screenshot cannot show reaches the model as a user message of
``input_text`` after the call outputs (both dialects, accepted by the scripted
server's protocol checks), lands in steps.jsonl and in the report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from browser_server import LoopbackServer

from agent import Agent
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import PlaywrightComputer

pytestmark = pytest.mark.browser

BUTTON = "position:absolute;left:0;top:0;width:300px;height:100px;display:block"


def notice_texts(body: dict[str, Any]) -> list[str]:
    """The text of every user message in a request's input (the notices)."""
    return [
        part["text"]
        for item in body.get("input", [])
        if item.get("type") == "message" and item.get("role") == "user"
        for part in item["content"]
        if part.get("type") == "input_text"
    ]


@pytest.fixture
def pages(web: LoopbackServer) -> LoopbackServer:
    web.pages["/loop-opener.html"] = (
        "<body style='margin:0'><button style='" + BUTTON + "' onclick=\"window.open("
        "'/loop-closer.html', 'p', 'width=400,height=300')\">popup</button></body>"
    )
    web.pages["/loop-closer.html"] = (
        "<body style='margin:0'><button style='" + BUTTON + "' onclick='window.close()'>"
        "close</button></body>"
    )
    return web


@pytest.mark.parametrize("provider", ["lightcone", "openai"])
async def test_popup_and_tabs_are_told_to_the_model(
    pages: LoopbackServer, tmp_path: Path, provider: str
) -> None:
    script = [
        turn(computer_call("click", x=150, y=50)),  # opens the popup
        turn(computer_call("click", x=150, y=50)),  # the popup closes itself
        turn(computer_call("keypress", keys=["ctrl", "t"])),
        turn(computer_call("keypress", keys=["ctrl", "w"])),
        turn(message("done")),
    ]
    async with PlaywrightComputer(start_url=pages.url("/loop-opener.html")) as computer:
        with ScriptedResponsesServer(script, dialect=provider) as server:  # type: ignore[arg-type]
            agent = Agent(
                computer,
                base_url=server.base_url,
                api_key="sk-test",
                provider=provider,
                coordinate_space="pixels",
                run_dir=tmp_path / "run",
            )
            result = await agent.run("follow the popup")
        assert await computer.current_url() == pages.url("/loop-opener.html")
    assert result.status == "completed", result.error
    assert all(r.status == 200 for r in server.requests)  # every request passed the checks
    bodies = [r.body for r in server.requests]
    first = bodies[0]["input"][0]
    assert [p["type"] for p in first["content"]] == ["input_text", "input_image"]
    # request 2 answers the popup click: the output first, then the notice
    types = [i.get("type") for i in bodies[1]["input"]]
    assert types == ["computer_call_output", "message"]
    (told,) = notice_texts(bodies[1])
    assert "A new tab opened; actions now go to it." in told
    assert f"You are on tab 2 of 2: {pages.url('/loop-closer.html')}." in told
    (told,) = notice_texts(bodies[2])
    assert "closed; actions go to the previous tab again" in told
    assert f"You are on tab 1 of 1: {pages.url('/loop-opener.html')}." in told
    assert "You are on tab 2 of 2: about:blank." in notice_texts(bodies[3])[0]
    assert f"You are on tab 1 of 1: {pages.url('/loop-opener.html')}." in notice_texts(bodies[4])[0]

    run_dir = tmp_path / "run"
    steps = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]
    assert "A new tab opened; actions now go to it." in steps[0]["notices"]
    assert steps[-1]["notices"] == []
    report = (run_dir / "report.html").read_text()
    assert "Told the model" in report and "A new tab opened; actions now go to it." in report


async def test_notices_off_sends_no_message_but_records_the_events(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    script = [turn(computer_call("click", x=150, y=50)), turn(message("done"))]
    async with PlaywrightComputer(start_url=pages.url("/loop-opener.html")) as computer:
        with ScriptedResponsesServer(script) as server:
            agent = Agent(
                computer,
                base_url=server.base_url,
                api_key="sk-test",
                coordinate_space="pixels",
                run_dir=tmp_path / "run",
                notices=False,
            )
            result = await agent.run("open the popup")
    assert result.status == "completed", result.error
    assert [i["type"] for i in server.requests[1].body["input"]] == ["computer_call_output"]
    (step, _) = [json.loads(x) for x in (tmp_path / "run/steps.jsonl").read_text().splitlines()]
    assert step["notices"] == []
    assert "tab_switched" in [e.get("kind") for e in step["events"]]
