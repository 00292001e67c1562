"""What `run`, `demo` and `replay` share, written once: consoles, logging, cancellation, exit codes.

A `CommandSession` holds the command's output streams (human output goes to
stderr when ``--json`` owns stdout), sets up logging with the API key and
secrets redacted, runs the command's coroutine so that SIGINT and SIGTERM
cancel it (its cleanup runs: the record is finished and held inputs
released), turns an escaping exception or a signal into the exit status
(agent/_cli/_exit_codes.py) with a one-line message, and prints a run's
result.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

from rich.console import Console

from agent._cli._exit_codes import ExitCode, exit_code_for_exception
from agent._result import RunResult
from agent._secrets import RedactingFilter, Redactor

__all__ = [
    "CommandSession",
    "Outcome",
    "run_cancellable",
    "setup_logging",
    "signal_exit_code",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_OUR_LOGGERS = ("agent", "executors", "sandbox")


def setup_logging(
    verbose: bool,
    *,
    api_key: str | None = None,
    secrets: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> None:
    """Log to stderr: warnings, or (verbose) debug logs of screenloop's packages.

    The API key and secret values are redacted from every record, before and
    during a run.
    """
    handler: logging.StreamHandler[Any] = (
        logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(Redactor(dict(secrets or {}), api_key)))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in _OUR_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)


async def run_cancellable(coro: Awaitable[T]) -> tuple[T | None, int | None]:
    """Await `coro` as a task that SIGINT and SIGTERM cancel.

    Returns ``(value, None)``, or ``(None, signal_number)`` when a signal
    cancelled it (the coroutine's own cleanup has run by then).
    """
    loop = asyncio.get_running_loop()
    task: asyncio.Future[T] = asyncio.ensure_future(coro)
    received: list[int] = []

    def on_signal(sig: int) -> None:
        logger.info("received signal %d; cancelling the run", sig)
        received.append(sig)
        task.cancel()

    installed: list[int] = []
    for each in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(each, on_signal, int(each))
            installed.append(int(each))
        except (NotImplementedError, RuntimeError):  # not the main thread / platform
            pass
    try:
        return await task, None
    except asyncio.CancelledError:
        if received:
            return None, received[0]
        raise
    finally:
        for number in installed:
            loop.remove_signal_handler(number)


def signal_exit_code(sig: int) -> ExitCode:
    """130 for SIGINT, 143 for SIGTERM."""
    return ExitCode.TERMINATED if sig == signal.SIGTERM else ExitCode.CANCELLED


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """How a command's coroutine ended: its value, or the exit status of an error or signal."""

    value: T | None
    failed: ExitCode | None = None
    error: dict[str, str] | None = None  # the exception's type and message, when one failed it


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time of each record.

    While the live view draws, rich redirects `sys.stderr` so that what is
    written there (``-v`` logs) is printed above the frame, not inside it.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


# Python keyword names in messages shared with the Python API, as the CLI spells them.
_CLI_FLAGS = (("pass api_key=", "pass --api-key"), ("pass base_url=", "pass --base-url"))


def cli_words(message: str) -> str:
    """A message of the Python API in the command line's words (``--api-key``...)."""
    for python, flag in _CLI_FLAGS:
        message = message.replace(python, flag)
    return message


class CommandSession:
    """One command's terminal: its streams, consoles, logging, and how its work is run."""

    def __init__(
        self, *, json_output: bool = False, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.json_output = json_output
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._given_err = err
        self.error: dict[str, str] | None = None
        # Human output: stdout, unless --json keeps stdout for the one JSON object.
        self.console = Console(
            file=self.err if json_output else self.out, highlight=False, soft_wrap=True
        )
        self.err_console = Console(file=self.err, highlight=False, soft_wrap=True)

    def usage_error(self, exc: Exception) -> ExitCode:
        """Say what is wrong with the command line; exit status 2 (with --json, a JSON object)."""
        message = cli_words(str(exc))
        self.err_console.print(f"error: {message}", markup=False)
        if self.json_output:
            error = {"type": type(exc).__name__, "message": message}
            self.print_json({"status": "error", "error": error}, ExitCode.USAGE)
        return ExitCode.USAGE

    def start_logging(
        self, verbose: bool, *, api_key: str | None = None, secrets: Mapping[str, str] | None = None
    ) -> None:
        """Log to this session's stderr (see `setup_logging`)."""
        setup_logging(verbose, api_key=api_key, secrets=secrets, stream=self._given_err)

    def run(self, work: Coroutine[Any, Any, T]) -> Outcome[T]:
        """Run `work` in a new event loop, cancelled by SIGINT or SIGTERM.

        An exception is printed in one line and becomes its exit status; a
        signal becomes 130 or 143.
        """
        try:
            value, sig = asyncio.run(run_cancellable(work))
        except Exception as exc:
            self.error = {"type": type(exc).__name__, "message": cli_words(str(exc))}
            self.err_console.print(f"error: {type(exc).__name__}: {exc}", markup=False)
            logger.debug("the command failed", exc_info=True)
            error = {"type": type(exc).__name__, "message": str(exc)}
            return Outcome(None, exit_code_for_exception(exc), error)
        if sig is not None:
            return Outcome(None, signal_exit_code(sig))
        return Outcome(value)

    def print_result(
        self, result: RunResult | None, code: ExitCode, *, extra: Mapping[str, Any] | None = None
    ) -> None:
        """Print a run's result: one JSON object on stdout (``--json``), or a short summary."""
        if self.json_output:
            data = result.to_json() if result is not None else {"status": "error"}
            if self.error is not None and not data.get("error"):
                data = {**data, "status": "error", "error": self.error}
            if result is not None and result.run_dir is not None:
                report = Path(result.run_dir) / "report.html"
                data = {**data, "report": str(report) if report.exists() else None}
            self.print_json(data, code, extra)
            return
        if result is None:
            return
        console = self.console
        style = "green" if result.ok else "red"
        console.print(
            f"[{style}]{result.status}[/] after {len(result.steps)} step(s), "
            f"{result.usage.get('total_tokens', 0)} tokens, "
            f"{result.timings.get('total_s', 0):.1f}s"
        )
        if result.final_output:
            console.print(f"answer: {result.final_output}", markup=False)
        if result.error:
            console.print(f"error: {result.error['type']}: {result.error['message']}", markup=False)
        if result.run_dir is not None:
            report = Path(result.run_dir) / "report.html"
            console.print(f"run directory: {result.run_dir}", markup=False)
            if report.exists():
                console.print(f"report: {report}", markup=False)

    def print_json(
        self, data: Mapping[str, Any], code: ExitCode, extra: Mapping[str, Any] | None = None
    ) -> None:
        """Write `data` (with `extra` and ``exit_code``) as one JSON line on stdout."""
        line = {**data, **(extra or {}), "exit_code": int(code)}
        self.out.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.out.flush()
