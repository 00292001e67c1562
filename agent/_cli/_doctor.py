"""`screenloop doctor`: can this machine run screenloop? Each check says how to fix a failure.

Required (a failure exits 8): Python version, a Chromium binary that really
launches, Xvfb, xdotool, openbox, and a virtual display that starts. Warnings
only (this machine may have no key or no network yet): the API key's presence
-- never its value, only its length -- and whether the base URL answers a
plain GET within 3 s (no key is sent).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Annotated, Literal, TextIO

import typer
from rich.console import Console
from rich.table import Table

from agent._api._provider import Provider
from agent._cli._exit_codes import ExitCode
from agent._cli._options import choice_list

__all__ = ["Check", "DoctorOptions", "doctor_command", "run_checks"]

Status = Literal["ok", "warn", "fail"]

_APT_HINT = "install it: `make setup` (or `apt-get install {pkg}`)"


@dataclass
class Check:
    """The outcome of one check; `fix` says what to do when it is not ok."""

    name: str
    status: Status
    detail: str
    fix: str = ""
    required: bool = True


def check_python() -> Check:
    """Python 3.10 or newer."""
    version = ".".join(str(p) for p in sys.version_info[:3])
    if sys.version_info >= (3, 10):  # noqa: UP036 - an old interpreter may still run this
        return Check("python", "ok", f"Python {version} at {sys.executable}")
    return Check("python", "fail", f"Python {version}", "use Python 3.10+ (`make setup` uses uv)")


def check_browser(timeout_s: float = 30.0) -> Check:
    """A Chromium binary is found and starts headless (Playwright)."""
    from sandbox import chromium_args, find_chromium
    from sandbox._errors import BrowserNotFoundError

    try:
        path = find_chromium()
    except BrowserNotFoundError as exc:
        return Check(
            "browser",
            "fail",
            str(exc).splitlines()[0],
            _APT_HINT.format(pkg="chromium") + ", or set SCREENLOOP_CHROMIUM to a Chromium binary",
        )

    async def launch() -> str:
        from playwright.async_api import async_playwright

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(path), args=chromium_args(), headless=True
            )
            try:
                page = await browser.new_page()
                await page.set_content("<p>ok</p>")
                return browser.version
            finally:
                await browser.close()

    t0 = time.monotonic()
    try:
        version = asyncio.run(asyncio.wait_for(launch(), timeout_s))
    except Exception as exc:
        return Check(
            "browser",
            "fail",
            f"{path} did not start: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
            "reinstall Debian's chromium package; run with -v for the browser's output",
        )
    return Check(
        "browser", "ok", f"Chromium {version} at {path} (started in {time.monotonic() - t0:.1f}s)"
    )


def check_program(name: str, package: str, why: str) -> Check:
    """A program is on PATH."""
    found = shutil.which(name)
    if found:
        return Check(name, "ok", f"{found} ({why})")
    return Check(name, "fail", f"{name} not found on PATH ({why})", _APT_HINT.format(pkg=package))


def check_display() -> Check:
    """A virtual display (Xvfb + openbox) starts and stops."""
    if not shutil.which("Xvfb"):
        return Check("display", "fail", "cannot start a display without Xvfb", "install xvfb first")
    from sandbox import VirtualDisplay

    t0 = time.monotonic()
    try:
        with VirtualDisplay(640, 480) as display:
            name = display.display
    except Exception as exc:
        return Check(
            "display",
            "fail",
            f"a virtual display did not start: {type(exc).__name__}: {exc}",
            "check that Xvfb and openbox run (`Xvfb -help`); run with -v for details",
        )
    return Check(
        "display",
        "ok",
        f"virtual display {name} started and stopped in {time.monotonic() - t0:.1f}s",
    )


_KEY_VARS = ("TZAFON_API_KEY", "OPENAI_API_KEY")


def check_api_key(env: Mapping[str, str]) -> Check:
    """An API key is set (its length is shown, never its value)."""
    found = [f"{var} set ({len(env[var])} chars)" for var in _KEY_VARS if env.get(var)]
    if found:
        return Check("api key", "ok", "; ".join(found), required=False)
    return Check(
        "api key",
        "warn",
        "no TZAFON_API_KEY or OPENAI_API_KEY (`screenloop demo` needs none)",
        "export TZAFON_API_KEY=... (from your Lightcone account) or pass --api-key",
        required=False,
    )


def check_connectivity(
    base_url: str | None, provider: str | None, env: Mapping[str, str], timeout_s: float = 3.0
) -> Check:
    """The base URL answers a GET (any HTTP status counts; no key is sent)."""
    import httpx

    from agent._api._provider import (
        LIGHTCONE_DEFAULT_BASE_URL,
        OPENAI_DEFAULT_BASE_URL,
        _lightcone_url,
    )

    if base_url is None:
        if provider == "openai":
            base_url = env.get("OPENAI_BASE_URL") or OPENAI_DEFAULT_BASE_URL
        else:
            env_url = env.get("LIGHTCONE_BASE_URL")
            # read as the SDK reads it (an origin); as run does, up to /v1
            base_url = _lightcone_url(env_url, from_env=True) if env_url else None
            base_url = base_url or LIGHTCONE_DEFAULT_BASE_URL
    url = base_url.rstrip("/") + "/models"
    t0 = time.monotonic()
    try:
        response = httpx.get(url, timeout=timeout_s, follow_redirects=False)
    except httpx.HTTPError as exc:
        return Check(
            "connectivity",
            "warn",
            f"{base_url} unreachable: {type(exc).__name__}: {exc}",
            "check the network/proxy, or set LIGHTCONE_BASE_URL / --base-url",
            required=False,
        )
    return Check(
        "connectivity",
        "ok",
        f"{base_url} answered HTTP {response.status_code} in {time.monotonic() - t0:.2f}s",
        required=False,
    )


def run_checks(
    *,
    base_url: str | None = None,
    provider: str | None = None,
    env: Mapping[str, str] | None = None,
    on_check: Callable[[Check], None] | None = None,
) -> list[Check]:
    """Run every check in order; `on_check` sees each as it finishes."""
    environ = os.environ if env is None else env
    steps: list[Callable[[], Check]] = [
        check_python,
        check_browser,
        lambda: check_program("Xvfb", "xvfb", "virtual displays"),
        lambda: check_program("openbox", "openbox", "window manager on virtual displays"),
        lambda: check_program("xdotool", "xdotool", "desktop tests and scripts"),
        check_display,
        lambda: check_api_key(environ),
        lambda: check_connectivity(base_url, provider, environ),
    ]
    results: list[Check] = []
    for step in steps:
        result = step()
        results.append(result)
        if on_check is not None:
            on_check(result)
    return results


@dataclass(frozen=True)
class DoctorOptions:
    """Everything `screenloop doctor` is given; the fields are its flags, in `--help` order."""

    base_url: Annotated[
        str | None,
        typer.Option(help="Base URL to test (default: as `run` resolves it).", show_default=False),
    ] = None
    provider: Annotated[
        str | None,
        typer.Option(help=f"{choice_list(Provider)}.", show_default=False),
    ] = None
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the checks as one JSON object on stdout.")
    ] = False
    # -- issue 17: coordinate calibration (agent/_cli/_calibrate.py) --
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate",
            help="Instead of the checks: ask the model (5 calls, needs a key) to click targets "
            "at known positions and report its coordinate space and the flag to pass.",
        ),
    ] = False
    model: Annotated[str, typer.Option(help="With --calibrate: the model.")] = (
        "tzafon.northstar-cua-fast"
    )
    api_key: Annotated[
        str | None,
        typer.Option(
            help="With --calibrate: the API key (prefer the environment).", show_default=False
        ),
    ] = None
    display: Annotated[str, typer.Option(help="With --calibrate: the page size WxH.")] = "1280x720"


def doctor_command(opts: DoctorOptions, *, out: TextIO | None = None) -> int:
    """`screenloop doctor`; 0 when every required check passes, else 8."""
    out = out or sys.stdout
    if opts.calibrate:
        from agent._cli._calibrate import calibrate_command

        return calibrate_command(
            base_url=opts.base_url,
            provider=opts.provider,
            api_key=opts.api_key,
            model=opts.model,
            display=opts.display,
            json_output=opts.json_output,
            out=out,
        )
    console = Console(file=out, highlight=False)
    style = {"ok": "green", "warn": "yellow", "fail": "bold red"}
    checks = run_checks(base_url=opts.base_url, provider=opts.provider)
    failed = [c for c in checks if c.status == "fail" and c.required]
    code = ExitCode.CHECKS_FAILED if failed else ExitCode.COMPLETED
    if opts.json_output:
        out.write(
            json.dumps(
                {"ok": not failed, "exit_code": int(code), "checks": [asdict(c) for c in checks]}
            )
            + "\n"
        )
        return code
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1))
    table.add_column("check")
    table.add_column("")
    table.add_column("detail / fix", overflow="fold")
    for c in checks:
        text = c.detail + (f"\n→ {c.fix}" if c.status != "ok" and c.fix else "")
        table.add_row(c.name, f"[{style[c.status]}]{c.status}[/]", text)
    console.print(table)
    if failed:
        console.print(f"[bold red]{len(failed)} required check(s) failed.[/]")
    else:
        console.print("[green]screenloop can run here.[/]")
    return code
