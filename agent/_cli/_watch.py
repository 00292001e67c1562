"""``--watch [PORT]`` for `screenloop run`, `demo` and `batch`: the server, the prompt, the end.

- `normalize_watch_argv`: ``--watch`` alone means a free port (typer options
  take no optional value, so the command line is rewritten to ``--watch=0``);
- `start_watch`: the `WatchServer` on 127.0.0.1, its tokened URL on stderr
  (never in the run directory: run dirs are shared; run.json records the
  address without the token);
- `TerminalAsk`: the terminal's y/N safety prompt, run in a thread beside the
  page; the first answer wins and the other is abandoned (the prompt stops
  reading stdin);
- `linger`: after the run, on a terminal, the page keeps serving the final
  status and the report until Enter or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import select
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from agent._cli._live import LiveView
from agent._errors import ConfigurationError
from agent._safety import SafetyCheck
from agent._watch._server import WatchServer

__all__ = [
    "WATCH_HELP",
    "TerminalAsk",
    "linger",
    "normalize_watch_argv",
    "start_watch",
    "watched_ask",
]

WATCH_HELP = (
    "Serve a page on 127.0.0.1 to watch and steer the run: live screen, steps, pause/resume/"
    "stop, a message to the model, safety approvals (with --safety ask). --watch alone picks "
    "a free port; its URL (with a secret token) is printed on stderr."
)
_COMMANDS = ("run", "demo", "batch")


def normalize_watch_argv(argv: Sequence[str]) -> list[str]:
    """``--watch`` not followed by a port number becomes ``--watch=0`` (run, demo, batch)."""
    out = list(argv)
    if not any(cmd in out for cmd in _COMMANDS):
        return out
    for i, arg in enumerate(out):
        if arg == "--":
            break
        if arg == "--watch":
            following = out[i + 1] if i + 1 < len(out) else None
            if following is None or not following.isdigit():
                out[i] = "--watch=0"
    return out


def parse_port(value: str) -> int:
    """The port of ``--watch PORT`` (0: a free one)."""
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise ConfigurationError(f"--watch takes a port number 0..65535, got {value!r}")
    return int(value)


def start_watch(
    value: str, err_console: Console, approval_timeout_s: float = 300.0, what: str = "the run"
) -> WatchServer:
    """Start the watch server and print where it is (stderr)."""
    server = WatchServer(parse_port(value), approval_timeout_s=approval_timeout_s).start()
    err_console.print(
        f"watch and steer {what} at {server.url} (127.0.0.1 only; the token in the URL is "
        "the key to the controls: share it with no one)",
        markup=False,
        soft_wrap=True,
    )
    return server


class TerminalAsk:
    """The terminal y/N safety prompt, abandonable: it runs in a thread beside the page."""

    decided_by = "terminal"
    question = "Acknowledge here or on the watch page? [y/N] "

    def __init__(self, console: Console, live: LiveView | None, stdin: TextIO | None = None):
        self.console = console
        self.live = live
        self.stdin = stdin or sys.stdin
        self._abandoned = threading.Event()

    def abandon(self) -> None:
        """The page answered first: stop waiting for the terminal."""
        self._abandoned.set()
        self.console.print("(answered on the watch page)", markup=False)

    def stop(self) -> None:
        """Stop waiting for the terminal, quietly (the question was cancelled)."""
        self._abandoned.set()

    def __call__(self, checks: Sequence[SafetyCheck]) -> bool:
        self._abandoned.clear()
        pause = self.live.paused() if self.live is not None else contextlib.nullcontext()
        with pause:
            self.console.print("[bold yellow]The model raised a safety check:[/]")
            for check in checks:
                code = escape(check.code or check.id)
                self.console.print(f"  [bold]{code}[/]: {escape(check.message)}")
            self.console.print(self.question, end="", markup=False)
            answer = self._readline()
            self.console.print()
        return answer.strip().lower() in ("y", "yes")

    def _readline(self) -> str:
        try:
            fd = self.stdin.fileno()
        except (OSError, ValueError, AttributeError):
            return self.stdin.readline()
        while not self._abandoned.is_set():
            ready, _, _ = select.select([fd], [], [], 0.25)  # wakes to notice the page's answer
            if ready:
                return self.stdin.readline()
        return ""


def watched_ask(console: Console, live: LiveView | None, *, tty: bool) -> TerminalAsk | None:
    """The terminal prompt beside the watch page; none off a terminal (only the page asks)."""
    return TerminalAsk(console, live) if tty else None


def linger(server: WatchServer, err_console: Console, stdin: TextIO | None = None) -> None:
    """Keep serving the finished run's page until Enter, Ctrl-C or end of input."""
    err_console.print(
        f"the watch page still shows the result and the report at {server.url} — "
        "press Enter to stop it",
        markup=False,
        soft_wrap=True,
    )
    with contextlib.suppress(KeyboardInterrupt, OSError, ValueError):
        (stdin or sys.stdin).readline()
