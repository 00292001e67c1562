"""Waiting for launched programs to show a window, and telling when they did not.

A desktop run that starts ``xterm -e nano`` on a machine without nano used to
wait 15 s, warn, and let a model work on a black screen. `wait_for_launched`
ends that wait as soon as it knows: a program that exits with a non-zero
status, or exits with status 0 and no window follows within a grace period
(``xterm -e no-such-program`` exits 0 without a word), raises `LaunchError`
with the exit status and the last lines of its stderr. A program that is
still running but shows no window raises it at the timeout, unless windowless
programs were allowed. `check_launched` repeats the exit check later (after
the first screen has settled), for programs that opened a window and died:
a non-zero status, or status 0 with fewer windows left than programs.

A terminal told to run a program that is not installed (``xterm -e
no-such-editor``) shows its window for a moment and exits 0; whether that
window is seen depends on how busy the machine is. `check_launchable` refuses
it before anything starts, for the terminals whose ``-e`` names a program.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Sequence
from typing import Any

from sandbox._display import VirtualDisplay, connect_xlib
from sandbox._errors import LaunchError

__all__ = ["check_launchable", "check_launched", "wait_for_launched"]

# a program that exited 0 may have handed its window to a child (a launcher script)
_EXITED_GRACE_S = 2.0
# terminals whose `-e` is followed by the program to run (and its arguments) ...
_TERMINALS_E_ARGV = frozenset({"xterm", "uxterm", "urxvt", "rxvt", "st", "konsole", "alacritty"})
# ... and those whose `-e` is followed by one command line
_TERMINALS_E_LINE = frozenset(
    {"xfce4-terminal", "lxterminal", "mate-terminal", "terminator", "sakura", "tilix"}
)


def _e_program(argv: Sequence[str]) -> str | None:
    """The program after `-e` in `argv`, for any program (a guess) ("" if none follows)."""
    args = list(argv)
    if "-e" not in args:
        return None
    rest = args[args.index("-e") + 1 :]
    if not rest:
        return ""
    if os.path.basename(args[0]) in _TERMINALS_E_LINE:
        try:
            words = shlex.split(rest[0])
        except ValueError:  # unbalanced quotes: the terminal will say so itself
            words = rest[0].split()
        return words[0] if words else ""
    return rest[0]


def _missing(program: str) -> bool:
    return bool(program) and shutil.which(program) is None


def _hint(argv: Sequence[str]) -> str:
    """A likely cause: `-e PROGRAM` (xterm, other terminals) naming a missing program."""
    program = _e_program(argv)
    if program is not None and _missing(program):
        return f" ({program!r} is not installed or not on PATH)"
    return ""


def check_launchable(argv: Sequence[str]) -> None:
    """Raise `LaunchError` for a terminal told to run (`-e`) a program that is not installed.

    Such a terminal opens its window, fails to start the program and exits 0
    at once: refused here, before it starts, the run fails the same way on an
    idle machine and on a busy one. Other programs are left to `wait_for_launched`.
    """
    args = [str(a) for a in argv]
    if not args or os.path.basename(args[0]) not in _TERMINALS_E_ARGV | _TERMINALS_E_LINE:
        return
    program = _e_program(args)
    if program is not None and _missing(program):
        command = shlex.join(args)
        raise LaunchError(
            f"launched program `{command}` would exit with status 0 at once: "
            f"{program!r} is not installed or not on PATH, so {args[0]} cannot run it",
            command=command,
            returncode=None,
            stderr_tail="",
        )


def _error(display: VirtualDisplay, proc: subprocess.Popen[bytes], what: str) -> LaunchError:
    argv = proc.args if isinstance(proc.args, list) else [str(proc.args)]
    command = shlex.join(str(a) for a in argv)
    tail = display.stderr_tail(proc)
    stderr = f"; its stderr ends:\n{tail}" if tail else "; it wrote nothing to stderr"
    return LaunchError(
        f"launched program `{command}` {what}{_hint([str(a) for a in argv])}{stderr}",
        command=command,
        returncode=proc.returncode,
        stderr_tail=tail,
    )


def _client_windows(conn: Any) -> int:
    """How many client windows the window manager lists (``_NET_CLIENT_LIST``)."""
    prop = conn.screen().root.get_full_property(conn.intern_atom("_NET_CLIENT_LIST"), 0)
    return len(prop.value) if prop is not None else 0


def check_launched(display: VirtualDisplay, procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """Raise `LaunchError` for the first of `procs` that exited with a non-zero status,
    or with status 0 while the display shows fewer windows than there are programs
    (a window that came and went with its program)."""
    _check_exits(display, procs)
    exited = [p for p in procs if p.poll() == 0]
    if exited:
        conn = connect_xlib(display.display)
        try:
            windows = _client_windows(conn)
        finally:
            conn.close()
        if windows < len(procs):
            raise _error(display, exited[0], "exited with status 0 and its window is gone")


def _check_exits(display: VirtualDisplay, procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() not in (None, 0):
            raise _error(display, proc, f"exited with status {proc.returncode}")


def wait_for_launched(
    display: VirtualDisplay,
    procs: Sequence[subprocess.Popen[bytes]],
    *,
    timeout_s: float = 15.0,
    windowless_ok: bool = False,
) -> int:
    """Wait (bounded) until the window manager lists a window per program in `procs`.

    Returns how many client windows there are. Raises `LaunchError` as soon as
    a program exits with a non-zero status, when one exited with status 0 and
    the windows did not follow within a grace period, or at `timeout_s` when
    windows are missing (unless `windowless_ok`: then the count is returned).
    """
    conn = connect_xlib(display.display)
    try:
        deadline = time.monotonic() + timeout_s
        exited_at: dict[int, float] = {}
        delay = 0.02
        while True:
            seen = _client_windows(conn)
            if seen >= len(procs):
                return seen
            now = time.monotonic()
            if not windowless_ok:
                _check_exits(display, procs)
                for proc in procs:
                    if proc.poll() is not None:
                        first = exited_at.setdefault(proc.pid, now)
                        if now - first >= _EXITED_GRACE_S:
                            raise _error(
                                display, proc, "exited with status 0 without opening a window"
                            )
            if now >= deadline:
                if windowless_ok:
                    return seen
                alive = next((p for p in procs if p.poll() is None), procs[0])
                raise _error(
                    display,
                    alive,
                    f"opened no window within {timeout_s:.0f}s "
                    f"({seen} window(s) for {len(procs)} program(s); "
                    "allow windowless programs if that is expected)",
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
    finally:
        conn.close()
