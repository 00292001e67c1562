"""screenloop's agent layer: the loop that drives a model through a task on a `Computer`.

from agent import Agent
result = await Agent(computer, model="tzafon.northstar-cua-fast").run("...")
"""

from typing import TYPE_CHECKING, Any

from agent._version import __version__ as __version__

if TYPE_CHECKING:  # the names below are imported on first use (`__getattr__`)
    from agent._actions._parse import parse_action
    from agent._agent import Agent
    from agent._api._client import AsyncResponsesClient, ResponsesClient
    from agent._api._protocol import parse_item
    from agent._api._response import Response
    from agent._api._retry import RetryEvent
    from agent._api._sse import StreamEvent
    from agent._errors import (
        ActionParseError,
        APIConnectionError,
        APIError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        CassetteError,
        CassetteMismatchError,
        CassetteMissingError,
        CheckAnswerError,
        ConfigurationError,
        MalformedResponseError,
        ModelOutputError,
        NotFoundError,
        OutputValidationError,
        PermissionDeniedError,
        RateLimitError,
        RefusalError,
        ResponseValidationError,
        RunDirectoryError,
        SafetyDeniedError,
        ScreenloopError,
        ServerError,
        StreamError,
        StuckError,
        TaskFileError,
        TokenBudgetExceededError,
        WorkLimitError,
    )
    from agent._events import (
        ActionExecuted,
        ActionStarting,
        AgentHooks,
        ControlEvent,
        Event,
        ExecutorNotice,
        Finished,
        FunctionCalled,
        Nudge,
        ResponseReceived,
        Retry,
        SafetyDecision,
        ScreenshotTaken,
        StepStarted,
        TabSwitched,
        WarningEvent,
    )
    from agent._record._report import build_report
    from agent._result import RunResult, StepRecord
    from agent._run._before_action import ActionInfo, ActionRule, Decision, Verdict
    from agent._safety import SafetyCheck, SafetyPolicy
    from agent._tools import FunctionTool, done_tool, function_tool
    from agent._watch._server import WatchServer

# Importing `agent` (the pytest plugin does, in every pytest run where screenloop
# is installed) must stay cheap: each public name is imported from its module
# the first time it is used.
_LAZY: dict[str, str] = {
    "APIConnectionError": "agent._errors",
    "APIError": "agent._errors",
    "APIStatusError": "agent._errors",
    "APITimeoutError": "agent._errors",
    "ActionExecuted": "agent._events",
    "ActionInfo": "agent._run._before_action",
    "ActionParseError": "agent._errors",
    "ActionRule": "agent._run._before_action",
    "ActionStarting": "agent._events",
    "Agent": "agent._agent",
    "AgentHooks": "agent._events",
    "AsyncResponsesClient": "agent._api._client",
    "AuthenticationError": "agent._errors",
    "BadRequestError": "agent._errors",
    "CassetteError": "agent._errors",
    "CassetteMismatchError": "agent._errors",
    "CassetteMissingError": "agent._errors",
    "CheckAnswerError": "agent._errors",
    "ConfigurationError": "agent._errors",
    "ControlEvent": "agent._events",
    "Decision": "agent._run._before_action",
    "Event": "agent._events",
    "ExecutorNotice": "agent._events",
    "Finished": "agent._events",
    "FunctionCalled": "agent._events",
    "FunctionTool": "agent._tools",
    "MalformedResponseError": "agent._errors",
    "ModelOutputError": "agent._errors",
    "NotFoundError": "agent._errors",
    "Nudge": "agent._events",
    "OutputValidationError": "agent._errors",
    "PermissionDeniedError": "agent._errors",
    "RateLimitError": "agent._errors",
    "RefusalError": "agent._errors",
    "Response": "agent._api._response",
    "ResponseReceived": "agent._events",
    "ResponseValidationError": "agent._errors",
    "ResponsesClient": "agent._api._client",
    "Retry": "agent._events",
    "RetryEvent": "agent._api._retry",
    "RunDirectoryError": "agent._errors",
    "RunResult": "agent._result",
    "SafetyCheck": "agent._safety",
    "SafetyDecision": "agent._events",
    "SafetyDeniedError": "agent._errors",
    "SafetyPolicy": "agent._safety",
    "ScreenloopError": "agent._errors",
    "ScreenshotTaken": "agent._events",
    "ServerError": "agent._errors",
    "StepRecord": "agent._result",
    "StepStarted": "agent._events",
    "StreamError": "agent._errors",
    "TaskFileError": "agent._errors",
    "StreamEvent": "agent._api._sse",
    "StuckError": "agent._errors",
    "TabSwitched": "agent._events",
    "TokenBudgetExceededError": "agent._errors",
    "Verdict": "agent._run._before_action",
    "WarningEvent": "agent._events",
    "WatchServer": "agent._watch._server",
    "WorkLimitError": "agent._errors",
    "build_report": "agent._record._report",
    "done_tool": "agent._tools",
    "function_tool": "agent._tools",
    "parse_action": "agent._actions._parse",
    "parse_item": "agent._api._protocol",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agent' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "ActionExecuted",
    "ActionInfo",
    "ActionParseError",
    "ActionRule",
    "ActionStarting",
    "Agent",
    "AgentHooks",
    "AsyncResponsesClient",
    "AuthenticationError",
    "BadRequestError",
    "CassetteError",
    "CassetteMismatchError",
    "CassetteMissingError",
    "CheckAnswerError",
    "ConfigurationError",
    "ControlEvent",
    "Decision",
    "Event",
    "ExecutorNotice",
    "Finished",
    "FunctionCalled",
    "FunctionTool",
    "MalformedResponseError",
    "ModelOutputError",
    "NotFoundError",
    "Nudge",
    "OutputValidationError",
    "PermissionDeniedError",
    "RateLimitError",
    "RefusalError",
    "Response",
    "ResponseReceived",
    "ResponseValidationError",
    "ResponsesClient",
    "Retry",
    "RetryEvent",
    "RunDirectoryError",
    "RunResult",
    "SafetyCheck",
    "SafetyDecision",
    "SafetyDeniedError",
    "SafetyPolicy",
    "ScreenloopError",
    "ScreenshotTaken",
    "ServerError",
    "StepRecord",
    "StepStarted",
    "StreamError",
    "StreamEvent",
    "StuckError",
    "TabSwitched",
    "TaskFileError",
    "TokenBudgetExceededError",
    "Verdict",
    "WarningEvent",
    "WatchServer",
    "WorkLimitError",
    "build_report",
    "done_tool",
    "function_tool",
    "parse_action",
    "parse_item",
]
