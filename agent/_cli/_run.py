"""`screenloop run`: its options, and the computer and agent they make.

`RunOptions` states every flag once (agent/_cli/_options.py builds the typer
command from it); `agent_kwargs` maps the options to `Agent` arguments, and
`run_command` runs them and returns the exit status (agent/_cli/_exit_codes.py).
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TextIO, cast

import typer
from rich.console import Console

from agent._agent import Agent
from agent._api._provider import Provider, resolve_provider
from agent._cli._computers import (
    HostedComputerOptions,
    check_computer_options,
    open_browser,
    open_desktop,
    open_host_desktop,
    open_lightcone,
)
from agent._cli._exit_codes import ExitCode, exit_code_for_status
from agent._cli._image_options import ImageOptions, image_kwargs, refuse_image_options
from agent._cli._interop import (
    CdpUrlOption,
    EnvironmentNameOption,
    OutputTypeOption,
    ToolTypeOption,
    WsEndpointOption,
    check_interop,
    remote_browser_info,
)
from agent._cli._live import LiveView
from agent._cli._options import choice_list, choices, one_of, parse_secrets
from agent._cli._prompts import confirm_host_desktop, terminal_ask
from agent._cli._reaper import reaper
from agent._cli._run_finishing import (
    FinishingOptions,
    browser_logins,
    check_finishing,
    finishing_kwargs,
    run_kwargs,
)
from agent._cli._session import CommandSession
from agent._cli._watch import WATCH_HELP, linger, start_watch, watched_ask
from agent._errors import ConfigurationError, ScreenloopError
from agent._events import AgentHooks
from agent._record._claim import claim_run_dir
from agent._record._recorder import RunRecorder, default_run_dir
from agent._result import RunResult
from agent._run._validate import DEFAULT_MAX_ACTIONS, DEFAULT_MAX_TYPE_CHARS
from agent._safety import SafetyCheck, SafetyMode
from agent._secrets import Redactor
from executors import DialogPolicy
from executors._computer import Computer
from executors._geometry import CoordinateSpace
from sandbox import DomainPolicy
from sandbox._policy import private_network_guard

__all__ = [
    "ENV_HELP",
    "RunOptions",
    "agent_kwargs",
    "browser_policy",
    "check_run_options",
    "open_run_computer",
    "parse_size",
    "record_failed_start",
    "run_command",
]

DEFAULT_MAX_TIME_S = 1800.0
"""A run stops after 30 minutes unless --max-time says otherwise."""

ENV_HELP = (
    "The API key comes from --api-key or TZAFON_API_KEY (OPENAI_API_KEY for --provider "
    "openai); the base URL from --base-url, LIGHTCONE_BASE_URL or OPENAI_BASE_URL."
)


@dataclass(frozen=True)
class RunOptions(HostedComputerOptions, FinishingOptions, ImageOptions):
    """Everything `screenloop run` is given; the fields are its flags, in `--help` order
    (then those of hosted computers, of runs that finish and of saved logins, from the
    base classes)."""

    task: Annotated[str, typer.Argument(help="What the agent should do, in plain words.")]
    url: Annotated[
        str | None, typer.Option(help="Browser run: the page to start on.", show_default=False)
    ] = None
    desktop: Annotated[
        bool, typer.Option("--desktop", help="Desktop run on a fresh virtual X display.")
    ] = False
    launch: Annotated[
        list[str],
        typer.Option(
            "--launch",
            help='With --desktop: a program to start, split like a shell ("xterm -e top"). '
            "Repeatable.",
            show_default=False,
        ),
    ] = field(default_factory=list)
    # -- issue 15: windowless launches, the user's own desktop -----------------------
    allow_windowless: Annotated[
        bool,
        typer.Option(
            "--allow-windowless",
            help="With --launch: a program that opens no window (or exits) is fine; by default "
            "the run ends with exit status 6 before the first model call.",
        ),
    ] = False
    host_desktop: Annotated[
        bool,
        typer.Option(
            "--host-desktop",
            help="Desktop run on this machine's own screen, with your real mouse and keyboard "
            "(asks first unless --yes; move the mouse into a screen corner to stop it). "
            "Windows/macOS need screenloop[host].",
        ),
    ] = False
    yes: Annotated[
        bool, typer.Option("--yes", help="With --host-desktop: do not ask for confirmation.")
    ] = False
    # -- end of issue 15 ------------------------------------------------------------------
    x_display: Annotated[
        str | None,
        typer.Option(
            "--x-display",
            help="Desktop run on an existing X display such as :1 (you consent to it being "
            "driven).",
            show_default=False,
        ),
    ] = None
    model: Annotated[str, typer.Option(help="Model name.")] = "tzafon.northstar-cua-fast"
    base_url: Annotated[
        str | None,
        typer.Option(help="Responses API base URL, up to /v1 (or an origin).", show_default=False),
    ] = None
    api_key: Annotated[
        str | None,
        typer.Option(help="API key (prefer the environment variable).", show_default=False),
    ] = None
    provider: Annotated[
        str | None, typer.Option(help=f"{choice_list(Provider)} (default: from the base URL).")
    ] = None
    display: Annotated[str, typer.Option(help="Screen size WxH.")] = "1280x720"
    coordinates: Annotated[
        str | None,
        typer.Option(
            help=f"{choice_list(CoordinateSpace)} (0-999 as int(v/1000*dim), or as "
            "round(v*(dim-1)/999)); default from the model; see doctor --calibrate.",
            show_default=False,
        ),
    ] = None
    max_steps: Annotated[int, typer.Option(help="Stop after this many model turns.")] = 50
    max_time: Annotated[
        float | None,
        typer.Option(help="Stop after this many seconds."),
    ] = DEFAULT_MAX_TIME_S
    record: Annotated[
        Path | None,
        typer.Option(help="Run directory (default runs/<timestamp>-<task>).", show_default=False),
    ] = None
    safety: Annotated[
        str | None,
        typer.Option(
            help=f"{choice_list(SafetyMode)} pending safety checks (default: ask on a terminal, "
            "deny otherwise).",
            show_default=False,
        ),
    ] = None
    allow_domains: Annotated[
        list[str],
        typer.Option("--allow-domain", help="Only these hosts (*.example.com). Repeatable."),
    ] = field(default_factory=list)
    block_domains: Annotated[
        list[str], typer.Option("--block-domain", help="Never these hosts. Repeatable.")
    ] = field(default_factory=list)
    secrets: Annotated[
        list[str],
        typer.Option(
            "--secret",
            help="NAME=VALUE or NAME (from the environment) for {{secret:NAME}} "
            "placeholders the model types. Repeatable.",
        ),
    ] = field(default_factory=list)
    headed: Annotated[bool, typer.Option("--headed", help="Show the browser window.")] = False
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the result as one JSON object on stdout.")
    ] = False
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Debug logs on stderr (never the key).")
    ] = False
    # -- trust boundaries (issue 13) --
    allow_private_network: Annotated[
        bool,
        typer.Option(
            "--allow-private-network",
            help="Let the browser reach link-local, private and loopback addresses (refused "
            "by default unless the start URL is itself local).",
        ),
    ] = False
    send_env_key: Annotated[
        bool,
        typer.Option(
            "--send-env-key",
            help="Send TZAFON_API_KEY / OPENAI_API_KEY to a --base-url that is not their "
            "provider's host.",
        ),
    ] = False
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace an existing non-empty --record directory."),
    ] = False
    max_actions: Annotated[
        int, typer.Option(help="Refuse a model response asking for more actions than this.")
    ] = DEFAULT_MAX_ACTIONS
    max_type_chars: Annotated[
        int, typer.Option(help="Refuse a typed text longer than this many characters.")
    ] = DEFAULT_MAX_TYPE_CHARS
    # -- real pages (issue 12): what the model is told, dialogs, downloads, uploads --
    notices: Annotated[
        str,
        typer.Option(
            help="on|off: tell the model in words what a screenshot cannot show (a dialog, "
            "a tab opened or closed, a download, a page still loading)."
        ),
    ] = "on"
    dialogs: Annotated[
        str,
        typer.Option(
            help=f"{choice_list(DialogPolicy)}: who answers the page's alert/confirm/prompt/"
            "Leave-site dialogs (model: drawn in the screenshot, answered by its clicks and keys)."
        ),
    ] = "model"
    downloads: Annotated[
        Path | None,
        typer.Option(
            "--downloads",
            "--downloads-dir",
            help="Browser run: save downloads here (default: downloads/ in the run directory).",
            show_default=False,
        ),
    ] = None
    upload_dir: Annotated[
        Path | None,
        typer.Option(
            help="Browser run: the model may upload files of this directory (and no other) "
            "when a page opens a file chooser; without it file choosers are cancelled.",
            show_default=False,
        ),
    ] = None
    # -- issue 17: a browser screenloop did not launch; the dialect's wire choices --
    cdp_url: CdpUrlOption = None
    ws_endpoint: WsEndpointOption = None
    tool_type: ToolTypeOption = None
    environment_name: EnvironmentNameOption = None
    output_type: OutputTypeOption = None
    watch: Annotated[  # issue 19: `--watch` alone is rewritten to --watch=0 (agent/_cli/_watch.py)
        str | None, typer.Option("--watch", metavar="[PORT]", help=WATCH_HELP, show_default=False)
    ] = None
    runs_root: Path = Path("runs")


# -- checking ---------------------------------------------------------------------------


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


def _check_options(opts: RunOptions) -> tuple[int, int]:
    targets = (
        ("--url", opts.url),
        ("--desktop", opts.desktop),
        ("--x-display", opts.x_display),
        ("--host-desktop", opts.host_desktop),
    )
    chosen = [name for name, on in targets if on]
    check_computer_options(opts.computer, opts.kind, opts, chosen)
    if opts.computer == "lightcone":
        refuse_image_options(opts, "a Lightcone computer encodes its own screenshots")
    if len(chosen) > 1:
        raise ConfigurationError(
            f"choose one of --url, --desktop, --x-display, --host-desktop (got {chosen})"
        )
    if opts.launch and not opts.desktop:
        raise ConfigurationError("--launch needs --desktop (programs start in a fresh display)")
    if opts.allow_windowless and not opts.launch:
        raise ConfigurationError("--allow-windowless applies to --launch programs")
    if opts.yes and not opts.host_desktop:
        raise ConfigurationError("--yes applies to --host-desktop")
    if opts.coordinates not in (None, *choices(CoordinateSpace)):
        raise ConfigurationError(f"--coordinates must be {one_of(CoordinateSpace)}")
    if opts.safety not in (None, *choices(SafetyMode)):
        raise ConfigurationError(f"--safety must be {one_of(SafetyMode)}")
    if opts.max_steps < 1:
        raise ConfigurationError("--max-steps must be at least 1")
    if opts.max_actions < 1 or opts.max_type_chars < 1:
        raise ConfigurationError("--max-actions and --max-type-chars must be at least 1")
    if (opts.allow_domains or opts.block_domains) and (
        opts.desktop or opts.x_display or opts.host_desktop
    ):
        raise ConfigurationError("--allow-domain/--block-domain apply to browser runs only")
    if opts.max_time is not None and not opts.max_time > 0:
        raise ConfigurationError(
            f"--max-time must be a positive number of seconds, got {opts.max_time}"
        )
    for cmd in opts.launch:
        try:
            argv = shlex.split(cmd)
        except ValueError as exc:
            raise ConfigurationError(f"--launch {cmd!r} cannot be split: {exc}") from None
        if not argv:
            raise ConfigurationError(f"--launch {cmd!r} has no program to run")
    if opts.record is not None and opts.record.exists() and not opts.record.is_dir():
        raise ConfigurationError(f"--record {opts.record} exists and is not a directory")
    if opts.url is not None:
        decision = browser_policy(opts).check(opts.url)
        if not decision:
            raise ConfigurationError(f"the start URL is refused by the policy: {decision.reason}")
    if opts.notices not in ("on", "off"):
        raise ConfigurationError(f"--notices must be on or off, got {opts.notices!r}")
    if opts.dialogs not in choices(DialogPolicy):
        raise ConfigurationError(f"--dialogs must be {one_of(DialogPolicy)}")
    if (opts.downloads or opts.upload_dir) and (opts.desktop or opts.x_display):
        raise ConfigurationError("--downloads/--upload-dir apply to browser runs only")
    if opts.upload_dir is not None and not opts.upload_dir.is_dir():
        raise ConfigurationError(f"--upload-dir {opts.upload_dir} is not a directory")
    check_interop(opts)
    check_finishing(opts, browser=not (opts.desktop or opts.x_display or opts.host_desktop))
    return parse_size(opts.display)


def browser_policy(opts: RunOptions) -> DomainPolicy:
    """The domain policy of a browser run: the lists, plus the private-network guard for
    the start URL unless ``--allow-private-network``."""
    refuse = () if opts.allow_private_network else private_network_guard(opts.url)
    return DomainPolicy(allow=opts.allow_domains, block=opts.block_domains, refuse=refuse)


# -- the run -----------------------------------------------------------------------------


def agent_kwargs(
    opts: RunOptions,
    *,
    size: tuple[int, int],
    secrets: dict[str, str],
    safety: SafetyMode,
    ask_callback: Callable[[Sequence[SafetyCheck]], bool] | None,
    run_dir: Path,
    hooks: AgentHooks,
) -> dict[str, Any]:
    """The `Agent` keyword arguments (all but the computer) for a run with `opts`."""
    executor: dict[str, Any] = {"launch": list(opts.launch)}
    if opts.allow_windowless:  # replay starts the launch the same way
        executor["allow_windowless"] = True
    if opts.x_display:
        executor["x_display"] = opts.x_display
    if opts.host_desktop:
        executor["host_desktop"] = True
    if opts.headed:
        executor["headed"] = True
    executor.update(remote_browser_info(opts.cdp_url, opts.ws_endpoint))
    if opts.computer != "local":
        executor.update(computer=opts.computer, kind=opts.kind)
    return {
        "model": opts.model,
        "api_key": opts.api_key,
        "base_url": opts.base_url,
        "provider": opts.provider,
        "coordinate_space": cast("CoordinateSpace | None", opts.coordinates),
        "display": size,
        "max_steps": opts.max_steps,
        "max_wall_time_s": opts.max_time,
        "max_actions_per_response": opts.max_actions,
        "max_type_chars": opts.max_type_chars,
        "safety": safety,
        "ask_callback": ask_callback,
        "secrets": secrets,
        "run_dir": run_dir,
        "hooks": hooks,
        "notices": opts.notices == "on",
        **{k: getattr(opts, k) for k in ("tool_type", "environment_name", "output_type")},
        **finishing_kwargs(opts),
        # what replay needs to start over, in run.json's executor
        "run_info": {"executor": executor},
    }


@contextlib.asynccontextmanager
async def _computer(opts: RunOptions, size: tuple[int, int]) -> AsyncIterator[Computer]:
    if opts.computer == "lightcone":
        async with open_lightcone(opts, size) as computer:
            yield computer
    elif opts.desktop:
        async with open_desktop(
            size, opts.launch, windowless_ok=opts.allow_windowless, image=image_kwargs(opts)
        ) as computer:
            yield computer
    elif opts.host_desktop:
        async with open_host_desktop(image_kwargs(opts)) as computer:
            yield computer
    elif opts.x_display:
        from executors import DesktopComputer

        # Naming a display on the command line is the explicit consent to drive it.
        async with DesktopComputer(
            opts.x_display, allow_host_display=True, **image_kwargs(opts)
        ) as computer:
            yield computer
    else:
        policy = browser_policy(opts)
        async with open_browser(
            size,
            start_url=opts.url,
            headed=opts.headed,
            policy=policy,
            dialogs=cast(DialogPolicy, opts.dialogs),
            downloads_dir=opts.downloads,
            upload_dir=opts.upload_dir,
            cdp_url=opts.cdp_url,
            ws_endpoint=opts.ws_endpoint,
            logins=browser_logins(opts),
            image=image_kwargs(opts),
            isolated=opts.isolated_browser,
        ) as computer:
            yield computer


def _say_how_to_watch(session: CommandSession, computer: Computer) -> None:
    """Tell the user (on stderr) which X display a desktop run drives and how to look at it."""
    name = getattr(computer, "display_name", None)
    if not isinstance(name, str):
        return
    width, height = computer.size
    session.err_console.print(
        f"desktop: X display {name} ({width}x{height}). Watch it live with "
        f"`x11vnc -display {name} -viewonly -localhost -nopw` and a VNC viewer on "
        f"127.0.0.1:5900, or look once with `DISPLAY={name} xwd -root | xwud`; "
        f"`export DISPLAY={name}` for xdotool and xprop.",
        markup=False,
    )


def _record_failed_start(
    run_dir: Path, opts: RunOptions, error: BaseException, redact: Redactor
) -> None:
    """A run directory for a run whose computer never started: run.json says why."""
    recorder = RunRecorder(Path(run_dir), redact)
    recorder.start(
        {
            "task": opts.task,
            "model": opts.model,
            "executor": {"kind": "desktop" if opts.desktop else "browser", "launch": opts.launch},
        }
    )
    recorder.finish(
        status="error",
        error={"type": type(error).__name__, "message": redact.text(str(error))},
    )


def run_command(
    opts: RunOptions,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    interactive: bool | None = None,
) -> int:
    """Run `screenloop run` and return its exit status."""
    session = CommandSession(json_output=opts.json_output, out=out, err=err)
    tty = interactive if interactive is not None else session.out.isatty() and sys.stdin.isatty()
    try:
        size = _check_options(opts)
        secrets = parse_secrets(opts.secrets)
        # fail before a browser starts when no API key can be found
        settings = resolve_provider(
            api_key=opts.api_key,
            base_url=opts.base_url,
            provider=opts.provider,
            send_env_key=opts.send_env_key,
        )
    except ConfigurationError as exc:
        return session.usage_error(exc)
    if opts.host_desktop and not opts.yes:
        if not tty:
            return session.usage_error(
                ConfigurationError(
                    "--host-desktop drives this machine's real mouse and keyboard: "
                    "confirm with --yes when not on a terminal"
                )
            )
        if not confirm_host_desktop(session.console):
            session.err_console.print("not confirmed; nothing was done", markup=False)
            return ExitCode.SAFETY_DENIED
    session.start_logging(opts.verbose, api_key=settings.api_key, secrets=secrets)
    safety = cast(SafetyMode, opts.safety or ("ask" if tty else "deny"))
    try:
        watch = start_watch(opts.watch, session.err_console) if opts.watch is not None else None
    except ConfigurationError as exc:
        return session.usage_error(exc)
    live = LiveView(
        Console(file=session.out, highlight=False),
        opts.task,
        enabled=tty and not opts.json_output,
        lines=not tty and not opts.json_output,
        max_steps=opts.max_steps,
    )
    kwargs = agent_kwargs(
        opts,
        size=size,
        secrets=secrets,
        safety=safety,
        ask_callback=None
        if safety != "ask"
        else watched_ask(session.console, live, tty=tty)
        if watch is not None
        else terminal_ask(session.console, live),
        run_dir=opts.record or default_run_dir(opts.runs_root, opts.task),
        hooks=live,
    )
    # the key resolved once, where it belongs (the run's redactor knows it too)
    kwargs["api_key"] = settings.api_key
    kwargs["watch"] = watch
    agents: list[Agent] = []

    async def main() -> RunResult:
        # one writer per run directory, claimed before a browser or display starts
        # a desktop run's Xvfb, window manager and programs die with it, even on SIGKILL
        reaping = reaper() if opts.desktop else contextlib.nullcontext()
        with claim_run_dir(kwargs["run_dir"], overwrite=opts.overwrite), reaping:
            return await run()

    async def run() -> RunResult:
        try:
            async with _computer(opts, size) as computer:
                _say_how_to_watch(session, computer)
                agents.append(Agent(computer, **kwargs))
                with live:
                    return await agents[0].run(opts.task, **run_kwargs(opts))
        except ScreenloopError as exc:
            if not agents:  # the computer never came up (a --launch program died)
                _record_failed_start(
                    kwargs["run_dir"], opts, exc, Redactor(secrets, settings.api_key)
                )
            raise

    outcome = session.run(main())
    if watch is not None and tty and agents:
        linger(watch, session.err_console)
    if watch is not None:
        watch.close()
    if outcome.failed is not None:
        result = agents[0].last_result if agents else None
        code = outcome.failed
        if result is None and outcome.error is not None:
            # failed before a run existed (a --launch program died): the error is the record
            session.print_result(None, code, extra={"error": outcome.error})
            return code
    else:
        result = outcome.value
        assert result is not None
        code = exit_code_for_status(result.status, result.error)
    session.print_result(result, code)
    return code


# -- for `screenloop batch` (agent/_batch): an attempt is a run of its own RunOptions ----
check_run_options = _check_options
open_run_computer = _computer
record_failed_start = _record_failed_start
