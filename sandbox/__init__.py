"""Isolated places for an agent to act in: virtual X displays, browsers, domain policy."""

from sandbox._browser import CHROMIUM_ARGS, chromium_args, find_chromium
from sandbox._display import VirtualDisplay, connect_xlib
from sandbox._errors import (
    BrowserLaunchError,
    BrowserNotFoundError,
    DisplayError,
    PolicyError,
    SandboxError,
    ScreenloopError,
)
from sandbox._policy import DomainPolicy, PolicyDecision
from sandbox._proxy import BlockedAttempt, PolicyProxy

__all__ = [
    "CHROMIUM_ARGS",
    "BlockedAttempt",
    "BrowserLaunchError",
    "BrowserNotFoundError",
    "DisplayError",
    "DomainPolicy",
    "PolicyDecision",
    "PolicyError",
    "PolicyProxy",
    "SandboxError",
    "ScreenloopError",
    "VirtualDisplay",
    "chromium_args",
    "connect_xlib",
    "find_chromium",
]
