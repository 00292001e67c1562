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
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from agent._errors import ConfigurationError
from executors import DialogPolicy
from executors._computer import Computer
from sandbox import DomainPolicy

__all__ = [
    "HostedComputerOptions",
    "check_computer_options",
    "open_browser",
    "open_desktop",
    "open_host_desktop",
    "open_lightcone",
]

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def open_desktop(
    size: tuple[int, int],
    launch: Sequence[str],
    *,
    window_timeout_s: float = 15.0,
    windowless_ok: bool = False,
    image: dict[str, Any] | None = None,
) -> AsyncIterator[Computer]:
    """A fresh virtual display with `launch` commands started in it, as a `DesktopComputer`.

    Raises `sandbox.LaunchError` when a launched program exits with an error,
    exits without a window, or shows none within `window_timeout_s` (unless
    `windowless_ok`). `image`: the computer's screenshot options (`image_kwargs`).
    """
    from executors import DesktopComputer
    from sandbox import VirtualDisplay, check_launchable, check_launched, wait_for_launched

    argvs = [shlex.split(cmd) for cmd in launch]
    for cmd, argv in zip(launch, argvs, strict=True):
        if not argv:
            raise ConfigurationError(f"--launch {cmd!r} has no program to run")
        check_launchable(argv)
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
        async with DesktopComputer(display, size=size, **(image or {})) as computer:
            await computer.settle(2.0)
            if not windowless_ok:
                # a window that came and went with its program (a terminal whose
                # command failed) is caught here, still before the first model call
                check_launched(display, procs)
            yield computer


@contextlib.asynccontextmanager
async def open_host_desktop(image: dict[str, Any] | None = None) -> AsyncIterator[Computer]:
    """This machine's own screen: XTEST on ``$DISPLAY`` on Linux, pyautogui elsewhere.

    On Linux the XTEST executor types exactly (pyautogui types ``<`` as ``>`` on X
    keymaps) and needs no extra; Windows and macOS need ``screenloop[host]``.
    """
    from executors import DesktopComputer, HostComputer

    computer: Computer
    if sys.platform.startswith("linux"):
        # --host-desktop, confirmed, is the consent to drive $DISPLAY
        computer = DesktopComputer(None, allow_host_display=True, **(image or {}))
    else:
        computer = HostComputer(**(image or {}))
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
    cdp_url: str | None = None,
    ws_endpoint: str | None = None,
    logins: dict[str, Any] | None = None,
    image: dict[str, Any] | None = None,
    isolated: bool = False,
) -> AsyncIterator[Computer]:
    """Chromium showing `start_url`; headed with no ``DISPLAY``: on a virtual display of its own.

    The Chromium is the event loop's shared one (a context of this computer's own)
    unless `isolated`, or headed on a display of its own, or on a profile directory.

    With `cdp_url` / `ws_endpoint`: a fresh context in a browser someone else started.

    `logins`: ``storage_state`` / ``user_data_dir`` / ``save_storage_state`` for the browser.
    """
    from executors import PlaywrightComputer

    async with contextlib.AsyncExitStack() as stack:
        x_display = None
        if headed and not os.environ.get("DISPLAY"):
            from sandbox import VirtualDisplay

            x_display = (await stack.enter_async_context(VirtualDisplay(*size))).display
            isolated = True  # its display goes with it: no other computer's browser
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
            cdp_url=cdp_url,
            ws_endpoint=ws_endpoint,
            isolated=isolated,
            **(logins or {}),
            **(image or {}),
        )
        yield await stack.enter_async_context(computer)


# -- Lightcone's hosted computers (issue 17) --------------------------------------------


