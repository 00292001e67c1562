"""Contract with the official SDK (``tzafon``, a dev dependency): screenloop's request
bodies against its TypedDicts, the scripted server's responses against its models.

Every item kind screenloop sends is produced by a real run against the scripted
server (real HTTP on loopback): the first message (task + screenshot), a
computer_call_output with an acknowledged safety check, the notice message (an
input_text user message after the call output, issue 12), a function_call_output,
and in stateless history the model's own items sent back. The deviations from the
SDK's types must be exactly the documented ones (docs/interop.md): a new one, or one
that disappears when the SDK catches up, fails here -- protocol drift shows in CI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sdk_contract import deviations
from tzafon.types import response_create_params as params
from tzafon.types.response_computer_tool_call import ResponseComputerToolCall
from tzafon.types.response_create_response import ResponseCreateResponse
from tzafon.types.response_function_tool_call import ResponseFunctionToolCall
from tzafon.types.response_output_message import ResponseOutputMessage

from agent import Agent, function_tool
from agent.testing import (
    RecordingComputer,
    ScriptedResponsesServer,
    computer_call,
    function_call,
    message,
    reasoning,
    safety_check,
    turn,
)
from executors import ExecutorEvent

# What screenloop sends that the SDK's types do not say, and why (docs/interop.md).
# Both wires: ``current_url`` rides in the screenshot output (OpenAI's CUA samples; the
# SDK's ComputerCallOutputOutput has no such key).
ALWAYS = {"input[].output.current_url: not in InputUnionMember1ComputerCallOutputOutput"}
# Lightcone's published wire (the default) where the SDK's TypedDicts say otherwise.
LIGHTCONE_WIRE = {
    "tools[].type: 'computer_use' not in ('computer_use_preview',)",
    "input[].output.type: 'input_image' not in ('computer_screenshot',)",
    "input[].output.detail: not in InputUnionMember1ComputerCallOutputOutput",
}
LIGHTCONE_DESKTOP = {
    "tools[].environment: 'desktop' not in ('windows', 'mac', 'linux', 'ubuntu', 'browser')"
}
SDK_WIRE = {"tool_type": "computer_use_preview", "output_type": "computer_screenshot"}


@function_tool
def lookup(query: str) -> str:
    """Look something up."""
    return f"found {query}"


SCRIPT = [
    turn(
        reasoning("The button is top left."),
        computer_call(
            "click", x=10, y=20, button="left", safety_checks=[safety_check("sensitive_domain")]
        ),
    ),
    turn(function_call("lookup", {"query": "lamps"})),
    turn(computer_call("type", text="hello")),
    turn(message("done")),
]


def _kind(item: dict[str, Any]) -> str:
    return str(item.get("type") or item.get("role"))


def body_deviations(body: dict[str, Any]) -> set[str]:
    """A request body's deviations from ResponseCreateParams, item by item."""
    found: set[str] = set()
    top = {k: v for k, v in body.items() if k not in ("input", "tools")}
    found.update(deviations(params.ResponseCreateParams, {**top, "input": []}))
    for tool in body.get("tools", []):
        found.update(deviations(params.Tool, tool, "tools[]"))
    item_types = {
        "message": params.InputUnionMember1Message,
        "computer_call_output": params.InputUnionMember1ComputerCallOutput,
        "function_call_output": params.InputUnionMember1FunctionCallOutput,
        "computer_call": params.InputUnionMember1ResponseComputerToolCallParam,
        "function_call": params.InputUnionMember1ResponseFunctionToolCallParam,
        "reasoning": params.InputUnionMember1ResponseReasoningItemParam,
    }
    for item in body["input"]:
        if item.get("role") == "assistant":
            tp: Any = params.InputUnionMember1ResponseOutputMessageParam
        else:
            tp = item_types[_kind(item)]
        found.update(deviations(tp, item, "input[]"))
    return found


