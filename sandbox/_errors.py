"""Errors raised by the sandbox layer, and the root of every screenloop error.

`ScreenloopError` lives here, in the lowest layer, so that the errors of all
three packages share one base without an upward import: ``except
ScreenloopError`` catches whatever screenloop raises. Each package still raises
its own branch.

ScreenloopError                 every error screenloop raises
├── SandboxError                this package's errors
│   ├── DisplayError            a virtual X display could not start or went away
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
