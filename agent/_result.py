"""What a run returns: `RunResult` and one typed `StepRecord` per model turn.

`StepRecord.to_json()` is exactly the line written to ``steps.jsonl``
(docs/run-directory.md), so the result and the record cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "ActionRecord",
    "RunResult",
    "RunStatus",
    "StepRecord",
    "empty_usage",
    "output_json",
]

RunStatus = Literal[
    "running",
    "completed",
    "max_steps",
    "timeout",
    "safety_denied",
    "cancelled",
    "error",
    "stuck",
]


def empty_usage() -> dict[str, int]:
    """A zeroed token usage dict."""
    return {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}


@dataclass
class ActionRecord:
    """One executed (or refused) action of a computer_call."""

    call_id: str
    index: int
    type: str
    raw: dict[str, Any]
    screen: dict[str, Any]
    clamped: bool = False
    action_s: float = 0.0
    settle_s: float = 0.0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``actions[]`` entry of a steps.jsonl line."""
        return {
            "call_id": self.call_id,
            "index": self.index,
            "type": self.type,
            "raw": self.raw,
            "screen": self.screen,
            "clamped": self.clamped,
            "timings": {"action_s": round(self.action_s, 6), "settle_s": round(self.settle_s, 6)},
            "error": self.error,
        }


@dataclass
class StepRecord:
    """Everything that happened in one model turn."""

    step: int
    response_id: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    output: list[dict[str, Any]] = field(default_factory=list)
    observed: str | None = None
    screenshot: str | None = None
    url: str | None = None
    messages: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    function_calls: list[dict[str, Any]] = field(default_factory=list)
    safety: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=empty_usage)
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The steps.jsonl line for this step."""
        return {
            "step": self.step,
            "response_id": self.response_id,
            "request": self.request,
            "output": self.output,
            "observed": self.observed,
            "screenshot": self.screenshot,
            "url": self.url,
            "messages": self.messages,
            "reasoning": self.reasoning,
            "actions": [a.to_json() for a in self.actions],
            "function_calls": self.function_calls,
            "safety": self.safety,
            "events": self.events,
            "notices": self.notices,
            "usage": self.usage,
            "timings": {k: round(v, 6) for k, v in self.timings.items()},
        }


@dataclass
class RunResult:
    """The outcome of `Agent.run`.

    `status` is one of completed, max_steps, timeout, safety_denied, cancelled,
    error, stuck (the same action kept meeting an unchanged screen, see
    ``Agent(stuck_after=...)``); `error` is ``{"type": ..., "message": ...}`` when
    the run did not complete because something failed or was refused.
    `output` is the validated structured answer of ``run(..., output_schema=...)``.
    """

    status: RunStatus
    final_output: str | None
    steps: list[StepRecord]
    usage: dict[str, int]
    timings: dict[str, float]
    run_dir: Path | None
    error: dict[str, str] | None = None
    output: Any = None

    @property
    def ok(self) -> bool:
        """True when the task completed."""
        return self.status == "completed"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (what ``screenloop run --json`` prints)."""
        return {
            "status": self.status,
            "final_output": self.final_output,
            "steps": len(self.steps),
            "usage": self.usage,
            "timings": self.timings,
            "run_dir": str(self.run_dir) if self.run_dir else None,
            "error": self.error,
            "output": output_json(self.output),
        }


def output_json(value: Any) -> Any:
    """A structured output as JSON-ready data (a pydantic model is dumped)."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    return value
