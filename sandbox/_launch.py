"""Waiting for launched programs to show a window, and telling when they did not.

A desktop run that starts ``xterm -e nano`` on a machine without nano used to
wait 15 s, warn, and let a model work on a black screen. `wait_for_launched`
ends that wait as soon as it knows: a program that exits with a non-zero
status, or exits with status 0 and no window follows within a grace period
(``xterm -e no-such-program`` exits 0 without a word), raises `LaunchError`
with the exit status and the last lines of its stderr. A program that is
still running but shows no window raises it at the timeout, unless windowless
programs were allowed. `check_launched` repeats the exit check later (after
the first screen has settled), for programs that opened a window and died.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from collections.abc import Sequence

from sandbox._display import VirtualDisplay, connect_xlib
from sandbox._errors import LaunchError

__all__ = ["check_launched", "wait_for_launched"]

# a program that exited 0 may have handed its window to a child (a launcher script)
_EXITED_GRACE_S = 2.0


def _hint(argv: Sequence[str]) -> str:
    """A likely cause: `-e PROGRAM` (xterm, other terminals) naming a missing program."""
    if "-e" in argv[:-1]:
        program = argv[list(argv).index("-e") + 1]
        if shutil.which(program) is None:
            return f" ({program!r} is not installed or not on PATH)"
    return ""


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


def check_launched(display: VirtualDisplay, procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """Raise `LaunchError` for the first of `procs` that exited with a non-zero status."""
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
        root = conn.screen().root
        atom = conn.intern_atom("_NET_CLIENT_LIST")
        deadline = time.monotonic() + timeout_s
        exited_at: dict[int, float] = {}
        delay = 0.02
        while True:
            prop = root.get_full_property(atom, 0)
            seen = len(prop.value) if prop is not None else 0
            if seen >= len(procs):
                return seen
            now = time.monotonic()
            if not windowless_ok:
                check_launched(display, procs)
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
