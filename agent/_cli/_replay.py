"""`screenloop replay`: open a computer like the recorded one and replay the run on it.

The engine (agent/_record/_replay.py) compares screens; this command decides
what to open from run.json's ``executor``: a fresh virtual display with the
recorded ``launch`` commands, Chromium at the recorded start URL (or
``--url``), or, for a run of ``screenloop demo``, a fresh demo shop of the
recorded variant (and the demo's secrets).
"""

from __future__ import annotations

import contextlib
import logging
import shlex
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TextIO, get_args

import typer

from agent._actions._recorded import describe_screen_action
from agent._cli._computers import open_browser, open_desktop
from agent._cli._exit_codes import ExitCode
from agent._cli._options import parse_secrets
from agent._cli._session import CommandSession
from agent._errors import ConfigurationError, RunDirectoryError
from agent._record._imagehash import DEFAULT_SCREEN_THRESHOLD
from agent._record._replay import (
    RecordedRun,
    ReplayResult,
    StepComparison,
    check_threshold,
    load_run,
    replay_run,
)
from agent._secrets import UnknownSecretError
from agent.demo import DEMO_SECRETS, DemoApp
from agent.demo._shop import Variant
from executors._computer import Computer
from sandbox import DomainPolicy, PolicyError
from sandbox._policy import private_network_guard

__all__ = [
    "ReplayOptions",
    "open_recorded",
    "recorded_launch",
    "replay_command",
    "replay_launch",
    "replay_policy",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayOptions:
    """Everything `screenloop replay` is given; the fields are its flags, in `--help` order."""

    run_dir: Annotated[Path, typer.Argument(help="A run directory recorded by screenloop.")]
    threshold: Annotated[
        float,
        typer.Option(help="Largest screen distance (0-1) that still counts as the same screen."),
    ] = DEFAULT_SCREEN_THRESHOLD
    url: Annotated[
        str | None,
        typer.Option(help="Start URL instead of the recorded one.", show_default=False),
    ] = None
    secrets: Annotated[
        list[str],
        typer.Option("--secret", help="NAME=VALUE or NAME for typed placeholders. Repeatable."),
    ] = field(default_factory=list)
    wait: Annotated[
        float,
        typer.Option(help="Seconds to wait for a screen to match before calling it different."),
    ] = 3.0
    launch: Annotated[
        list[str],
        typer.Option(
            "--launch",
            help="Desktop replay: start this program instead of the recorded ones. Repeatable.",
            show_default=False,
        ),
    ] = field(default_factory=list)
    trust_run_dir: Annotated[
        bool,
        typer.Option(
            "--trust-run-dir",
            help="Run the launch commands recorded in run.json (never done without this).",
        ),
    ] = False
    allow_windowless: Annotated[
        bool,
        typer.Option(
            "--allow-windowless",
            help="Desktop replay: a launched program that opens no window (or exits) is fine "
            "(the default when the run was recorded with --allow-windowless).",
        ),
    ] = False
    ignore_recorded_policy: Annotated[
        bool,
        typer.Option(
            "--ignore-recorded-policy",
            help="Replay without the domain policy the run was recorded under.",
        ),
    ] = False
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the outcome as one JSON object on stdout.")
    ] = False
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs on stderr.")] = False


def recorded_launch(executor: Mapping[str, Any]) -> list[str]:
    """The launch commands run.json records (as command lines); `RunDirectoryError` if
    malformed."""
    launch = executor.get("launch") or []
    commands: list[str] = []
    if isinstance(launch, list):
        for cmd in launch:
            if isinstance(cmd, str):
                commands.append(cmd)
            elif isinstance(cmd, list) and all(isinstance(a, str) for a in cmd):
                commands.append(shlex.join(cmd))
            else:
                break
        else:
            return commands
    raise RunDirectoryError("run.json's executor.launch is not a list of commands")


def replay_launch(executor: Mapping[str, Any], opts: ReplayOptions) -> list[str]:
    """What a desktop replay starts: ``--launch``, or the recorded commands only with
    ``--trust-run-dir``; a run directory never runs a command by itself."""
    if opts.launch:
        return list(opts.launch)
    recorded = recorded_launch(executor)
    if recorded and not opts.trust_run_dir:
        shown = "; ".join(repr(c) for c in recorded)[:300]
        raise ConfigurationError(
            f"the run directory asks to run {shown}; replay runs no command from a run "
            "directory unless you pass --trust-run-dir (or --launch CMD to start your own)"
        )
    return recorded


