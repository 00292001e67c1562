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
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, TextIO

import typer

from agent._actions._recorded import describe_screen_action
from agent._cli._computers import open_browser, open_desktop
from agent._cli._exit_codes import ExitCode
from agent._cli._options import parse_secrets
from agent._cli._session import CommandSession
from agent._errors import ConfigurationError
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
from executors._computer import Computer

__all__ = ["ReplayOptions", "open_recorded", "replay_command"]

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
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the outcome as one JSON object on stdout.")
    ] = False
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs on stderr.")] = False


@contextlib.asynccontextmanager
async def open_recorded(recorded: RecordedRun, url: str | None) -> AsyncIterator[Computer]:
    """A fresh computer like the one `recorded` drove (at `url` instead of its start URL)."""
    executor = recorded.executor
    size = (recorded.size.width, recorded.size.height)
    if executor.get("kind", "browser") == "desktop":
        if executor.get("x_display"):
            logger.warning("the run drove an existing display; replaying on a fresh one")
        launch = [c if isinstance(c, str) else " ".join(c) for c in executor.get("launch", [])]
        async with open_desktop(size, launch) as computer:
            yield computer
        return
    with contextlib.ExitStack() as shop:
        start_url = url or executor.get("start_url")
        if executor.get("demo") and url is None:
            variant = executor.get("demo_variant", "default")
            start_url = shop.enter_context(DemoApp(variant=variant)).url
        async with open_browser(
            size,
            start_url=start_url,
            device_scale_factor=float(executor.get("device_scale_factor") or 1),
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
        async with open_recorded(recorded, opts.url) as computer:
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
