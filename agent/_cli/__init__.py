"""The `screenloop` command line: one typer app, its commands, the live view, doctor and demo."""

from agent._cli._app import main

__all__ = ["main"]
