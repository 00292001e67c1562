"""The `screenloop` command line: one typer app, its commands, the live view, doctor and demo."""

__all__ = ["main"]


def main() -> None:
    """Entry point of the `screenloop` console script.

    The app is imported here, not at package import, so that a module of the
    `agent._batch` wing (which uses `agent._cli._run`) can be imported first
    without a circle through the app, which registers the batch command.
    """
    from agent._cli._app import main as app_main

    app_main()
