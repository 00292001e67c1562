"""`screenloop run`: build the computer and the agent from command-line options, run, report.

The command in agent/_cli/_app.py only parses options into `RunOptions` and calls
`run_command`, which returns the exit status (agent/_cli/_exit_codes.py). The
pieces shared with `demo` and `replay` live here too: signal handling
(`run_cancellable`: SIGINT and SIGTERM cancel the run task, so the record is
finished and held inputs are released), logging setup (`setup_logging`, the
API key redacted), the terminal safety prompt, and opening a desktop
(`open_desktop`: a fresh virtual display with programs launched in it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shlex
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

from rich.console import Console

from agent._api._provider import ProviderSettings, resolve_provider
from agent._cli._exit_codes import ExitCode, exit_code_for_exception, exit_code_for_status
from agent._cli._live import LiveView
from agent._errors import ConfigurationError
from agent._result import RunResult
from agent._safety import SafetyCheck
from agent._secrets import RedactingFilter, Redactor
from executors._computer import Computer

__all__ = [
    "RunOptions",
    "annotate_run",
    "open_desktop",
    "parse_secrets",
    "parse_size",
    "print_result",
    "run_cancellable",
    "run_command",
    "setup_logging",
    "terminal_ask",
    "wait_for_windows",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_OUR_LOGGERS = ("agent", "executors", "sandbox")


@dataclass
class RunOptions:
    """Everything `screenloop run` was given (see `screenloop run --help`)."""

    task: str
    url: str | None = None
    desktop: bool = False
    launch: list[str] = field(default_factory=list)
    x_display: str | None = None
    model: str = "tzafon.northstar-cua-fast"
    base_url: str | None = None
    api_key: str | None = None
    provider: str | None = None
    display: str = "1280x720"
    coordinates: str | None = None
    max_steps: int = 50
    max_time: float | None = None
    record: Path | None = None
    safety: str | None = None
    allow_domains: list[str] = field(default_factory=list)
    block_domains: list[str] = field(default_factory=list)
    headed: bool = False
    json_output: bool = False
    verbose: bool = False
    secrets: list[str] = field(default_factory=list)
    runs_root: Path = Path("runs")


# -- small parsers ---------------------------------------------------------------------


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` -> ``(1280, 720)``; raises ConfigurationError otherwise."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise ConfigurationError(f"display size must look like 1280x720, got {text!r}") from None
    if width < 64 or height < 64 or width > 7680 or height > 4320:
        raise ConfigurationError(f"display size {width}x{height} is out of range (64..7680)")
    return width, height


def parse_secrets(items: Sequence[str], env: dict[str, str] | None = None) -> dict[str, str]:
    """``NAME=VALUE`` or ``NAME`` (the value of environment variable NAME) -> a dict."""
    environ = os.environ if env is None else env
    secrets: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not name:
            raise ConfigurationError(f"--secret needs NAME=VALUE or NAME, got {item!r}")
        if not sep:
            if name not in environ:
                raise ConfigurationError(
                    f"--secret {name}: no environment variable {name} (or pass {name}=VALUE)"
                )
            value = environ[name]
        secrets[name] = value
    return secrets


# -- logging, signals, prompts -----------------------------------------------------------


def setup_logging(
    verbose: bool,
    *,
    api_key: str | None = None,
    secrets: dict[str, str] | None = None,
    stream: TextIO | None = None,
) -> None:
    """Log to stderr: warnings, or (verbose) debug logs of screenloop's packages.

    The API key and secret values are redacted from every record, before and
    during a run.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(Redactor(secrets, api_key)))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in _OUR_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)


async def run_cancellable(coro: Awaitable[T]) -> tuple[T | None, int | None]:
    """Await `coro` as a task that SIGINT and SIGTERM cancel.

    Returns ``(value, None)``, or ``(None, signal_number)`` when a signal
    cancelled it (the coroutine's own cleanup has run by then).
    """
    loop = asyncio.get_running_loop()
    task: asyncio.Future[T] = asyncio.ensure_future(coro)
    received: list[int] = []

    def on_signal(sig: int) -> None:
        logger.info("received signal %d; cancelling the run", sig)
        received.append(sig)
        task.cancel()

    installed: list[int] = []
    for each in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(each, on_signal, int(each))
            installed.append(int(each))
        except (NotImplementedError, RuntimeError):  # not the main thread / platform
            pass
    try:
        return await task, None
    except asyncio.CancelledError:
        if received:
            return None, received[0]
        raise
    finally:
        for number in installed:
            loop.remove_signal_handler(number)


