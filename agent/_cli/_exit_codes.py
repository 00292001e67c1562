"""The exit statuses of the `screenloop` command, defined once.

`screenloop run --help`, the README and the tests all read this table. A run's
status (and, for status ``error``, the type of its error) decides the code;
an exception that escapes before or around a run is classified the same way.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from agent import _errors as agent_errors
from executors import _errors as executor_errors
from sandbox import _errors as sandbox_errors

__all__ = [
    "EXIT_CODES_HELP",
    "ExitCode",
    "exit_code_for_error_type",
    "exit_code_for_exception",
    "exit_code_for_status",
]


class ExitCode(enum.IntEnum):
    """Exit statuses of `screenloop` commands."""

    COMPLETED = 0
    """The task completed (replay: every step matched; doctor: every required check passed)."""
    ERROR = 1
    """An unexpected error (a bug, or something not classified below)."""
    USAGE = 2
    """Bad command line or configuration (unknown option, missing API key, bad pattern)."""
    SAFETY_DENIED = 3
    """A pending safety check or a local guard was denied."""
    LIMIT_REACHED = 4
    """max steps, max time or the token budget was reached before the task completed, or the
    run was stopped as stuck (the same action kept meeting an unchanged screen)."""
    API_ERROR = 5
    """The Responses API failed (connection, HTTP status, malformed body) or the model's
    output could not be acted on."""
    EXECUTOR_ERROR = 6
    """The browser or the display failed (not found, did not start, crashed, action failed)."""
    REPLAY_DIVERGED = 7
    """`screenloop replay`: a replayed screenshot differs from the recorded one."""
    CHECKS_FAILED = 8
    """A check failed: `screenloop doctor`, a required check; `screenloop batch` (and
    `batch merge`), a task attempt that missed its success check, or attempts not run."""
    CANCELLED = 130
    """Interrupted by Ctrl-C (SIGINT); the run directory is finished and inputs released."""
    TERMINATED = 143
    """Stopped by SIGTERM; handled like Ctrl-C."""


EXIT_CODES_HELP = (
    "Exit status: 0 completed; 1 unexpected error; 2 usage or configuration error; "
    "3 safety check denied; 4 limit reached (max steps, max time, token budget) or stuck; "
    "5 API or model error; 6 browser/display error; 7 replay diverged; "
    "8 check failed (doctor; batch: a task missed its success check); "
    "130 cancelled (Ctrl-C); 143 terminated (SIGTERM)."
)

_BY_STATUS: Mapping[str, ExitCode] = {
    "completed": ExitCode.COMPLETED,
    "safety_denied": ExitCode.SAFETY_DENIED,
    "max_steps": ExitCode.LIMIT_REACHED,
    "timeout": ExitCode.LIMIT_REACHED,
    "stuck": ExitCode.LIMIT_REACHED,
    "cancelled": ExitCode.CANCELLED,
}

# Most specific first: an issubclass test walks this list in order.
_BY_CLASS: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (agent_errors.TokenBudgetExceededError, ExitCode.LIMIT_REACHED),
    (agent_errors.WorkLimitError, ExitCode.LIMIT_REACHED),
    (agent_errors.StuckError, ExitCode.LIMIT_REACHED),
    (agent_errors.SafetyDeniedError, ExitCode.SAFETY_DENIED),
    (agent_errors.ConfigurationError, ExitCode.USAGE),
    (sandbox_errors.PolicyError, ExitCode.USAGE),
    (agent_errors.APIError, ExitCode.API_ERROR),
    (agent_errors.ModelOutputError, ExitCode.API_ERROR),
    (executor_errors.ExecutorError, ExitCode.EXECUTOR_ERROR),
    (sandbox_errors.SandboxError, ExitCode.EXECUTOR_ERROR),
    (TimeoutError, ExitCode.LIMIT_REACHED),
)


def _error_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module in (agent_errors, executor_errors, sandbox_errors):
        for name in module.__all__:
            cls = getattr(module, name)
            if isinstance(cls, type) and issubclass(cls, BaseException):
                found[name] = cls
    return found


_ERROR_CLASSES = _error_classes()


def exit_code_for_exception(exc: BaseException) -> ExitCode:
    """The exit status for an exception (unknown kinds are `ExitCode.ERROR`)."""
    for cls, code in _BY_CLASS:
        if isinstance(exc, cls):
            return code
    return ExitCode.ERROR


def exit_code_for_error_type(type_name: str | None) -> ExitCode:
    """The exit status for a recorded error's class name (``RunResult.error["type"]``)."""
    cls = _ERROR_CLASSES.get(type_name or "")
    if cls is None:
        return ExitCode.LIMIT_REACHED if type_name == "TimeoutError" else ExitCode.ERROR
    for known, code in _BY_CLASS:
        if issubclass(cls, known):
            return code
    return ExitCode.ERROR


def exit_code_for_status(status: str, error: Mapping[str, object] | None = None) -> ExitCode:
    """The exit status for a run's final status (and its error, for status ``error``)."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status == "error":
        type_name = error.get("type") if error else None
        return exit_code_for_error_type(type_name if isinstance(type_name, str) else None)
    return ExitCode.ERROR
