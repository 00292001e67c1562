"""screenloop's agent layer: the loop that drives a model through a task on a `Computer`.

from agent import Agent
result = await Agent(computer, model="tzafon.northstar-cua-fast").run("...")
"""

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
    PermissionDeniedError,
    RateLimitError,
    RefusalError,
    ResponseValidationError,
    RunDirectoryError,
    SafetyDeniedError,
    ScreenloopError,
    ServerError,
    StreamError,
    TokenBudgetExceededError,
)
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
from agent._record._report import build_report
from agent._result import RunResult, StepRecord
from agent._safety import SafetyCheck, SafetyPolicy
from agent._tools import FunctionTool, done_tool, function_tool
from agent._version import __version__ as __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "ActionExecuted",
    "ActionParseError",
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
    "Event",
    "ExecutorNotice",
    "Finished",
    "FunctionCalled",
    "FunctionTool",
    "MalformedResponseError",
    "ModelOutputError",
    "NotFoundError",
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
    "TabSwitched",
    "TokenBudgetExceededError",
    "WarningEvent",
    "build_report",
    "done_tool",
    "function_tool",
    "parse_action",
    "parse_item",
]
