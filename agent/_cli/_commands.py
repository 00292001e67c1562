"""The `run`, `demo`, `replay` and `doctor` commands (registered on `agent._cli._app.app`).

Each command parses its options and calls one function that returns the exit
status (agent/_cli/_exit_codes.py): `agent._cli._run.run_command`,
`agent._cli._demo.demo_command`, `agent._record._replay.replay_command`,
`agent._cli._doctor.doctor_command`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent._cli._app import app
from agent._cli._exit_codes import EXIT_CODES_HELP

__all__ = ["demo", "doctor", "replay", "run"]

_ENV_HELP = (
    "The API key comes from --api-key or TZAFON_API_KEY (OPENAI_API_KEY for --provider "
    "openai); the base URL from --base-url, LIGHTCONE_BASE_URL or OPENAI_BASE_URL."
)


@app.command("run", epilog=f"{_ENV_HELP}\n\n{EXIT_CODES_HELP}")
def run(
    task: Annotated[str, typer.Argument(help="What the agent should do, in plain words.")],
    url: Annotated[
        str | None, typer.Option(help="Browser run: the page to start on.", show_default=False)
    ] = None,
    desktop: Annotated[
        bool, typer.Option("--desktop", help="Desktop run on a fresh virtual X display.")
    ] = False,
    launch: Annotated[
        list[str] | None,
        typer.Option(
            "--launch",
            help='With --desktop: a program to start, split like a shell ("xterm -e top"). '
            "Repeatable.",
            show_default=False,
        ),
    ] = None,
    x_display: Annotated[
        str | None,
        typer.Option(
            "--x-display",
            help="Desktop run on an existing X display such as :1 (you consent to it being "
            "driven).",
            show_default=False,
        ),
    ] = None,
    model: Annotated[str, typer.Option(help="Model name.")] = "tzafon.northstar-cua-fast",
    base_url: Annotated[
        str | None,
        typer.Option(help="Responses API base URL, up to /v1.", show_default=False),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(help="API key (prefer the environment variable).", show_default=False),
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option(help="lightcone | openai | custom (default: from the base URL)."),
    ] = None,
    display: Annotated[str, typer.Option(help="Screen size WxH.")] = "1280x720",
    coordinates: Annotated[
        str | None,
        typer.Option(
            help="pixels | normalized (0-999); default from the model.", show_default=False
        ),
    ] = None,
    max_steps: Annotated[int, typer.Option(help="Stop after this many model turns.")] = 50,
    max_time: Annotated[
        float | None,
        typer.Option(help="Stop after this many seconds.", show_default=False),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(help="Run directory (default runs/<timestamp>-<task>).", show_default=False),
    ] = None,
    safety: Annotated[
        str | None,
        typer.Option(
            help="deny | ask | allow pending safety checks (default: ask on a terminal, "
            "deny otherwise).",
            show_default=False,
        ),
    ] = None,
    allow_domain: Annotated[
        list[str] | None,
        typer.Option("--allow-domain", help="Only these hosts (*.example.com). Repeatable."),
    ] = None,
    block_domain: Annotated[
        list[str] | None,
        typer.Option("--block-domain", help="Never these hosts. Repeatable."),
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(
            "--secret",
            help="NAME=VALUE or NAME (from the environment) for {{secret:NAME}} "
            "placeholders the model types. Repeatable.",
        ),
    ] = None,
    headed: Annotated[bool, typer.Option("--headed", help="Show the browser window.")] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the result as one JSON object on stdout.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Debug logs on stderr (never the key).")
    ] = False,
) -> None:
    """Run an agent on a task in a browser (--url) or on a desktop (--desktop, --x-display)."""
    from agent._cli._run import RunOptions, run_command

    options = RunOptions(
        task=task,
        url=url,
        desktop=desktop,
        launch=list(launch or []),
        x_display=x_display,
        model=model,
        base_url=base_url,
        api_key=api_key,
        provider=provider,
        display=display,
        coordinates=coordinates,
        max_steps=max_steps,
        max_time=max_time,
        record=record,
        safety=safety,
        allow_domains=list(allow_domain or []),
        block_domains=list(block_domain or []),
        headed=headed,
        json_output=json_output,
        verbose=verbose,
        secrets=list(secret or []),
    )
    raise typer.Exit(run_command(options))


@app.command("demo", epilog=EXIT_CODES_HELP)
def demo(
    headed: Annotated[
        bool, typer.Option("--headed", help="Show the browser (starts Xvfb if DISPLAY is unset).")
    ] = False,
    model: Annotated[str, typer.Option(help="Model name sent to the bundled model.")] = (
        "tzafon.northstar-cua-fast"
    ),
    record: Annotated[
        Path | None,
        typer.Option(help="Run directory (default runs/<timestamp>-demo).", show_default=False),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the result as one JSON object on stdout.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs on stderr.")] = False,
) -> None:
    """Watch an agent buy lamps in a bundled web shop: no API key, no network."""
    from agent._cli._demo import demo_command

    raise typer.Exit(
        demo_command(
            headed=headed, model=model, record=record, json_output=json_output, verbose=verbose
        )
    )


@app.command("replay", epilog=EXIT_CODES_HELP)
def replay(
    run_dir: Annotated[Path, typer.Argument(help="A run directory recorded by screenloop.")],
    threshold: Annotated[
        float,
        typer.Option(help="Largest screen distance (0-1) that still counts as the same screen."),
    ] = 0.05,
    url: Annotated[
        str | None,
        typer.Option(help="Start URL instead of the recorded one.", show_default=False),
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option("--secret", help="NAME=VALUE or NAME for typed placeholders. Repeatable."),
    ] = None,
    wait: Annotated[
        float,
        typer.Option(help="Seconds to wait for a screen to match before calling it different."),
    ] = 3.0,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the outcome as one JSON object on stdout.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs on stderr.")] = False,
) -> None:
    """Re-execute a run's recorded actions without a model and compare every screenshot."""
    from agent._record._replay import replay_command

    raise typer.Exit(
        replay_command(
            run_dir,
            threshold=threshold,
            url=url,
            secrets=list(secret or []),
            wait_s=wait,
            json_output=json_output,
            verbose=verbose,
        )
    )


@app.command("doctor", epilog=EXIT_CODES_HELP)
def doctor(
    base_url: Annotated[
        str | None,
        typer.Option(help="Base URL to test (default: as `run` resolves it).", show_default=False),
    ] = None,
    provider: Annotated[
        str | None, typer.Option(help="lightcone | openai | custom.", show_default=False)
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the checks as one JSON object on stdout.")
    ] = False,
) -> None:
    """Check that this machine can run screenloop, and say how to fix what is missing."""
    from agent._cli._doctor import doctor_command

    raise typer.Exit(doctor_command(base_url=base_url, provider=provider, json_output=json_output))