def replay_policy(executor: Mapping[str, Any], start_url: str | None, ignore: bool) -> DomainPolicy:
    """The domain policy of the recorded run (`--ignore-recorded-policy`: an open one, with a
    warning); a run that recorded none gets the private-network guard of its start URL."""
    if ignore:
        logger.warning("replaying without the recorded domain policy (--ignore-recorded-policy)")
        return DomainPolicy()
    recorded = executor.get("policy")
    if recorded is None:
        return DomainPolicy(refuse=private_network_guard(start_url))
    if not isinstance(recorded, dict):
        raise RunDirectoryError("run.json's executor.policy is not an object")
    try:
        return DomainPolicy.from_json(recorded)
    except PolicyError as exc:
        raise RunDirectoryError(f"run.json's executor.policy: {exc}") from exc


@contextlib.asynccontextmanager
async def open_recorded(
    recorded: RecordedRun, url: str | None, opts: ReplayOptions | None = None
) -> AsyncIterator[Computer]:
    """A fresh computer like the one `recorded` drove (at `url` instead of its start URL).

    Without `opts` (``--launch``, ``--trust-run-dir``) a desktop run's recorded
    launch commands are refused, never run.
    """
    opts = opts or ReplayOptions(run_dir=recorded.run_dir)
    executor = recorded.executor
    size = (recorded.size.width, recorded.size.height)
    if executor.get("kind", "browser") == "desktop":
        launch = replay_launch(executor, opts)
        if executor.get("x_display"):
            logger.warning("the run drove an existing display; replaying on a fresh one")
        # a run recorded with --allow-windowless launches its programs the same way again
        windowless_ok = opts.allow_windowless or executor.get("allow_windowless") is True
        async with open_desktop(size, launch, windowless_ok=windowless_ok) as computer:
            yield computer
        return
    with contextlib.ExitStack() as shop:
        start_url = url or executor.get("start_url")
        if not isinstance(start_url, str | None):
            raise RunDirectoryError("run.json's executor.start_url is not a string")
        policy = replay_policy(executor, start_url, opts.ignore_recorded_policy)
        if executor.get("demo") and url is None:
            variant = executor.get("demo_variant", "default")
            if variant not in get_args(Variant):
                raise RunDirectoryError(f"run.json's demo_variant {variant!r} is unknown")
            start_url = shop.enter_context(DemoApp(variant=variant)).url
            policy = DomainPolicy()  # our own demo shop on loopback
        try:
            scale = float(executor.get("device_scale_factor") or 1)
        except (TypeError, ValueError) as exc:
            raise RunDirectoryError("run.json's device_scale_factor is not a number") from exc
        if not 0.5 <= scale <= 4:
            raise RunDirectoryError(f"run.json's device_scale_factor {scale} is out of range")
        async with open_browser(
            size, start_url=start_url, device_scale_factor=scale, policy=policy
        ) as computer:
            yield computer


def replay_command(
    opts: ReplayOptions, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """`screenloop replay`; returns the exit status (0 all matched, 7 diverged)."""
    session = CommandSession(json_output=opts.json_output, out=out, err=err)
    try:
        check_threshold(opts.threshold)
        secrets = parse_secrets(opts.secrets)
    except ConfigurationError as exc:
        return session.usage_error(exc)
    session.start_logging(opts.verbose, secrets=secrets)

    def show(c: StepComparison) -> None:
        if opts.json_output:
            return
        what = "; ".join(c.actions) if c.actions else "initial screen"
        mark = "[green]same[/]" if c.matched else "[red]DIFFERENT[/]"
        session.console.print(f"step {c.step:>3}  {mark}  distance {c.distance:.3f}  ", end="")
        session.console.print(what, markup=False)

    async def replay() -> ReplayResult:
        recorded = load_run(opts.run_dir)
        known = {**DEMO_SECRETS, **secrets} if recorded.executor.get("demo") else secrets
        async with open_recorded(recorded, opts.url, opts) as computer:
            try:
                return await replay_run(
                    recorded,
                    computer,
                    threshold=opts.threshold,
                    secrets=known,
                    wait_s=opts.wait,
                    on_step=show,
                    describe=describe_screen_action,
                )
            except UnknownSecretError as exc:
                # the replay's, not the model's: the user did not give the secret again
                raise ConfigurationError(f"{exc}; pass --secret {exc.name}=VALUE") from exc

    outcome = session.run(replay())
    if outcome.value is None:
        return outcome.failed or ExitCode.ERROR
    result = outcome.value
    code = ExitCode.COMPLETED if result.ok else ExitCode.REPLAY_DIVERGED
    if opts.json_output:
        session.print_json(result.to_json(), code)
        return code
    div = result.divergence
    if div is None:
        session.console.print(
            f"all {len(result.comparisons)} screens matched (threshold {result.threshold})"
        )
    else:
        session.console.print(
            f"[red]first divergence at step {div.step}[/] (distance {div.distance:.3f} > "
            f"{result.threshold})"
        )
        session.console.print(f"  recorded: {div.recorded}", markup=False)
        session.console.print(f"  replayed: {div.replayed}", markup=False)
        session.console.print(f"  diff:     {div.diff}", markup=False)
    return code
