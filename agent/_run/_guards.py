"""The guard stage: every computer call of a response is cleared before any of it runs.

Two kinds of guard: the model's ``pending_safety_checks`` go to the agent's
`SafetyPolicy`; the local ``allowed_actions`` list refuses action types the
developer did not allow. (The third local guard, ``confirm``, runs per action
in agent/_run/_act.py; the executor's domain policy runs inside the executor.) Every
decision is a `SafetyDecision` event and a ``safety`` line of the step; a
denial stops the run with status ``safety_denied``.
"""

from __future__ import annotations

import time

from agent._errors import SafetyDeniedError
from agent._events import SafetyDecision
from agent._result import StepRecord
from agent._run._context import Acknowledged, RunContext, Stop
from agent._run._validate import ParsedResponse
from agent._safety import CheckDecision

__all__ = ["decide_locally", "guard_response", "record_decision"]


async def guard_response(ctx: RunContext, step: StepRecord, parsed: ParsedResponse) -> Acknowledged:
    """Safety checks and the action allowlist, for every call, before anything runs.

    Returns the acknowledged checks by call_id (the act stage sends them back
    with each call's output); raises `Stop` on the first refusal.
    """
    t0 = time.monotonic()
    allowed = ctx.settings.allowed_actions
    acknowledged: Acknowledged = {}
    try:
        for call in parsed.computer_calls:
            if allowed is not None:
                for i, action in enumerate(call.actions):
                    if action.type not in allowed:
                        await decide_locally(
                            ctx,
                            step,
                            call.call_id,
                            f"allowed_actions_{i}",
                            "action_not_allowed",
                            f"action {action.type!r} is not in allowed_actions",
                            "allowed_actions",
                        )
            if not call.checks:
                continue
            decisions = await ctx.settings.safety.decide(call.call_id, call.checks)
            for d in decisions:
                await record_decision(ctx, step, d)
            denied = [d for d in decisions if not d.acknowledged]
            if denied:
                codes = ", ".join(d.check.code or d.check.id for d in denied)
                raise Stop(
                    "safety_denied", None, SafetyDeniedError(f"safety check denied: {codes}")
                )
            acknowledged[call.call_id] = [d.check.to_json() for d in decisions]
    finally:
        step.timings["safety_s"] = time.monotonic() - t0
    return acknowledged


async def record_decision(ctx: RunContext, step: StepRecord, d: CheckDecision) -> None:
    """Record one safety decision in the step and as an event."""
    step.safety.append(d.to_json())
    c = d.check
    await ctx.emit(
        SafetyDecision(step.step, d.call_id, c.id, c.code, c.message, d.decision, d.decided_by)
    )


async def decide_locally(
    ctx: RunContext, step: StepRecord, call_id: str, id_: str, code: str, message: str, by: str
) -> None:
    """A local guard refused: record the denial and stop with safety_denied."""
    step.safety.append(
        {
            "call_id": call_id,
            "id": id_,
            "code": code,
            "message": message,
            "decision": "denied",
            "decided_by": by,
        }
    )
    await ctx.emit(SafetyDecision(step.step, call_id, id_, code, message, "denied", by))
    raise Stop("safety_denied", None, SafetyDeniedError(message))
