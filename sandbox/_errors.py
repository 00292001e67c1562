"""Errors raised by the sandbox layer, and the root of every screenloop error.

`ScreenloopError` lives here, in the lowest layer, so that the errors of all
three packages share one base without an upward import: ``except
ScreenloopError`` catches whatever screenloop raises. Each package still raises
its own branch.

ScreenloopError                 every error screenloop raises
├── SandboxError                this package's errors
│   ├── DisplayError            a virtual X display could not start or went away
│   │   └── LaunchError         a program launched on it died or never opened a window
│   ├── BrowserNotFoundError    no Chromium binary was found (lists what was tried)
│   ├── BrowserLaunchError      a browser binary was found but did not start
│   └── PolicyError             a domain policy is malformed
├── executors.ExecutorError     see executors/_errors.py
└── agent's errors              see agent/_errors.py
"""

from __future__ import annotations

__all__ = [
    "BrowserLaunchError",
    "BrowserNotFoundError",
    "DisplayError",
    "LaunchError",
    "PolicyError",
    "SandboxError",
    "ScreenloopError",
]


class ScreenloopError(Exception):
    """Base class of every error raised by screenloop (agent, executors and sandbox)."""


class SandboxError(ScreenloopError):
    """Base class of every error raised by `sandbox`."""


class DisplayError(SandboxError):
    """A virtual X display could not be started, reached, or went away."""


class LaunchError(DisplayError):
    """A program launched on a display exited or opened no window in time."""

    def __init__(
        self, message: str, *, command: str, returncode: int | None, stderr_tail: str
    ) -> None:
        super().__init__(message)
        self.command = command
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class BrowserNotFoundError(SandboxError):
    """No usable Chromium binary was found."""

    def __init__(self, tried: list[str]) -> None:
        self.tried = list(tried)
        lines = "\n".join(f"  - {t}" for t in self.tried)
        super().__init__(
            "no Chromium browser found. Tried:\n"
            f"{lines}\n"
            "Install Debian's `chromium` package (make setup does), or pass an explicit "
            "executable path / set SCREENLOOP_CHROMIUM."
        )


class BrowserLaunchError(SandboxError):
    """A browser binary was found but failed to start."""


class PolicyError(SandboxError):
    """A domain policy rule is malformed."""
