"""Errors raised by the agent layer, split by who is at fault.

`ScreenloopError` is the root of every screenloop error; it is defined in
sandbox/_errors.py (the lowest layer) so that `executors.ExecutorError` and
`sandbox.SandboxError` derive from it too, and re-exported here.

ScreenloopError                   (also the base of ExecutorError and SandboxError)
├── ConfigurationError            the developer/user configured something wrong
│   ├── RunDirectoryError         a run directory is missing or unreadable
│   └── TaskFileError             a batch task file is malformed (line-numbered)
├── ModelOutputError              the model emitted something we cannot act on
│   ├── ActionParseError          an action (item id + field) was not understood
│   ├── ResponseValidationError   a response broke the protocol (dup call ids, ...)
│   ├── RefusalError              the model refused the task
│   ├── CheckAnswerError          a check/extract answer is not the asked-for JSON
│   ├── WorkLimitError            a response asked for more work than the limits allow
│   └── OutputValidationError     a run's final answer does not fit its output_schema
├── SafetyDeniedError             a pending safety check was not acknowledged
├── StuckError                    the model repeated itself on an unchanged screen
├── TokenBudgetExceededError      the run used more tokens than its budget
├── CassetteError                 a test cassette cannot serve this request
│   ├── CassetteMissingError      no cassette, and the record mode forbids recording
│   └── CassetteMismatchError     a request differs from the recorded one
└── APIError                      the Responses API failed
    ├── APIConnectionError        could not reach the server
    │   └── APITimeoutError       the request timed out
    ├── APIStatusError            the server answered with an error status
    │   ├── BadRequestError       400
    │   ├── AuthenticationError   401
    │   ├── PermissionDeniedError 403
    │   ├── NotFoundError         404
    │   ├── RateLimitError        429
    │   └── ServerError           5xx
    ├── MalformedResponseError    the body is not a valid response
    └── StreamError               an SSE stream ended without its completion event
"""

from __future__ import annotations

from sandbox._errors import ScreenloopError

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "ActionParseError",
    "AuthenticationError",
    "BadRequestError",
    "CassetteError",
    "CassetteMismatchError",
    "CassetteMissingError",
    "CheckAnswerError",
    "ConfigurationError",
    "MalformedResponseError",
    "ModelOutputError",
    "NotFoundError",
    "OutputValidationError",
    "PermissionDeniedError",
    "RateLimitError",
    "RefusalError",
    "ResponseValidationError",
    "RunDirectoryError",
    "SafetyDeniedError",
    "ScreenloopError",
    "ServerError",
    "StreamError",
    "StuckError",
    "TaskFileError",
    "TokenBudgetExceededError",
    "WorkLimitError",
]


class ConfigurationError(ScreenloopError):
    """Bad configuration from the developer or user (fix the arguments)."""


class RunDirectoryError(ConfigurationError):
    """A run directory is missing, has no readable run.json, or is not schema version 1."""


class TaskFileError(ConfigurationError):
    """A `screenloop batch` task file is malformed; `errors` holds one ``file:line: what`` each."""

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors) if errors is not None else [message]


class ModelOutputError(ScreenloopError):
    """The model produced output screenloop cannot act on."""


class ActionParseError(ModelOutputError):
    """An action could not be understood; names the item id and the field."""

    def __init__(self, item_id: str | None, field: str, problem: str) -> None:
        self.item_id = item_id
        self.field = field
        self.problem = problem
        super().__init__(f"computer_call {item_id or '<no id>'}: field {field!r}: {problem}")


class ResponseValidationError(ModelOutputError):
    """A response broke the protocol (failed status, duplicate call ids, ...)."""


class RefusalError(ModelOutputError):
    """The model answered with a refusal instead of acting."""


class CheckAnswerError(ModelOutputError):
    """The model's answer to `check`/`extract` is not JSON matching the asked-for schema."""


class WorkLimitError(ModelOutputError):
    """A response asked for more actions, or longer typed text, than the run's limits allow
    (``max_actions_per_response``, ``max_type_chars``); nothing of it ran."""


class OutputValidationError(ModelOutputError):
    """The final answer of a run with ``output_schema`` is not JSON matching that schema."""


class SafetyDeniedError(ScreenloopError):
    """A pending safety check was denied by the safety policy."""


class StuckError(ScreenloopError):
    """The model kept repeating itself on an unchanged screen after being told (status
    ``stuck``); raise ``stuck_after`` / ``stuck_stop_after`` or rephrase the task."""


class TokenBudgetExceededError(ScreenloopError):
    """The run's token usage reached its `token_budget`; raise the budget or simplify the task."""


class CassetteError(ScreenloopError):
    """A test cassette cannot serve a request (see agent/_pytest/_cassette.py)."""


class CassetteMissingError(CassetteError):
    """No cassette exists and the record mode is ``none``; record one with a model first."""


class CassetteMismatchError(CassetteError):
    """A request differs from the recorded one; the message holds the diff."""


class APIError(ScreenloopError):
    """The Responses API call failed."""


class APIConnectionError(APIError):
    """The server could not be reached. Check the base URL and the network."""


class APITimeoutError(APIConnectionError):
    """The request timed out. Retry later or raise the timeout."""


class APIStatusError(APIError):
    """The server answered with an error status."""

    def __init__(self, message: str, *, status_code: int, body: object = None) -> None:
        self.status_code = status_code
        self.body = body
        super().__init__(message)


class BadRequestError(APIStatusError):
    """400: the request was rejected; the server's message says why."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or wrong (set TZAFON_API_KEY or pass api_key)."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this model or endpoint."""


class NotFoundError(APIStatusError):
    """404: unknown model, response id, or base URL path."""


class RateLimitError(APIStatusError):
    """429: rate limited after every retry; slow down or raise the retry budget."""


class ServerError(APIStatusError):
    """5xx: the server failed after every retry; try again later."""


class MalformedResponseError(APIError):
    """The server's body is not JSON or not a Responses API response object."""


class StreamError(APIError):
    """A streamed response ended before its completion event."""
