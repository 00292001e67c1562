"""What a run reports while it happens: event dataclasses and the `AgentHooks` base class.

Every event is delivered three ways: to the `AgentHooks` methods of the
agent, to anyone iterating `Agent.iter(task)`, and (as a dict) into the run
record. Events never carry secret values or screenshot bytes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from agent._result import RunResult

__all__ = [
    "ActionExecuted",
    "ActionStarting",
    "AgentHooks",
    "ControlEvent",
    "Event",
    "ExecutorNotice",
    "Finished",
    "FunctionCalled",
    "Nudge",
    "ResponseReceived",
    "Retry",
    "SafetyDecision",
    "ScreenshotTaken",
    "StepStarted",
    "TabSwitched",
    "WarningEvent",
    "dispatch_hook",
    "event_to_dict",
]


@dataclass(frozen=True)
class StepStarted:
    """A step begins: the request for model turn `step` is about to be built."""

    kind: ClassVar[str] = "step_started"
    step: int


@dataclass(frozen=True)
class ResponseReceived:
    """The API answered; `output_types` lists the item types in order."""

    kind: ClassVar[str] = "response_received"
    step: int
    response_id: str | None
    output_types: tuple[str, ...]
    usage: dict[str, int]
    model_s: float
    messages: tuple[str, ...] = ()
    reasoning: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionStarting:
    """An action is about to run; `screen` is the action in screen pixels (secrets as
    placeholders). `ActionExecuted` follows when it has run."""

    kind: ClassVar[str] = "action_starting"
    step: int
    call_id: str
    index: int
    type: str
    screen: dict[str, Any]


@dataclass(frozen=True)
class ActionExecuted:
    """One action ran (or failed); `screen` is the action in screen pixels."""

    kind: ClassVar[str] = "action_executed"
    step: int
    call_id: str
    index: int
    type: str
    screen: dict[str, Any]
    clamped: bool
    action_s: float
    error: str | None = None


@dataclass(frozen=True)
class ScreenshotTaken:
    """A screenshot was captured and stored at `path` (relative to the run dir)."""

    kind: ClassVar[str] = "screenshot_taken"
    step: int
    path: str | None
    width: int
    height: int
    settle_s: float
    capture_s: float
    encode_s: float


@dataclass(frozen=True)
class SafetyDecision:
    """A safety check or local guard was decided."""

    kind: ClassVar[str] = "safety_decision"
    step: int
    call_id: str
    id: str
    code: str
    message: str
    decision: str
    decided_by: str


@dataclass(frozen=True)
class FunctionCalled:
    """A function tool was called; `error` is set when it failed."""

    kind: ClassVar[str] = "function_called"
    step: int
    call_id: str
    name: str
    arguments: str
    output: str
    error: str | None = None


@dataclass(frozen=True)
class TabSwitched:
    """The browser switched to another tab (a popup or a closed tab)."""

    kind: ClassVar[str] = "tab_switched"
    step: int
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecutorNotice:
    """Anything else the executor noticed (blocked navigation, dialog, download...)."""

    kind: ClassVar[str] = "executor_notice"
    step: int
    notice: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Retry:
    """The client retried an API request."""

    kind: ClassVar[str] = "retry"
    step: int
    attempt: int
    delay_s: float
    reason: str


@dataclass(frozen=True)
class WarningEvent:
    """Something went not quite right but the run continues (clamped point, ...)."""

    kind: ClassVar[str] = "warning"
    step: int
    code: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Nudge:
    """The run steered the model or its actions: `reason` is ``stuck``, ``budget``,
    ``text_only`` or ``before_action``; `message` is what the model was told (or why)."""

    kind: ClassVar[str] = "nudge"
    step: int
    reason: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ControlEvent:
    """Someone steered the run from outside: ``pause``, ``resume``, ``stop``, ``message``
    (text sent to the model with the next request) or ``safety_answer``; `by` says who
    (``watch`` for the watch page, ``terminal``, ``timeout``)."""

    kind: ClassVar[str] = "control"
    step: int
    control: str
    by: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finished:
    """The run ended; `result` is the same object `Agent.run` returns."""

    kind: ClassVar[str] = "finished"
    step: int
    status: str
    result: RunResult


Event = (
    StepStarted
    | ResponseReceived
    | ActionStarting
    | ActionExecuted
    | ScreenshotTaken
    | SafetyDecision
    | FunctionCalled
    | TabSwitched
    | ExecutorNotice
    | Retry
    | WarningEvent
    | Nudge
    | ControlEvent
    | Finished
)


def event_to_dict(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready dict with its `kind` (for the run record)."""
    if isinstance(event, Finished):
        data: dict[str, Any] = {"step": event.step, "status": event.status}
    else:
        data = asdict(event)
    return {"kind": event.kind, **data}


