"""A pending safety check is acknowledged only by an explicit policy decision -- every path.

For each policy the scripted server sends a computer_call carrying checks. The
server records every request, so "acknowledged" is proven by what was sent:
an ``acknowledged_safety_checks`` entry may only appear when the policy (or a
callback returning exactly True) decided so; otherwise nothing of the call runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rel_support import API_KEY, check_run_dir

from agent import Agent, ConfigurationError, SafetyPolicy
from agent.testing import (
    RecordingComputer,
    ScriptedResponsesServer,
    computer_call,
    message,
    safety_check,
    turn,
)

CHECKS = [safety_check("malicious_instructions"), safety_check("irrelevant_domain")]
SCRIPT = [turn(computer_call("click", x=10, y=10, safety_checks=CHECKS)), turn(message("done"))]


class Boom(RuntimeError):
    pass


def raising(_: Any) -> bool:
    raise Boom("the person could not be asked")


async def async_no(_: Any) -> bool:
    return False


async def run(tmp_path: Path, **agent_kw: Any) -> tuple[Any, RecordingComputer, list[Any]]:
    computer = RecordingComputer((100, 100))
    with ScriptedResponsesServer(SCRIPT) as server:
        agent = Agent(
            computer,
            base_url=server.base_url,
            api_key=API_KEY,
            run_dir=tmp_path / "run",
            **agent_kw,
        )
        try:
            result: Any = await agent.run("careful")
        except Boom as exc:
            result = exc
    bodies = [r.body for r in server.requests if r.method == "POST"]
    return result, computer, bodies


def acknowledged(bodies: list[Any]) -> list[dict[str, Any]]:
    text = json.dumps(bodies)
    return [
        item
        for body in bodies
        for item in (body.get("input") if isinstance(body.get("input"), list) else [])
        if isinstance(item, dict) and item.get("acknowledged_safety_checks")
    ] or ([{"raw": True}] if 'acknowledged_safety_checks": [{' in text else [])


DENYING: list[tuple[str, dict[str, Any]]] = [
    ("deny-default", {}),
    ("deny", {"safety": "deny"}),
    ("ask-false", {"safety": "ask", "ask_callback": lambda checks: False}),
    ("ask-async-false", {"safety": "ask", "ask_callback": async_no}),
    ("ask-none", {"safety": "ask", "ask_callback": lambda checks: None}),
    ("ask-truthy-string", {"safety": "ask", "ask_callback": lambda checks: "no"}),
    ("ask-truthy-int", {"safety": "ask", "ask_callback": lambda checks: 1}),
    ("ask-raising", {"safety": "ask", "ask_callback": raising}),
    ("allow-other-codes", {"safety": SafetyPolicy.allow(["sensitive_domain"])}),
    ("allow-one-of-two-codes", {"safety": SafetyPolicy.allow(["irrelevant_domain"])}),
    (
        "allow-codes-then-ask-false",
        {"safety": SafetyPolicy.allow(["irrelevant_domain"], callback=lambda c: False)},
    ),
]


@pytest.mark.parametrize(("name", "kw"), DENYING, ids=[d[0] for d in DENYING])
async def test_nothing_is_acknowledged_without_a_decision(
    tmp_path: Path, name: str, kw: dict[str, Any]
) -> None:
    result, computer, bodies = await run(tmp_path, **kw)
    assert acknowledged(bodies) == []
    assert len(bodies) == 1  # no further request: the server never saw an acknowledgement
    assert computer.calls_named("click") == []  # nothing of the call ran
    if isinstance(result, Boom):
        summary, _ = check_run_dir(tmp_path / "run", "error")
        assert summary["error"]["type"] == "Boom"
        return
    assert result.status == "safety_denied", result.error
    _, steps = check_run_dir(tmp_path / "run", "safety_denied")
    decisions = steps[0]["safety"]
    assert decisions and any(d["decision"] == "denied" for d in decisions)


ALLOWING: list[tuple[str, dict[str, Any], str]] = [
    ("allow-all", {"safety": "allow"}, "policy"),
    (
        "allow-both-codes",
        {"safety": SafetyPolicy.allow(["irrelevant_domain", "malicious_instructions"])},
        "allowlist",
    ),
    ("ask-true", {"safety": "ask", "ask_callback": lambda checks: True}, "callback"),
]


@pytest.mark.parametrize(("name", "kw", "by"), ALLOWING, ids=[a[0] for a in ALLOWING])
async def test_acknowledged_only_by_policy_and_recorded(
    tmp_path: Path, name: str, kw: dict[str, Any], by: str
) -> None:
    result, computer, bodies = await run(tmp_path, **kw)
    assert result.status == "completed", result.error
    assert len(computer.calls_named("click")) == 1
    acks = acknowledged(bodies)
    assert len(acks) == 1
    assert {c["code"] for c in acks[0]["acknowledged_safety_checks"]} == {
        "malicious_instructions",
        "irrelevant_domain",
    }
    _, steps = check_run_dir(tmp_path / "run", "completed")
    assert [(d["decision"], d["decided_by"]) for d in steps[0]["safety"]] == [
        ("acknowledged", by)
    ] * 2


def test_ask_without_a_callback_is_refused_at_construction() -> None:
    with pytest.raises(ConfigurationError):
        Agent(RecordingComputer((10, 10)), safety="ask")
    with pytest.raises(ConfigurationError):
        SafetyPolicy("ask")
