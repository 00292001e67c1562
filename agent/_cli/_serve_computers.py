"""`screenloop serve-computers`: Lightcone's Computers API on 127.0.0.1, backed by local computers.

The clients' bearer key is ``SCREENLOOP_COMPUTERS_KEY`` (or ``--api-key-file``);
with neither, a random key is made and printed once on stdout, next to the
origin, for the operator to hand to clients (it is never logged).
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["ServeComputersOptions", "serve_computers_command"]

KEY_ENV = "SCREENLOOP_COMPUTERS_KEY"


@dataclass(frozen=True)
class ServeComputersOptions:
    """The flags of `screenloop serve-computers`."""

    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 0
    max_sessions: Annotated[
        int, typer.Option(help="At most this many live computers (more are refused with 429).")
    ] = 8
    max_lifetime: Annotated[
        int, typer.Option(help="Seconds a session may live at most (and its default).")
    ] = 3600
    idle_timeout: Annotated[
        int, typer.Option(help="Default seconds of inactivity before a session is ended.")
    ] = 300
    launch: Annotated[
        list[str],
        typer.Option(
            "--launch",
            help="A program every desktop session starts with, split like a shell; "
            "{session} is replaced by the session id. Repeatable.",
            show_default=False,
        ),
    ] = field(default_factory=list)
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            help=f"Read the clients' key from this file (default: ${KEY_ENV}, else a random "
            "key printed once).",
            show_default=False,
        ),
    ] = None
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log sessions on stderr.")] = (
        False
    )


def _key(opts: ServeComputersOptions) -> tuple[str, bool]:
    """The key, and whether it was made here (and so must be shown)."""
    if opts.api_key_file is not None:
        try:
            key = opts.api_key_file.read_text().strip()
        except OSError as exc:
            raise typer.BadParameter(str(exc), param_hint="--api-key-file") from None
        if not key:
            raise typer.BadParameter("the file is empty", param_hint="--api-key-file")
        return key, False
    key = os.environ.get(KEY_ENV, "").strip()
    if key:
        return key, False
    return "slc_" + secrets.token_urlsafe(24), True


def serve_computers_command(opts: ServeComputersOptions) -> int:
    """Serve until SIGINT or SIGTERM; every session is ended on the way out."""
    import logging

    from agent._computers_server import ComputersServer

    if opts.max_sessions < 1 or opts.max_lifetime < 1 or opts.idle_timeout < 1:
        typer.echo("error: --max-sessions, --max-lifetime, --idle-timeout must be >= 1", err=True)
        return 2
    if opts.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from sandbox import LaunchError

    key, made = _key(opts)
    try:
        server = ComputersServer(
            api_key=key,
            port=opts.port,
            max_sessions=opts.max_sessions,
            max_lifetime_s=opts.max_lifetime,
            idle_timeout_s=opts.idle_timeout,
            launch=opts.launch,
        )
    except (LaunchError, ValueError) as exc:
        # every desktop session would fail to start: say so now, not per session
        typer.echo(f"error: --launch: {exc}", err=True)
        return 2
    try:
        server.start()
    except OSError as exc:
        typer.echo(f"error: cannot listen: {exc}", err=True)
        return 2
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        typer.echo(server.origin)
        if made:
            typer.echo(f"key: {key}")
        typer.echo(
            f"use: LIGHTCONE_BASE_URL={server.origin} TZAFON_API_KEY=<the key> "
            "(or screenloop run --computer lightcone --computer-base-url ...)",
            err=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.close()
    typer.echo(f"stopped; {len(server.pool.ended)} session(s) ended", err=True)
    return 0
