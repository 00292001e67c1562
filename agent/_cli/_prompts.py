"""What `screenloop run` asks on the terminal: the y/N safety prompt and the
consent before a run takes over this machine's own mouse and keyboard."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape

from agent._cli._live import LiveView
from agent._safety import SafetyCheck

__all__ = ["confirm_host_desktop", "terminal_ask"]


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
                code = escape(check.code or check.id)
                console.print(f"  [bold]{code}[/]: {escape(check.message)}")
            # markup=False: rich would read "[y/N]" as a style tag and print nothing
            console.print("Acknowledge and let the model continue? [y/N] ", end="", markup=False)
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


def confirm_host_desktop(console: Console, stdin: TextIO | None = None) -> bool:
    """Ask y/N before a run takes over this machine's own mouse and keyboard."""
    console.print(
        "[bold yellow]--host-desktop:[/] the model will move your mouse and type on this "
        "machine's own screen. Move the mouse into a screen corner to stop it. Continue? [y/N] ",
        end="",
    )
    try:
        answer = (stdin or sys.stdin).readline()
    except KeyboardInterrupt:
        answer = ""
    console.print()
    return answer.strip().lower() in ("y", "yes")
