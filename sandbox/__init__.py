"""Isolated places for an agent to act in: virtual X displays, browsers, domain policy."""

from sandbox._browser import CHROMIUM_ARGS, chromium_args, find_chromium
from sandbox._display import VirtualDisplay, connect_xlib
from sandbox._errors import (
    BrowserLaunchError,
    BrowserNotFoundError,
    DisplayError,
    LaunchError,
    PolicyError,
    SandboxError,
    ScreenloopError,
)
from sandbox._launch import check_launchable, check_launched, wait_for_launched
from sandbox._policy import DomainPolicy, PolicyDecision
from sandbox._procs import ProcStat, proc_stat
from sandbox._proxy import BlockedAttempt, PolicyProxy

__all__ = [
    "CHROMIUM_ARGS",
    "BlockedAttempt",
    "BrowserLaunchError",
    "BrowserNotFoundError",
    "DisplayError",
    "DomainPolicy",
    "LaunchError",
    "PolicyDecision",
    "PolicyError",
    "PolicyProxy",
    "ProcStat",
    "SandboxError",
    "ScreenloopError",
    "VirtualDisplay",
    "check_launchable",
    "check_launched",
    "chromium_args",
    "connect_xlib",
    "find_chromium",
    "proc_stat",
    "wait_for_launched",
]
