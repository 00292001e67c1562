"""Errors raised by executors (their root, `ScreenloopError`, is in sandbox/_errors.py).

ExecutorError
├── UnsupportedActionError   the backend cannot perform this action
├── ExecutorClosedError      the executor, its browser or its display is gone
│   └── BrowserGoneError     the browser process died (crash, kill) under the computer
├── CaptureError             a screenshot failed or timed out
├── HostDisplayRefusedError  refusing to drive a display screenloop did not create
├── HostFailSafeError        the user moved the mouse into a corner of their own screen
├── ActionFailedError        the backend raised while performing an action
├── UnknownKeyError          a key name is not in the canonical key table (also a ValueError)
└── LightconeError           a Lightcone hosted computer (or serve-computers) failed
    ├── LightconeUnavailableError  the official SDK is not installed (also an ImportError)
    ├── LightconeAuthError         the Computers API refused the key
    └── LightconeSessionGoneError  the session ended or never existed (also ExecutorClosedError)
"""

from __future__ import annotations

from sandbox._errors import ScreenloopError

__all__ = [
    "ActionFailedError",
    "BrowserGoneError",
    "CaptureError",
    "ExecutorClosedError",
    "ExecutorError",
    "HostDisplayRefusedError",
    "HostFailSafeError",
    "LightconeAuthError",
    "LightconeError",
    "LightconeSessionGoneError",
    "LightconeUnavailableError",
    "UnknownKeyError",
    "UnsupportedActionError",
]


class ExecutorError(ScreenloopError):
    """Base class of every error raised by `executors`."""


class UnsupportedActionError(ExecutorError):
    """The backend does not support this action (see `Computer.capabilities`)."""

    def __init__(self, action: str, backend: str) -> None:
        self.action = action
        self.backend = backend
        super().__init__(f"{backend} does not support the {action!r} action")


class ExecutorClosedError(ExecutorError):
    """The executor was closed, or its browser/display died."""


class BrowserGoneError(ExecutorClosedError):
    """The browser process died (crashed, was killed, its connection dropped).

    Every computer on a shared browser gets it on its next action; a computer
    started afterwards gets a freshly launched browser.
    """


class CaptureError(ExecutorError):
    """Taking a screenshot failed or did not finish in time."""


class HostDisplayRefusedError(ExecutorError):
    """Refused to drive an X display that screenloop did not create."""


class ActionFailedError(ExecutorError):
    """The backend raised while performing an action."""


class UnknownKeyError(ExecutorError, ValueError):
    """A key name is not a canonical key nor one of its aliases (see `executors.normalize_key`)."""

    def __init__(self, key: object) -> None:
        self.key = key
        super().__init__(f"unknown key {key!r}")


class HostFailSafeError(ExecutorError):
    """pyautogui's fail-safe: the user moved the mouse into a screen corner to stop the run."""


class LightconeError(ExecutorError):
    """A Lightcone hosted computer failed: the Computers API answered with an error,
    could not be reached, or an action of a batch failed. The message never holds the key."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class LightconeUnavailableError(LightconeError, ImportError):
    """The official Lightcone SDK (``tzafon``) is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "LightconeComputer needs the official Lightcone SDK: "
            "pip install 'screenloop[lightcone]'"
        )


class LightconeAuthError(LightconeError):
    """The Computers API refused the API key (HTTP 401/403)."""


class LightconeSessionGoneError(LightconeError, ExecutorClosedError):
    """The hosted computer session ended (timed out, deleted) or never existed (HTTP 404)."""