class AgentHooks:
    """Subclass and override the `on_*` methods you need; each is awaited in the loop.

    `on_event` is called for every event, before the specific method. A hook
    that raises ends the run with status ``error``.
    """

    async def on_event(self, event: Event) -> None:
        """Every event."""

    async def on_step_started(self, event: StepStarted) -> None:
        """A step begins."""

    async def on_response(self, event: ResponseReceived) -> None:
        """The model answered."""

    async def on_action_starting(self, event: ActionStarting) -> None:
        """An action is about to run."""

    async def on_action(self, event: ActionExecuted) -> None:
        """An action ran."""

    async def on_screenshot(self, event: ScreenshotTaken) -> None:
        """A screenshot was taken."""

    async def on_safety_decision(self, event: SafetyDecision) -> None:
        """A safety check was decided."""

    async def on_function_call(self, event: FunctionCalled) -> None:
        """A function tool ran."""

    async def on_tab_switched(self, event: TabSwitched) -> None:
        """The browser switched tabs."""

    async def on_executor_notice(self, event: ExecutorNotice) -> None:
        """The executor reported something."""

    async def on_retry(self, event: Retry) -> None:
        """An API request is retried."""

    async def on_warning(self, event: WarningEvent) -> None:
        """A warning."""

    async def on_nudge(self, event: Nudge) -> None:
        """The run nudged the model (stuck, step budget, text-only answer, before_action)."""

    async def on_control(self, event: ControlEvent) -> None:
        """The run was steered (pause, resume, stop, a message, a safety answer)."""

    async def on_finished(self, event: Finished) -> None:
        """The run ended."""


async def dispatch_hook(hooks: AgentHooks, event: Event) -> None:
    """Call `hooks.on_event` and the event's specific method (an explicit table)."""
    await hooks.on_event(event)
    if isinstance(event, StepStarted):
        await hooks.on_step_started(event)
    elif isinstance(event, ResponseReceived):
        await hooks.on_response(event)
    elif isinstance(event, ActionStarting):
        await hooks.on_action_starting(event)
    elif isinstance(event, ActionExecuted):
        await hooks.on_action(event)
    elif isinstance(event, ScreenshotTaken):
        await hooks.on_screenshot(event)
    elif isinstance(event, SafetyDecision):
        await hooks.on_safety_decision(event)
    elif isinstance(event, FunctionCalled):
        await hooks.on_function_call(event)
    elif isinstance(event, TabSwitched):
        await hooks.on_tab_switched(event)
    elif isinstance(event, ExecutorNotice):
        await hooks.on_executor_notice(event)
    elif isinstance(event, Retry):
        await hooks.on_retry(event)
    elif isinstance(event, WarningEvent):
        await hooks.on_warning(event)
    elif isinstance(event, Nudge):
        await hooks.on_nudge(event)
    elif isinstance(event, ControlEvent):
        await hooks.on_control(event)
    elif isinstance(event, Finished):
        await hooks.on_finished(event)
