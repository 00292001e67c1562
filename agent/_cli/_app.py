"""The `screenloop` command line (Typer). Each command is a thin shell over the library."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Literal

import typer

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


@app.callback()
def _root() -> None:
    """Keeps `screenloop` a group of commands even while it has only one."""


@app.command("serve-script")
def serve_script(
    script: Annotated[Path, typer.Argument(help="A JSON script: a list of turns and faults.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 0,
    dialect: Annotated[
        str, typer.Option(help="Provider dialect to check requests against: lightcone|openai.")
    ] = "lightcone",
    api_key: Annotated[
        str | None, typer.Option(help="Answer 401 unless requests carry this bearer key.")
    ] = None,
) -> None:
    """Serve a scripted Responses API on 127.0.0.1 until Ctrl-C (prints the base URL)."""
    from agent.testing import Script, ScriptedResponsesServer

    if dialect not in ("lightcone", "openai"):
        raise typer.BadParameter("use lightcone or openai", param_hint="--dialect")
    chosen: Literal["lightcone", "openai"] = "openai" if dialect == "openai" else "lightcone"
    server = ScriptedResponsesServer(
        Script.from_file(script), dialect=chosen, port=port, require_api_key=api_key
    )
    with server:
        typer.echo(server.base_url)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            typer.echo(f"stopped after {len(server.requests)} request(s)", err=True)


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
    except RunDirectoryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(str(path))
    if open_:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())


# Registers run, demo, replay and doctor on `app` (they live in their own module).
from agent._cli import _commands  # noqa: E402, F401


def main() -> None:
    """Entry point of the `screenloop` console script."""
    app()
