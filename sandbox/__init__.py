"""Isolated places for an agent to act in: virtual X displays, browsers, domain policy."""

from sandbox._display import VirtualDisplay, connect_xlib
from sandbox._errors import (
    BrowserLaunchError,
    BrowserNotFoundError,
    DisplayError,
    PolicyError,
    SandboxError,
)

__all__ = [
    "BrowserLaunchError",
    "BrowserNotFoundError",
    "DisplayError",
    "PolicyError",
    "SandboxError",
    "VirtualDisplay",
    "connect_xlib",
]
