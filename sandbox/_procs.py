"""What the kernel says of a process: its parent, start time and run state (``/proc``)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

__all__ = ["ProcStat", "proc_stat"]


class ProcStat(NamedTuple):
    """Fields of ``/proc/PID/stat``: the parent's PID, the start time (clock ticks after
    boot, which tells a PID's reuse), and the state of the main thread (``R``
    running or runnable, ``S`` sleeping, ``Z`` a zombie, ...)."""

    ppid: int
    start: int
    state: str


def proc_stat(pid: int) -> ProcStat | None:
    """`pid`'s `ProcStat`, or None when it is gone (or ``/proc`` is not there)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        # "pid (comm) S ...": the comm may hold spaces and parentheses
        rest = text[text.rindex(")") + 2 :].split()
        return ProcStat(int(rest[1]), int(rest[19]), rest[0])
    except (OSError, ValueError, IndexError):
        return None
