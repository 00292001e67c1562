"""No orphans after SIGKILL: a small reaper process that outlives the CLI by a moment.

A desktop run starts Xvfb, a window manager and the ``--launch`` programs.
Killed with SIGKILL (what a CI timeout sends after its grace), the CLI can
clean up nothing; its children are reparented to init and keep running.

`reaper` starts ``python -m agent._cli._reaper`` in a session of its own (so
the terminal's Ctrl-C and a process-group kill do not reach it first), with
the read end of a pipe whose write end only the CLI holds. While the CLI
lives, the reaper notes the CLI's descendants (pid and start time, from
/proc) each time the pipe stays quiet for `SCAN_S`; when the pipe reaches
end-of-file -- the CLI exited, however it died -- it sends SIGTERM to every
noted process still running with the same start time (a reused pid is left
alone), then SIGKILL to those that remain after a grace period, and exits.
After a clean exit the CLI's own cleanup has already stopped them all, so
the reaper finds nothing to do.

The bench (``python -m bench``) runs under the same reaper. With
``SCREENLOOP_REAPER_NOTES`` set to a file path, the reaper writes the
processes it has noted there (``pid start_time`` lines, replaced atomically
after each scan that found new ones): how a test knows, without guessing a
delay, that a process will be stopped.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from sandbox import proc_stat

__all__ = ["descendants", "reap", "reaper"]

SCAN_S = 0.25
GRACE_S = 3.0
NOTES_ENV = "SCREENLOOP_REAPER_NOTES"


def descendants(root: int) -> dict[int, int]:
    """Every live descendant of `root`: pid -> start time."""
    children: dict[int, list[int]] = {}
    started: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        info = proc_stat(int(entry))
        if info is None or info.state == "Z":
            continue
        children.setdefault(info.ppid, []).append(int(entry))
        started[int(entry)] = info.start
    found: dict[int, int] = {}
    frontier = [root]
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in found:
                found[child] = started[child]
                frontier.append(child)
    return found


def _alive(noted: dict[int, int]) -> list[int]:
    out = []
    for pid, start in noted.items():
        info = proc_stat(pid)
        if info is not None and info.start == start and info.state != "Z":
            out.append(pid)
    return out


def reap(noted: dict[int, int], grace_s: float = GRACE_S) -> None:
    """SIGTERM the `noted` processes still running, then SIGKILL what outlives `grace_s`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _alive(noted):
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace_s
        while _alive(noted) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _alive(noted):
            return


def _write_notes(path: str, noted: dict[int, int]) -> None:
    tmp = f"{path}.tmp"
    with contextlib.suppress(OSError):
        Path(tmp).write_text("".join(f"{pid} {start}\n" for pid, start in noted.items()))
        os.replace(tmp, path)


def _watch(fd: int, parent: int, notes: str | None = None) -> None:
    me = os.getpid()
    noted = descendants(parent)
    written = 0
    while True:
        ready, _, _ = select.select([fd], [], [], SCAN_S)
        if ready and not os.read(fd, 64):
            break  # end of file: the CLI is gone
        noted.update(descendants(parent))
        noted.pop(me, None)
        if notes and len(noted) != written:
            _write_notes(notes, noted)
            written = len(noted)
    reap(noted)


@contextlib.contextmanager
def reaper() -> Iterator[None]:
    """While active, the processes this one starts are stopped even if it is SIGKILLed."""
    read_fd, write_fd = os.pipe()
    notes = os.environ.get(NOTES_ENV)
    try:
        proc = subprocess.Popen(
            # by path, isolated: it imports the standard library only, and starts fast
            [sys.executable, "-I", __file__, str(read_fd), str(os.getpid())]
            + ([notes] if notes else []),
            pass_fds=(read_fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        os.close(read_fd)
    try:
        yield
    finally:
        os.close(write_fd)  # the reaper finds the run's processes already stopped
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=GRACE_S * 2 + 1)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
