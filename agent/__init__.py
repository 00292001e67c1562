"""screenloop's agent layer: the loop that drives a model through a task on a `Computer`.

from agent import Agent
result = await Agent(computer, model="tzafon.northstar-cua-fast").run("...")
"""

from agent._agent import Agent
from agent._client import AsyncResponsesClient, ResponsesClient
from agent._events import (
    ActionExecuted,
    AgentHooks,
    Event,
    ExecutorNotice,
    Finished,
    FunctionCalled,
    ResponseReceived,
    Retry,
    SafetyDecision,
    ScreenshotTaken,
    StepStarted,
    TabSwitched,
    WarningEvent,
)
from agent._report import build_report
from agent._result import RunResult, StepRecord
from agent._retry import RetryEvent
from agent._safety import SafetyCheck, SafetyPolicy
from agent._sse import StreamEvent
from agent._tools import FunctionTool, done_tool, function_tool

__all__ = [
    "ActionExecuted",
    "Agent",
    "AgentHooks",
    "AsyncResponsesClient",
    "Event",
    "ExecutorNotice",
    "Finished",
    "FunctionCalled",
    "FunctionTool",
    "ResponseReceived",
    "ResponsesClient",
    "Retry",
    "RetryEvent",
    "RunResult",
    "SafetyCheck",
    "SafetyDecision",
    "SafetyPolicy",
    "ScreenshotTaken",
    "StepRecord",
    "StepStarted",
    "StreamEvent",
    "TabSwitched",
    "WarningEvent",
    "build_report",
    "done_tool",
    "function_tool",
]
