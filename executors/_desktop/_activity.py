"""Are the display's programs still working? Their run state, from the kernel.

DAMAGE tells when the screen changed; it cannot tell that an app has not yet
drawn because it has not yet *run*. On a busy machine an app can wait on the
run queue for longer than settle's response window (a GTK app answering a
click 150-400 ms late while other processes hold both cores), and a screen
that is quiet because its app is starved looks like a screen that is done.

`AppActivity` asks the X server which processes its clients are (the
X-Resource extension's client PIDs, the server's own included) and reads
their main thread's run state from ``/proc``: a client that is runnable
(``R``: running, or waiting for a CPU) is still working, and settle keeps
waiting (bounded) until none is. A program that is runnable on every look
(it computes all the time) is learned as *restless* and no longer waited
for, so an app that never sleeps costs one bounded wait, not every step's.

Only for a server on this machine in this PID namespace: the server must
report our own connection's PID as ours (a remote or a container's display
gives PIDs that mean nothing here), and ``/proc`` must exist. `open` returns
None otherwise, and settle goes on without it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from typing import Any

from sandbox import proc_stat

__all__ = ["AppActivity"]

logger = logging.getLogger(__name__)

_REFRESH_S = 1.0  # how often the list of client PIDs is asked for again


def _runnable(pid: int) -> bool:
    """Whether `pid`'s main thread is running or waiting for a CPU (False once it is gone)."""
    stat = proc_stat(pid)
    return stat is not None and stat.state == "R"


class AppActivity:
    """Which of one X display's client processes are runnable now. Not thread-safe."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._own = os.getpid()
        self._pids: tuple[int, ...] = ()
        self._asked = 0.0
        self.restless: set[int] = set()  # runnable on every look: not waited for
        self._let_go: dict[int, int] = {}  # how many waits each program ran to the bound

    @classmethod
    def open(cls, display_name: str) -> AppActivity | None:
        """Activity of the clients of `display_name`, or None where PIDs cannot be known."""
        if not os.path.isdir("/proc/self/task"):
            return None
        try:
            from Xlib import display as xdisplay

            conn = xdisplay.Display(display_name)
        except Exception as exc:
            logger.debug("no client activity on %s: %r", display_name, exc)
            return None
        activity = cls(conn)
        try:
            if not conn.has_extension("X-Resource"):
                raise LookupError("no X-Resource extension")
            pids = activity._ask()
            if activity._own not in pids:
                # the server sees our connection under another PID: not our machine or
                # not our PID namespace, so its PIDs name nothing here
                raise LookupError("the server's PIDs are not this machine's")
        except Exception as exc:
            logger.debug("no client activity on %s: %r", display_name, exc)
            activity.close()
            return None
        return activity

    def _ask(self) -> set[int]:
        from Xlib.ext import res

        reply = self._conn.res_query_client_ids([{"client": 0, "mask": res.LocalClientPIDMask}])
        pids = {pid for entry in reply.ids for pid in entry.value}
        self._pids = tuple(sorted(pids - {self._own}))
        self._asked = time.monotonic()
        return pids

    @property
    def stale(self) -> bool:
        """Whether the list of client PIDs is due to be asked for again (once a second)."""
        return time.monotonic() - self._asked >= _REFRESH_S

    def refresh(self) -> None:
        """Ask the server for its clients again (blocking: call it in a thread)."""
        self._ask()

    def working(self, first: list[int] | None = None) -> list[int]:
        """The client PIDs (server included, restless ones left out) that are runnable now.

        `first`: the ones found runnable a moment ago. While one of them still is,
        that is the answer, without reading every other client's state again.
        """
        if first:
            still = [p for p in first if p not in self.restless and _runnable(p)]
            if still:
                return still
        return [p for p in self._pids if p not in self.restless and _runnable(p)]

    def let_go(self, pids: list[int], restless_after: int) -> None:
        """`pids` were still runnable when a wait for them reached its bound: one
        let go `restless_after` times is restless from now on."""
        for pid in pids:
            self._let_go[pid] = self._let_go.get(pid, 0) + 1
            if self._let_go[pid] >= restless_after:
                self.restless.add(pid)

    def close(self) -> None:
        """Close the X connection."""
        with contextlib.suppress(Exception):
            self._conn.close()
