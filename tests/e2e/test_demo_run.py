"""The bundled demo through the real runtime: Agent + PlaywrightComputer + scripted model.

The scripted server plays `agent.demo.demo_script()` (Lightcone dialect, 0-999
coordinates); the demo shop's server state proves every effect, the run
directory and its report are complete.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent import Agent, SafetyPolicy, build_report
from agent.demo import (
    DEMO_FINAL_OUTPUT,
    DEMO_MODEL,
    DEMO_ORDER_NUMBER,
    DEMO_PASSWORD,
    DEMO_SAFETY_CODE,
    DEMO_SECRETS,
    DEMO_STEPS,
    DEMO_TASK,
    DemoApp,
    demo_script,
)
from agent.testing import ScriptedResponsesServer
from executors import PlaywrightComputer

pytestmark = pytest.mark.browser


async def test_demo_script_completes_the_task_through_the_agent_loop(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with DemoApp() as app, ScriptedResponsesServer(demo_script()) as server:
        async with PlaywrightComputer(start_url=app.url) as computer:
            agent = Agent(
                computer,
                DEMO_MODEL,
                base_url=server.base_url,
                api_key="sk-local-scripted-0000",
                secrets=DEMO_SECRETS,
                safety=SafetyPolicy.allow(codes=[DEMO_SAFETY_CODE]),
                run_dir=run_dir,
            )
            result = await agent.run(DEMO_TASK)
        state = app.state()

    assert result.status == "completed", result
    assert result.final_output == DEMO_FINAL_OUTPUT
    assert state["signed_in"] == "ada" and state["failed_sign_ins"] == 0
    assert state["filter"] == "lamp" and state["max_scroll_y"] > 0
    assert state["opened_product"] == "desk-lamp" and state["quantity"] == 3
    assert state["hovered"] == ["checkout"]
    assert state["order"]["number"] == DEMO_ORDER_NUMBER
    assert state["order"]["items"][0]["quantity"] == 3
    assert (state["order"]["name"], state["order"]["address"]) == (
        "Ada Lovelace",
        "12 Analytical Way, London",
    )

    steps = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]
    assert len(steps) == len(DEMO_STEPS) + 1
    safety = [check for step in steps for check in step["safety"]]
    assert [(c["code"], c["decision"]) for c in safety] == [(DEMO_SAFETY_CODE, "acknowledged")]
    record = (run_dir / "run.json").read_text() + "".join(
        line for line in (run_dir / "steps.jsonl").read_text().splitlines()
    )
    assert DEMO_PASSWORD not in record
    report = build_report(run_dir).read_text(encoding="utf-8")
    assert report.count('<section class="step"') == len(steps)
    assert DEMO_PASSWORD not in report
