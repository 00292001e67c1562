"""The exit status table: one place, every run ending and error family mapped."""

from __future__ import annotations

import pytest

from agent import AuthenticationError, ConfigurationError, RefusalError
from agent._cli._exit_codes import (
    EXIT_CODES_HELP,
    ExitCode,
    exit_code_for_exception,
    exit_code_for_status,
)
from executors import ActionFailedError
from sandbox import BrowserNotFoundError, PolicyError


@pytest.mark.parametrize(
    ("status", "error_type", "code"),
    [
        ("completed", None, 0),
        ("safety_denied", "SafetyDeniedError", 3),
        ("max_steps", None, 4),
        ("timeout", "TimeoutError", 4),
        ("error", "TokenBudgetExceededError", 4),
        ("error", "AuthenticationError", 5),
        ("error", "APIConnectionError", 5),
        ("error", "ActionParseError", 5),
        ("error", "ActionFailedError", 6),
        ("error", "CaptureError", 6),
        ("error", "BrowserLaunchError", 6),
        ("error", "DisplayError", 6),
        ("error", "KeyError", 1),
        ("error", None, 1),
        ("cancelled", None, 130),
    ],
)
def test_status_to_exit_code(status: str, error_type: str | None, code: int) -> None:
    error = {"type": error_type, "message": "m"} if error_type else None
    assert exit_code_for_status(status, error) == code


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ConfigurationError("x"), ExitCode.USAGE),
        (PolicyError("x"), ExitCode.USAGE),
        (AuthenticationError("x", status_code=401), ExitCode.API_ERROR),
        (RefusalError("x"), ExitCode.API_ERROR),
        (ActionFailedError("x"), ExitCode.EXECUTOR_ERROR),
        (BrowserNotFoundError(["here"]), ExitCode.EXECUTOR_ERROR),
        (RuntimeError("x"), ExitCode.ERROR),
    ],
)
def test_exception_to_exit_code(exc: BaseException, code: ExitCode) -> None:
    assert exit_code_for_exception(exc) == code


def test_help_text_lists_every_code() -> None:
    for code in ExitCode:
        assert f"{int(code)} " in EXIT_CODES_HELP