@dataclass(frozen=True, kw_only=True)
class HostedComputerOptions:
    """The ``screenloop run`` flags that choose a hosted computer (RunOptions inherits them)."""

    computer: Annotated[
        str,
        typer.Option(
            help="local | lightcone: a computer on this machine, or a Lightcone hosted "
            "computer (the official SDK, screenloop[lightcone]; key TZAFON_API_KEY)."
        ),
    ] = "local"
    kind: Annotated[
        str, typer.Option(help="With --computer lightcone: the session's kind, browser | desktop.")
    ] = "browser"
    computer_id: Annotated[
        str | None,
        typer.Option(
            help="With --computer lightcone: attach to this running session (kept at the end).",
            show_default=False,
        ),
    ] = None
    computer_base_url: Annotated[
        str | None,
        typer.Option(
            help="With --computer lightcone: the Computers API origin (default: "
            "LIGHTCONE_BASE_URL as the SDK reads it; a serve-computers URL).",
            show_default=False,
        ),
    ] = None
    keep_computer: Annotated[
        bool,
        typer.Option(
            "--keep-computer", help="With --computer lightcone: do not delete the session."
        ),
    ] = False
    hosted_screenshots: Annotated[
        bool,
        typer.Option(
            "--hosted-screenshots",
            help="With --computer lightcone: send the model the hosted screenshot URL "
            "instead of the image (the record keeps the image either way).",
        ),
    ] = False
    isolated_browser: Annotated[
        bool,
        typer.Option(
            "--isolated-browser",
            help="Local browser: a Chromium of this run's own; by default the runs of one "
            "process (a batch's attempts) share one Chromium, a context each.",
        ),
    ] = False


_LOCAL_ONLY = (
    ("launch", "--launch"),
    ("headed", "--headed"),
    ("allow_domains", "--allow-domain"),
    ("block_domains", "--block-domain"),
    ("downloads", "--downloads"),
    ("upload_dir", "--upload-dir"),
    ("isolated_browser", "--isolated-browser"),
)
_LIGHTCONE_ONLY = (
    ("computer_id", "--computer-id"),
    ("computer_base_url", "--computer-base-url"),
    ("keep_computer", "--keep-computer"),
    ("hosted_screenshots", "--hosted-screenshots"),
)


def check_computer_options(computer: str, kind: str, opts: Any, targets: Sequence[str]) -> None:
    """Refuse option mixes ``--computer`` cannot honour (`opts` is the run's options)."""
    if computer not in ("local", "lightcone"):
        raise ConfigurationError(f"--computer must be local or lightcone, got {computer!r}")
    if kind not in ("browser", "desktop"):
        raise ConfigurationError(f"--kind must be browser or desktop, got {kind!r}")
    if computer == "local":
        browser = not (set(targets) - {"--url"}) and not (opts.cdp_url or opts.ws_endpoint)
        if getattr(opts, "isolated_browser", False) and not browser:
            raise ConfigurationError(
                "--isolated-browser applies to a browser screenloop launches (not with "
                f"{', '.join(set(targets) - {'--url'}) or '--cdp-url/--ws-endpoint'})"
            )
        given = [flag for name, flag in _LIGHTCONE_ONLY if getattr(opts, name)]
        if kind != "browser":
            given.insert(0, "--kind")
        if given:
            raise ConfigurationError(f"{', '.join(given)} apply to --computer lightcone only")
        return
    if set(targets) - {"--url"}:
        raise ConfigurationError(
            f"--computer lightcone runs on a hosted computer: drop {', '.join(targets)} "
            "(choose --kind browser or --kind desktop)"
        )
    if opts.url and kind != "browser":
        raise ConfigurationError("--url needs --kind browser")
    # the domain policy and file transfers live in a local browser; a hosted one has its own
    local = [flag for name, flag in _LOCAL_ONLY if getattr(opts, name)]
    if local:
        raise ConfigurationError(f"{', '.join(local)} apply to local computers only")


@contextlib.asynccontextmanager
async def open_lightcone(opts: Any, size: tuple[int, int]) -> AsyncIterator[Computer]:
    """A Lightcone hosted computer (created, or attached by ``--computer-id``), deleted at
    the end unless ``--keep-computer`` or attached. The key is ``TZAFON_API_KEY``."""
    from executors import LightconeComputer

    computer = LightconeComputer(
        kind=opts.kind,
        size=size,
        computer_id=opts.computer_id,
        base_url=opts.computer_base_url,
        start_url=opts.url,
        keep=True if opts.keep_computer else None,
        hosted_screenshots=opts.hosted_screenshots,
    )
    async with computer:
        yield computer
