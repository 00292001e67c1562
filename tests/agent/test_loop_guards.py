"""Safety modes, local guards, function tools and secrets, through the whole loop."""

from __future__ import annotations

import json
from typing import Any

import pytest
from loop_harness import Harness

from agent import AgentHooks, SafetyCheck, SafetyPolicy, function_tool
from agent._actions._model import Action
from agent.testing import computer_call, function_call, message, safety_check, turn

CHECKED = turn(
    computer_call(
        "click", x=10, y=10, safety_checks=[safety_check("irrelevant_domain", "off task")]
    )
)


async def test_deny_is_the_default_and_stops_before_acting(harness: Harness) -> None:
    result = await harness.run([CHECKED, turn(message("never"))])
    assert result.status == "safety_denied"
    assert result.error is not None and result.error["type"] == "SafetyDeniedError"
    assert harness.computer is not None
    assert harness.computer.calls_named("click") == []
    assert len(harness.bodies) == 1
    (step,) = harness.steps_jsonl()
    assert step["safety"] == [
        {"call_id": step["output"][0]["call_id"], "id": "sc_irrelevant_domain",
         "code": "irrelevant_domain", "message": "off task", "decision": "denied",
         "decided_by": "policy"}
    ]  # fmt: skip
    assert harness.run_json()["safety_mode"] == "deny"


async def test_ask_callback_acknowledges_and_the_server_sees_it(harness: Harness) -> None:
    asked: list[list[SafetyCheck]] = []

    async def ask(checks: list[SafetyCheck]) -> bool:
        asked.append(list(checks))
        return True

    result = await harness.run([CHECKED, turn(message("ok"))], safety="ask", ask_callback=ask)
    assert result.status == "completed", result.error
    assert [c.code for c in asked[0]] == ["irrelevant_domain"]
    output = harness.bodies[1]["input"][0]
    assert output["acknowledged_safety_checks"] == [
        {"id": "sc_irrelevant_domain", "code": "irrelevant_domain", "message": "off task"}
    ]
    assert harness.steps_jsonl()[0]["safety"][0]["decided_by"] == "callback"


async def test_ask_callback_refusing_stops(harness: Harness) -> None:
    result = await harness.run([CHECKED], safety="ask", ask_callback=lambda checks: False)
    assert result.status == "safety_denied"
    assert harness.steps_jsonl()[0]["safety"][0]["decision"] == "denied"


async def test_allow_only_listed_codes(harness: Harness) -> None:
    result = await harness.run(
        [CHECKED, turn(message("ok"))], safety=SafetyPolicy.allow(["irrelevant_domain"])
    )
    assert result.status == "completed"
    assert harness.steps_jsonl()[0]["safety"][0]["decided_by"] == "allowlist"
    other = turn(computer_call("click", x=1, y=1, safety_checks=[safety_check("sensitive_domain")]))
    result = await harness.run(
        [other], safety=SafetyPolicy.allow(["irrelevant_domain"]), run_dir=harness.tmp_path / "b"
    )
    assert result.status == "safety_denied"


async def test_allowed_actions_guard(harness: Harness) -> None:
    script = [turn(computer_call("click", x=1, y=1)), turn(computer_call("type", text="x"))]
    result = await harness.run(script, allowed_actions={"click"})
    assert result.status == "safety_denied"
    assert harness.computer is not None
    assert harness.computer.calls_named("type") == []
    assert harness.steps_jsonl()[1]["safety"][0]["decided_by"] == "allowed_actions"


async def test_confirm_hook_declining_stops_before_the_action(harness: Harness) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def confirm(action: Action, screen: dict[str, Any]) -> bool:
        seen.append((action.type, screen))
        return action.type != "type"

    script = [turn(computer_call("click", x=1, y=1)), turn(computer_call("type", text="rm -rf"))]
    result = await harness.run(script, confirm=confirm, coordinate_space="pixels")
    assert result.status == "safety_denied"
    assert seen[0] == ("click", {"x": 1, "y": 1, "button": "left", "keys": []})
    assert harness.computer is not None and harness.computer.calls_named("type") == []
    assert harness.steps_jsonl()[1]["safety"][0]["decided_by"] == "confirm"


@function_tool
def get_price(item: str, quantity: int = 1) -> str:
    """The price of an item.

    Args:
        item: What to price.
        quantity: How many.
    """
    if item == "unobtainium":
        raise LookupError("no such item")
    return f"{quantity * 3} EUR"


async def test_function_tools_success_bad_arguments_and_exception(harness: Harness) -> None:
    script = [
        turn(
            function_call("get_price", {"item": "apple", "quantity": 2}, call_id="f1"),
            function_call("get_price", {"quantity": "many"}, call_id="f2"),
            function_call("get_price", {"item": "unobtainium"}, call_id="f3"),
            function_call("nope", {}, call_id="f4"),
        ),
        turn(message("priced")),
    ]
    result = await harness.run(script, tools=[get_price])
    assert result.status == "completed", result.error
    tools = harness.bodies[0]["tools"]
    assert tools[1]["name"] == "get_price"
    assert tools[1]["parameters"]["properties"]["item"]["description"] == "What to price."
    outputs = {i["call_id"]: i["output"] for i in harness.bodies[1]["input"]}
    assert outputs["f1"] == "6 EUR"
    assert outputs["f2"].startswith("error: invalid arguments for get_price")
    assert "item: Field required" in outputs["f2"]
    assert outputs["f3"] == "error: get_price raised LookupError: no such item"
    assert outputs["f4"].startswith("error: unknown function 'nope'")
    recorded = harness.steps_jsonl()[0]["function_calls"]
    assert [bool(f["error"]) for f in recorded] == [False, True, True, True]


async def test_secrets_reach_only_the_computer(harness: Harness) -> None:
    secret = "correct-horse-battery"
    script = [
        turn(computer_call("type", text="{{secret:PASSWORD}}")),
        turn(computer_call("point_and_type", x=1, y=1, text="user {{secret:PASSWORD}}")),
        turn(message("logged in")),
    ]
    result = await harness.run(script, secrets={"PASSWORD": secret}, computer=None, task="log in")
    assert result.status == "completed", result.error
    assert harness.computer is not None
    typed = [c.args["text"] for c in harness.computer.calls_named("type")]
    assert typed == [secret, f"user {secret}"]
    assert secret not in json.dumps(harness.bodies)
    assert secret not in harness.record_text()
    assert "{{secret:PASSWORD}}" in harness.record_text()


async def test_unknown_secret_is_a_model_error(harness: Harness) -> None:
    result = await harness.run([turn(computer_call("type", text="{{secret:NOPE}}"))])
    assert result.status == "error"
    assert result.error is not None and result.error["type"] == "UnknownSecretError"
    assert harness.computer is not None and harness.computer.calls_named("type") == []


async def test_secrets_never_reach_the_logs(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    secret = "tr0ub4dor&3"
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("some.executor").info("typing %s", secret)  # outside a run: visible
        outside = caplog.text
        caplog.clear()

        class Leaky(AgentHooks):
            async def on_action(self, event: Any) -> None:
                logging.getLogger("some.executor").info("typed %s", secret)

        await harness.run(
            [turn(computer_call("type", text="{{secret:PW}}")), turn(message("ok"))],
            secrets={"PW": secret},
            hooks=Leaky(),
        )
    assert secret in outside
    assert "typed {{secret:PW}}" in caplog.text and secret not in caplog.text