def signal_exit_code(sig: int) -> ExitCode:
    """130 for SIGINT, 143 for SIGTERM."""
    return ExitCode.TERMINATED if sig == signal.SIGTERM else ExitCode.CANCELLED


def terminal_ask(
    console: Console, live: LiveView | None, stdin: TextIO | None = None
) -> Callable[[Sequence[SafetyCheck]], bool]:
    """A safety callback that shows each check's code and message and asks y/N.

    Ctrl-C or end of input at the prompt denies.
    """
    source = stdin or sys.stdin

    def ask(checks: Sequence[SafetyCheck]) -> bool:
        pause = live.paused() if live is not None else contextlib.nullcontext()
        with pause:
            console.print("[bold yellow]The model raised a safety check:[/]")
            for check in checks:
                console.print(f"  [bold]{check.code or check.id}[/]: {check.message}")
            console.print("Acknowledge and let the model continue? [y/N] ", end="")
            previous = signal.getsignal(signal.SIGINT)
            try:
                # The loop's SIGINT handler cannot interrupt a blocking read; let
                # Ctrl-C raise here instead, meaning "no".
                signal.signal(signal.SIGINT, signal.default_int_handler)
                answer = source.readline()
            except KeyboardInterrupt:
                answer = ""
            finally:
                _restore_sigint(previous)
            console.print()
        return answer.strip().lower() in ("y", "yes")

    return ask


def _restore_sigint(previous: Any) -> None:
    # signal.signal() with the loop's C-level handler works again for add_signal_handler
    with contextlib.suppress(TypeError, ValueError):
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


# -- desktops ------------------------------------------------------------------------


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


# -- the run -------------------------------------------------------------------------


def annotate_run(run_dir: Path | None, executor: dict[str, Any]) -> None:
    """Merge `executor` fields into run.json's ``executor`` (what replay needs to start over)."""
    if run_dir is None:
        return
    path = Path(run_dir) / "run.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("could not annotate %s: %s", path, exc)
        return
    data.setdefault("executor", {}).update(executor)
    tmp = path.with_name(".run.annotate.json")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def print_result(
    result: RunResult | None,
    code: ExitCode,
    *,
    json_output: bool,
    out: TextIO,
    console: Console,
    extra: dict[str, Any] | None = None,
) -> None:
    """Print the result: one JSON object on `out`, or a short summary on `console`."""
    if json_output:
        data: dict[str, Any] = result.to_json() if result is not None else {"status": "error"}
        data.update(extra or {})
        data["exit_code"] = int(code)
        out.write(json.dumps(data, ensure_ascii=False) + "\n")
        out.flush()
        return
    if result is None:
        return
    style = "green" if result.ok else "red"
    console.print(
        f"[{style}]{result.status}[/] after {len(result.steps)} step(s), "
        f"{result.usage.get('total_tokens', 0)} tokens, {result.timings.get('total_s', 0):.1f}s"
    )
    if result.final_output:
        console.print(f"answer: {result.final_output}", markup=False)
    if result.error:
        console.print(f"error: {result.error['type']}: {result.error['message']}", markup=False)
    if result.run_dir is not None:
        report = Path(result.run_dir) / "report.html"
        console.print(f"run directory: {result.run_dir}", markup=False)
        if report.exists():
            console.print(f"report: {report}", markup=False)


def _check_options(opts: RunOptions) -> tuple[int, int]:
    chosen = [
        n
        for n, on in (
            ("--url", opts.url),
            ("--desktop", opts.desktop),
            ("--x-display", opts.x_display),
        )
        if on
    ]
    if len(chosen) > 1:
        raise ConfigurationError(f"choose one of --url, --desktop, --x-display (got {chosen})")
    if opts.launch and not opts.desktop:
        raise ConfigurationError("--launch needs --desktop (programs start in a fresh display)")
    if opts.coordinates not in (None, "pixels", "normalized"):
        raise ConfigurationError("--coordinates must be pixels or normalized")
    if opts.safety not in (None, "deny", "ask", "allow"):
        raise ConfigurationError("--safety must be deny, ask or allow")
    if opts.max_steps < 1:
        raise ConfigurationError("--max-steps must be at least 1")
    if (opts.allow_domains or opts.block_domains) and (opts.desktop or opts.x_display):
        raise ConfigurationError("--allow-domain/--block-domain apply to browser runs only")
    return parse_size(opts.display)


