"""The computers the commands open: a fresh desktop with programs in it, or a browser.

`open_desktop` starts a virtual X display, launches the ``--launch`` programs
in it and waits (bounded) for their windows. `open_browser` starts Chromium;
a headed browser with no ``DISPLAY`` gets a virtual display of its own, passed
to Chromium alone (this process's environment is left as it is).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from agent._errors import ConfigurationError
from executors import DialogPolicy
from executors._computer import Computer
from sandbox import DomainPolicy

__all__ = ["open_browser", "open_desktop", "wait_for_windows"]

logger = logging.getLogger(__name__)


def wait_for_windows(display_name: str, count: int, timeout_s: float = 15.0) -> int:
    """Wait (bounded) until the window manager lists `count` client windows; returns how many."""
    from sandbox import connect_xlib

    conn = connect_xlib(display_name)
    try:
        root = conn.screen().root
        atom = conn.intern_atom("_NET_CLIENT_LIST")
        deadline = time.monotonic() + timeout_s
        delay = 0.02
        seen = 0
        while True:
            prop = root.get_full_property(atom, 0)
            seen = len(prop.value) if prop is not None else 0
            if seen >= count or time.monotonic() >= deadline:
                return seen
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
    finally:
        conn.close()


@contextlib.asynccontextmanager
async def open_desktop(
    size: tuple[int, int], launch: Sequence[str], *, window_timeout_s: float = 15.0
) -> AsyncIterator[Computer]:
    """A fresh virtual display with `launch` commands started in it, as a `DesktopComputer`."""
    from executors import DesktopComputer
    from sandbox import VirtualDisplay

    argvs = [shlex.split(cmd) for cmd in launch]
    for cmd, argv in zip(launch, argvs, strict=True):
        if not argv:
            raise ConfigurationError(f"--launch {cmd!r} has no program to run")
    async with VirtualDisplay(*size) as display:
        for argv in argvs:
            display.launch(argv)
        if argvs:
            seen = await asyncio.to_thread(
                wait_for_windows, display.display, len(argvs), window_timeout_s
            )
            if seen < len(argvs):
                logger.warning(
                    "only %d of %d launched programs opened a window within %.0fs",
                    seen,
                    len(argvs),
                    window_timeout_s,
                )
        async with DesktopComputer(display, size=size) as computer:
            await computer.settle(2.0)
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
) -> AsyncIterator[Computer]:
    """Chromium showing `start_url`; headed with no ``DISPLAY``: on a virtual display of its own."""
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
        )
        yield await stack.enter_async_context(computer)
