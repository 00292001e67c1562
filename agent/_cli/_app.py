"""The `screenloop` command line: one typer app with every command registered on it.

The commands with options live in their own modules, each as an options
dataclass (the flags, stated once) and a function ``options -> exit status``;
`typer_command` (agent/_cli/_options.py) joins the two for typer. None of
those modules imports this one. `report` and `serve-script`, a few lines
each, are defined here.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from agent._cli._batch import BATCH_HELP, BatchOptions, batch_command
from agent._cli._demo import DemoOptions, demo_command
from agent._cli._doctor import DoctorOptions, doctor_command
from agent._cli._exit_codes import EXIT_CODES_HELP
from agent._cli._options import choice_list, choices, one_of, typer_command
from agent._cli._replay import ReplayOptions, replay_command
from agent._cli._run import ENV_HELP, RunOptions, run_command
from agent._cli._serve_computers import ServeComputersOptions, serve_computers_command
from agent._cli._watch import normalize_watch_argv
from agent.testing import Dialect

__all__ = ["app", "main"]

app = typer.Typer(
    name="screenloop",
    help=(
        "screenloop: a runtime for computer-use agents. A model behind a Responses API "
        "sends computer_call actions; screenloop executes them on a real browser or X "
        "desktop and sends screenshots back."
    ),
    no_args_is_help=True,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from agent._version import __version__

        typer.echo(f"screenloop {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Keeps `screenloop` a group of commands even while it has only one."""


@app.command("serve-script")
def serve_script(
    script: Annotated[Path, typer.Argument(help="A JSON script: a list of turns and faults.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 0,
    dialect: Annotated[
        str,
        typer.Option(
            help=f"Provider dialect to check requests against: {choice_list(Dialect, '|')}."
        ),
    ] = "lightcone",
    api_key: Annotated[
        str | None, typer.Option(help="Answer 401 unless requests carry this bearer key.")
    ] = None,
) -> None:
    """Serve a scripted Responses API on 127.0.0.1 until Ctrl-C.

    Prints two lines: the base URL for screenloop (--base-url, ending in /v1) and
    the origin for the official SDK (LIGHTCONE_BASE_URL, which screenloop reads too).
    """
    from agent.testing import Script, ScriptedResponsesServer

    if dialect not in choices(Dialect):
        raise typer.BadParameter(f"use {one_of(Dialect)}", param_hint="--dialect")
    from agent._errors import ScreenloopError

    try:  # a bad script file or a port in use is the user's to fix: one line, exit 2
        server = ScriptedResponsesServer(
            Script.from_file(script),
            dialect=cast(Dialect, dialect),
            port=port,
            require_api_key=api_key,
        )
        server.start()
    except (ScreenloopError, OSError, ValueError, TypeError, RecursionError, OverflowError) as exc:
        typer.echo(f"error: {script}: {type(exc).__name__}: {exc}"[:500], err=True)
        raise typer.Exit(2) from None
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    # Explicit handlers: a shell without job control starts background children with
    # SIGINT ignored, and then Python's own Ctrl-C handling never fires.
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        typer.echo(server.base_url)
        typer.echo(server.origin)
        typer.echo(
            f"screenloop: --base-url {server.base_url}; official SDK (tzafon): "
            f"LIGHTCONE_BASE_URL={server.origin} (or Lightcone(base_url=...))",
            err=True,
        )
        while not stop.wait(0.5):
            pass
        typer.echo(f"stopped after {len(server.requests)} request(s)", err=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.close()


@app.command("report")
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (holds run.json).")],
    open_: Annotated[
        bool, typer.Option("--open", help="Open the report in the default web browser.")
    ] = False,
) -> None:
    """(Re)build RUN_DIR/report.html from the run directory and print its path."""
    from agent._errors import RunDirectoryError
    from agent._record._report import build_report

    try:
        path = build_report(run_dir)
    except (RunDirectoryError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(str(path))
    if open_:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())


# name, help, epilog, options, handler -- after serve-script and report, the order of
# `screenloop --help`
_COMMANDS: tuple[tuple[str, str, str, type[Any], Callable[[Any], int]], ...] = (
    (
        "run",
        "Run an agent on a task in a browser (--url) or on a desktop (--desktop, --x-display).",
        f"{ENV_HELP}\n\n{EXIT_CODES_HELP}",
        RunOptions,
        run_command,
    ),
    (
        "batch",
        "Run many tasks from a task file (JSONL/YAML): repeat, shard, resume, one summary.",
        f"{ENV_HELP}\n\n{BATCH_HELP}",
        BatchOptions,
        batch_command,
    ),
    (
        "demo",
        "Watch an agent buy lamps in a bundled web shop: no API key, no network.",
        EXIT_CODES_HELP,
        DemoOptions,
        demo_command,
    ),
    (
        "replay",
        "Re-execute a run's recorded actions without a model and compare every screenshot.",
        EXIT_CODES_HELP,
        ReplayOptions,
        replay_command,
    ),
    (
        "doctor",
        "Check that this machine can run screenloop, and say how to fix what is missing.",
        EXIT_CODES_HELP,
        DoctorOptions,
        doctor_command,
    ),
    (
        "serve-computers",
        "Serve Lightcone's Computers API on 127.0.0.1 with local browsers and desktops.",
        "The official SDK drives it: LIGHTCONE_BASE_URL=<printed origin>, TZAFON_API_KEY=<key>.",
        ServeComputersOptions,
        serve_computers_command,
    ),
)
for _name, _help, _epilog, _options, _handler in _COMMANDS:
    app.command(_name, help=_help, epilog=_epilog)(typer_command(_options, _handler))


def main() -> None:
    """Entry point of the `screenloop` console script."""
    app(args=normalize_watch_argv(sys.argv[1:]))