async def run_bodies(
    tmp_path: Path, environment: str, history: str, wire: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One run through every item kind; returns the request bodies and the responses."""
    computer = RecordingComputer((1024, 768), environment=environment)  # type: ignore[arg-type]
    computer.pending_events.append(
        ExecutorEvent("download", "saved report.pdf", notice="A download finished: report.pdf")
    )
    with ScriptedResponsesServer(SCRIPT) as server:
        agent = Agent(
            computer,
            base_url=server.base_url,
            api_key="sk-contract",
            safety="allow",
            tools=[lookup],
            history=history,  # type: ignore[arg-type]
            run_dir=tmp_path / f"run-{environment}-{history}",
            **wire,  # type: ignore[arg-type]
        )
        result = await agent.run("buy a lamp")
        assert result.status == "completed", result.error
        bodies = [r.body for r in server.requests]
        # (a stateless run asks the server to store nothing)
        responses = [server.responses[r.response_id] for r in server.requests
                     if r.response_id in server.responses]  # fmt: skip
    kinds = {_kind(i) for b in bodies for i in b["input"]}
    assert {"message", "computer_call_output", "function_call_output"} <= kinds
    notices = [
        i for b in bodies for i in b["input"]
        if _kind(i) == "message" and "download finished" in str(i["content"])
    ]  # fmt: skip
    assert notices, "no notice message was sent"
    acked = [i for b in bodies for i in b["input"] if i.get("acknowledged_safety_checks")]
    assert acked, "no acknowledged safety check was sent"
    return bodies, responses


@pytest.mark.parametrize("history", ["server", "stateless"])
@pytest.mark.parametrize("environment", ["browser", "desktop"])
async def test_request_bodies_match_the_sdk_types_but_for_the_documented_deviations(
    tmp_path: Path, environment: str, history: str
) -> None:
    default, _ = await run_bodies(tmp_path / "default", environment, history, {})
    expected = ALWAYS | LIGHTCONE_WIRE | (LIGHTCONE_DESKTOP if environment == "desktop" else set())
    if environment == "desktop":
        expected -= {"input[].output.current_url: not in InputUnionMember1ComputerCallOutputOutput"}
    assert set().union(*map(body_deviations, default)) == expected

    # The SDK's wire, chosen with the public knobs: only current_url is left.
    wire = {**SDK_WIRE, **({"environment_name": "linux"} if environment == "desktop" else {})}
    sdk, _ = await run_bodies(tmp_path / "sdk", environment, history, wire)
    left = ALWAYS if environment == "browser" else set()
    assert set().union(*map(body_deviations, sdk)) == left


RESPONSE_OUTPUT_TYPES: dict[str, Any] = {
    "computer_call": ResponseComputerToolCall,
    "function_call": ResponseFunctionToolCall,
    "message": ResponseOutputMessage,
}


async def test_scripted_responses_match_the_sdk_models(tmp_path: Path) -> None:
    """What the server adds to a script's items (ids, call ids, status, the envelope,
    usage) is what the SDK's models expect; the actions are the script's own."""
    _, responses = await run_bodies(tmp_path, "browser", "server", {})
    for response in responses:
        ResponseCreateResponse.model_validate(response)  # the SDK parses it
        top = {k: v for k, v in response.items() if k != "output"}
        found = [
            d for d in deviations(ResponseCreateResponse, {**top, "output": []})
            if not d.endswith("not in ResponseCreateResponse")  # extra keys: the SDK allows any
        ]  # fmt: skip
        for item in response["output"]:
            model = RESPONSE_OUTPUT_TYPES.get(item["type"])
            if model is not None:  # reasoning: the SDK keeps it as a plain dict
                model.model_validate(item)
                found += deviations(model, item, f"output[{item['type']}]")
        assert found == [], found


def test_the_checker_reports_drift() -> None:
    item = {"type": "computer_call_output", "output": {"type": "computer_screenshot"}, "new": 1}
    assert sorted(deviations(params.InputUnionMember1ComputerCallOutput, item)) == [
        "<root>.call_id: missing (required)",
        "new: not in InputUnionMember1ComputerCallOutput",
    ]
