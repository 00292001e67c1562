"""The computers the commands open: a fresh desktop with programs in it, or a browser.

`open_desktop` starts a virtual X display, launches the ``--launch`` programs
in it and waits (bounded) for their windows; a program that dies or shows no
window ends it with `sandbox.LaunchError` (exit status 6) before any model call.
`open_browser` starts Chromium; a headed browser with no ``DISPLAY`` gets a
virtual display of its own, passed to Chromium alone (this process's
environment is left as it is).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from agent._errors import ConfigurationError
from executors import DialogPolicy
from executors._computer import Computer
from sandbox import DomainPolicy

__all__ = ["open_browser", "open_desktop", "open_host_desktop"]

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def open_desktop(
    size: tuple[int, int],
    launch: Sequence[str],
    *,
    window_timeout_s: float = 15.0,
    windowless_ok: bool = False,
) -> AsyncIterator[Computer]:
    """A fresh virtual display with `launch` commands started in it, as a `DesktopComputer`.

    Raises `sandbox.LaunchError` when a launched program exits with an error,
    exits without a window, or shows none within `window_timeout_s` (unless
    `windowless_ok`).
    """
    from executors import DesktopComputer
    from sandbox import VirtualDisplay, check_launched, wait_for_launched

    argvs = [shlex.split(cmd) for cmd in launch]
    for cmd, argv in zip(launch, argvs, strict=True):
        if not argv:
            raise ConfigurationError(f"--launch {cmd!r} has no program to run")
    async with VirtualDisplay(*size) as display:
        procs = [display.launch(argv) for argv in argvs]
        if procs:
            await asyncio.to_thread(
                wait_for_launched,
                display,
                procs,
                timeout_s=window_timeout_s,
                windowless_ok=windowless_ok,
            )
        async with DesktopComputer(display, size=size) as computer:
            await computer.settle(2.0)
            if not windowless_ok:
                # a window that came and went with its program (a terminal whose
                # command failed) is caught here, still before the first model call
                check_launched(display, procs)
            yield computer


@contextlib.asynccontextmanager
async def open_host_desktop() -> AsyncIterator[Computer]:
    """This machine's own screen: XTEST on ``$DISPLAY`` on Linux, pyautogui elsewhere.

    On Linux the XTEST executor types exactly (pyautogui types ``<`` as ``>`` on X
    keymaps) and needs no extra; Windows and macOS need ``screenloop[host]``.
    """
    from executors import DesktopComputer, HostComputer

    computer: Computer
    if sys.platform.startswith("linux"):
        # --host-desktop, confirmed, is the consent to drive $DISPLAY
        computer = DesktopComputer(None, allow_host_display=True)
    else:
        computer = HostComputer()
    async with computer:
        yield computer


@contextlib.asynccontextmanager
async def open_browser(
    size: tuple[int, int],
    *,
    start_url: str | None,
    headed: bool = False,
    policy: DomainPolicy | None = None,
    device_scale_factor: float = 1.0,
    dialogs: DialogPolicy = "model",
    downloads_dir: Path | None = None,
    upload_dir: Path | None = None,
    logins: dict[str, Any] | None = None,
) -> AsyncIterator[Computer]:
    """Chromium showing `start_url`; headed with no ``DISPLAY``: on a virtual display of its own.

    `logins`: ``storage_state`` / ``user_data_dir`` / ``save_storage_state`` for the browser.
    """
    from executors import PlaywrightComputer

    async with contextlib.AsyncExitStack() as stack:
        x_display = None
        if headed and not os.environ.get("DISPLAY"):
            from sandbox import VirtualDisplay

            x_display = (await stack.enter_async_context(VirtualDisplay(*size))).display
        computer = PlaywrightComputer(
            size=size,
            device_scale_factor=device_scale_factor,
            start_url=start_url or "about:blank",
            headless=not headed,
            policy=policy,
            x_display=x_display,
            dialogs=dialogs,
            downloads_dir=downloads_dir,
            upload_dir=upload_dir,
            **(logins or {}),
        )
        yield await stack.enter_async_context(computer)
