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
from typing import TYPE_CHECKING

from agent._errors import SafetyDeniedError
from agent._events import SafetyDecision
from agent._result import RunStatus, StepRecord
from agent._run._validate import ParsedResponse
from agent._safety import CheckDecision

if TYPE_CHECKING:
    from agent._run._loop import RunLoop

__all__ = ["Stop", "decide_locally", "guard_response", "record_decision"]


class Stop(Exception):
    """Internal: end the run with `status` (raised by stages, caught by `RunLoop.run`)."""

    def __init__(
        self, status: RunStatus, final_output: str | None, error: BaseException | None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.final_output = final_output
        self.error = error


async def guard_response(loop: RunLoop, step: StepRecord, parsed: ParsedResponse) -> None:
    """Safety checks and the action allowlist, for every call, before anything runs."""
    t0 = time.monotonic()
    allowed = loop.agent.allowed_actions
    try:
        for call in parsed.computer_calls:
            if allowed is not None:
                for i, action in enumerate(call.actions):
                    if action.type not in allowed:
                        await decide_locally(
                            loop,
                            step,
                            call.call_id,
                            f"allowed_actions_{i}",
                            "action_not_allowed",
                            f"action {action.type!r} is not in allowed_actions",
                            "allowed_actions",
                        )
            if not call.checks:
                continue
            decisions = await loop.agent.safety.decide(call.call_id, call.checks)
            for d in decisions:
                await record_decision(loop, step, d)
            denied = [d for d in decisions if not d.acknowledged]
            if denied:
                codes = ", ".join(d.check.code or d.check.id for d in denied)
                raise Stop(
                    "safety_denied", None, SafetyDeniedError(f"safety check denied: {codes}")
                )
            loop.calls.acknowledged[call.call_id] = [d.check.to_json() for d in decisions]
    finally:
        step.timings["safety_s"] = time.monotonic() - t0


async def record_decision(loop: RunLoop, step: StepRecord, d: CheckDecision) -> None:
    """Record one safety decision in the step and as an event."""
    step.safety.append(d.to_json())
    c = d.check
    await loop.emit(
        SafetyDecision(step.step, d.call_id, c.id, c.code, c.message, d.decision, d.decided_by)
    )


async def decide_locally(
    loop: RunLoop, step: StepRecord, call_id: str, id_: str, code: str, message: str, by: str
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
    await loop.emit(SafetyDecision(step.step, call_id, id_, code, message, "denied", by))
    raise Stop("safety_denied", None, SafetyDeniedError(message))
