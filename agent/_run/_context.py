"""`RunContext`: what the loop's stages share, and `Stop`, how a stage ends a run.

The stages (guard, act, function calls) take a `RunContext`, never the loop:
the settings they read, the computer, the provider profile, the redactor,
the recorder and the event sink. State that passes from one stage to the
next travels as return values (`guard_response` returns the acknowledged
safety checks, the loop hands them to the act stage), not through the context.

This module imports nothing of the loop or its stages, so every stage can
import it without a circle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from agent._actions._model import Action
from agent._api._interface import ModelClient
from agent._api._profiles import Environment, ProviderProfile, TextOnlyPolicy
from agent._events import Event
from agent._record._recorder import RunRecorder
from agent._result import RunStatus
from agent._run._before_action import ActionRule, BeforeActionHook
from agent._run._history import HistoryMode
from agent._safety import SafetyPolicy
from agent._secrets import Redactor
from agent._tools import FunctionTool
from executors._computer import Computer, Size
from executors._geometry import CoordinateSpace

__all__ = [
    "Acknowledged",
    "AgentConfig",
    "ConfirmCallback",
    "RunContext",
    "RunSettings",
    "Stop",
    "settings_of",
]

ConfirmCallback = Callable[[Action, dict[str, Any]], "bool | Awaitable[bool]"]
"""``confirm(action, screen) -> bool``: called before each action; False stops the run."""

Acknowledged = dict[str, list[dict[str, str]]]
"""call_id -> the safety checks acknowledged for it (sent back with its output)."""


@dataclass(frozen=True)
class RunSettings:
    """The agent's settings the stages read, fixed for one run."""

    display: Size
    coordinate_space: CoordinateSpace
    environment: Environment
    safety: SafetyPolicy
    allowed_actions: frozenset[str] | None = None
    confirm: ConfirmCallback | None = None
    tools: tuple[FunctionTool, ...] = ()
    secrets: Mapping[str, str] = field(default_factory=dict)
    settle_max_s: float = 2.0
    notices: bool = True
    # -- runs that finish (issue 18): agent/_run/_finishing.py, agent/_run/_before_action.py
    before_action: BeforeActionHook | None = None
    action_rules: tuple[ActionRule, ...] = ()
    stuck_after: int | None = 3
    stuck_stop_after: int = 2
    budget_notice_at: float | None = 0.8
    text_only: TextOnlyPolicy = "complete"
    text_only_nudges: int = 2


class AgentConfig(Protocol):
    """What the loop reads of its `Agent` (the loop depends on this, not on `Agent`)."""

    computer: Computer
    model: str
    client: ModelClient | None
    api_key: str | None
    base_url: str | None
    provider: str | None
    profile: ProviderProfile
    instructions: str | None
    coordinate_space: CoordinateSpace
    display: Size
    environment: Environment
    max_steps: int
    max_wall_time_s: float | None
    token_budget: int | None
    reasoning_effort: str | None
    truncation: str | None
    extra_body: dict[str, Any]
    history: HistoryMode
    keep_screenshots: int
    safety: SafetyPolicy
    allowed_actions: frozenset[str] | None
    confirm: ConfirmCallback | None
    tools: list[FunctionTool]
    secrets: dict[str, str]
    run_dir: Path | None
    overwrite: bool
    runs_root: Path
    record: bool
    settle_max_s: float
    notices: bool
    stream: bool
    close_computer: bool
    run_info: dict[str, Any]
    max_actions_per_response: int | None
    max_type_chars: int | None
    before_action: BeforeActionHook | None
    action_rules: tuple[ActionRule, ...]
    stuck_after: int | None
    stuck_stop_after: int
    budget_notice_at: float | None
    text_only: TextOnlyPolicy
    text_only_nudges: int


def settings_of(agent: AgentConfig) -> RunSettings:
    """The settings the stages read, taken from the agent when a run starts."""
    return RunSettings(
        display=agent.display,
        coordinate_space=agent.coordinate_space,
        environment=agent.environment,
        safety=agent.safety,
        allowed_actions=agent.allowed_actions,
        confirm=agent.confirm,
        tools=tuple(agent.tools),
        secrets=dict(agent.secrets),
        settle_max_s=agent.settle_max_s,
        notices=agent.notices,
        before_action=agent.before_action,
        action_rules=agent.action_rules,
        stuck_after=agent.stuck_after,
        stuck_stop_after=agent.stuck_stop_after,
        budget_notice_at=agent.budget_notice_at,
        text_only=agent.text_only,
        text_only_nudges=agent.text_only_nudges,
    )


@dataclass
class RunContext:
    """Dependencies of the stages of one run (the recorder is set once the run starts)."""

    settings: RunSettings
    computer: Computer
    profile: ProviderProfile
    redact: Redactor
    emit: Callable[[Event], Awaitable[None]]
    recorder: RunRecorder | None = None


class Stop(Exception):
    """Internal: end the run with `status` (raised by stages, caught by `RunLoop.run`)."""

    def __init__(
        self, status: RunStatus, final_output: str | None, error: BaseException | None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.final_output = final_output
        self.error = error