@contextlib.asynccontextmanager
async def _computer(opts: RunOptions, size: tuple[int, int]) -> AsyncIterator[Computer]:
    if opts.desktop:
        async with open_desktop(size, opts.launch) as computer:
            yield computer
        return
    if opts.x_display:
        from executors import DesktopComputer

        # Naming a display on the command line is the explicit consent to drive it.
        async with DesktopComputer(opts.x_display, allow_host_display=True) as computer:
            yield computer
        return
    from executors import PlaywrightComputer
    from sandbox import DomainPolicy

    async with contextlib.AsyncExitStack() as stack:
        if opts.headed and not os.environ.get("DISPLAY"):
            from sandbox import VirtualDisplay

            display = await stack.enter_async_context(VirtualDisplay(*size))
            os.environ["DISPLAY"] = display.display
        computer = PlaywrightComputer(
            size=size,
            start_url=opts.url or "about:blank",
            headless=not opts.headed,
            policy=DomainPolicy(allow=opts.allow_domains, block=opts.block_domains),
        )
        yield await stack.enter_async_context(computer)


def run_command(
    opts: RunOptions,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    interactive: bool | None = None,
) -> int:
    """Run `screenloop run` and return its exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    tty = interactive if interactive is not None else (out.isatty() and sys.stdin.isatty())
    console = Console(file=out if not opts.json_output else err, highlight=False, soft_wrap=True)
    err_console = Console(file=err, highlight=False, soft_wrap=True)
    try:
        size = _check_options(opts)
        secrets = parse_secrets(opts.secrets)
        settings = _resolve_key_early(opts)
    except ConfigurationError as exc:
        err_console.print(f"error: {exc}", markup=False)
        return ExitCode.USAGE
    setup_logging(opts.verbose, api_key=settings.api_key, secrets=secrets, stream=err)
    safety = opts.safety or ("ask" if tty else "deny")
    run_dir = opts.record
    if run_dir is None:
        from agent._record._recorder import default_run_dir

        run_dir = default_run_dir(opts.runs_root, opts.task)
    live = LiveView(
        Console(file=out, highlight=False),
        opts.task,
        enabled=tty and not opts.json_output,
        max_steps=opts.max_steps,
    )
    executor_info: dict[str, Any] = {"launch": list(opts.launch)}
    if opts.x_display:
        executor_info["x_display"] = opts.x_display
    if opts.headed:
        executor_info["headed"] = True

    async def main() -> RunResult:
        from agent._agent import Agent

        async with _computer(opts, size) as computer:
            agent = Agent(
                computer,
                model=opts.model,
                api_key=opts.api_key,
                base_url=opts.base_url,
                provider=opts.provider,
                coordinate_space=opts.coordinates,  # type: ignore[arg-type]
                display=size,
                max_steps=opts.max_steps,
                max_wall_time_s=opts.max_time,
                safety=safety,  # type: ignore[arg-type]
                ask_callback=terminal_ask(err_console if opts.json_output else console, live)
                if safety == "ask"
                else None,
                secrets=secrets,
                run_dir=run_dir,
                hooks=live,
            )
            holder.append(agent)
            with live:
                return await agent.run(opts.task)

    holder: list[Any] = []
    result: RunResult | None = None
    try:
        result, sig = asyncio.run(run_cancellable(main()))
    except Exception as exc:
        code = exit_code_for_exception(exc)
        err_console.print(f"error: {type(exc).__name__}: {exc}", markup=False)
        logger.debug("run failed", exc_info=True)
        last = holder[0].last_result if holder else None
        annotate_run(last.run_dir if last else None, executor_info)
        print_result(last, code, json_output=opts.json_output, out=out, console=console)
        return code
    if sig is not None:
        result = holder[0].last_result if holder else None
        code = signal_exit_code(sig)
    else:
        assert result is not None
        code = exit_code_for_status(result.status, result.error)
    annotate_run(result.run_dir if result else None, executor_info)
    print_result(result, code, json_output=opts.json_output, out=out, console=console)
    return code


def _resolve_key_early(opts: RunOptions) -> ProviderSettings:
    """Fail before a browser starts when no API key can be found (exit 2)."""
    return resolve_provider(api_key=opts.api_key, base_url=opts.base_url, provider=opts.provider)
