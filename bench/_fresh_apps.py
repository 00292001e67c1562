"""Figure 6b: freshness on real Debian X programs (`bench._xapps`), as is and under a CPU hog.

Each side gets its own Xvfb display running the program and takes turns with
the others step by step (the side going first rotates every step). A step is
the action, then the side's wait, then a screenshot; fresh is judged on the
screenshot's pixels (`XApp.fresh`). Sides:

- **screenloop**: `DesktopComputer` as configured (X DAMAGE settle);
- **screenloop-grabs**: the settle before DAMAGE (grab comparison, no floor);
- **baseline**: act with xdotool, then ``scrot`` at once (Anthropic's tool
  without its sleeps, as in figure 6).

Per step: fresh, the step's time (action start to screenshot taken; no model,
no HTTP: the executor's part of a step), and for screenloop the settle's own
record: its response window, whether that window stood at its ceiling, how
long it waited for a runnable program, and whether it ran into ``max_wait``.

Loads: ``plain``; ``hog``, two processes spinning, one per core, for the whole
block; ``starved``, the programs pinned to CPU 1 beside a real-time spinner
that takes that CPU for 0.4 s at random times (0.2-0.8 s apart), while the
bench and the X servers run on CPU 0: a machine busy in bursts, where an app
now and then answers 0.4 s late although it answered at once a step before.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

from bench._baseline import NaiveDesktopHands
from bench._common import log, spread
from bench._xapps import XAPPS, XApp, client_origin

__all__ = ["CpuStarver", "cpu_hog", "cpu_starver", "measure_fresh_apps"]

SIDES = ("screenloop", "screenloop-grabs", "baseline")
_GRABS = {"change_notification": False, "min_response_s": 0.0}
_SETTLE_MAX_S = 2.0


@contextlib.contextmanager
def cpu_hog(on: bool) -> Iterator[None]:
    """Spinning processes, one per core, while the block runs (nothing when off)."""
    hogs = (
        [
            subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(max(2, os.cpu_count() or 2))
        ]
        if on
        else []
    )
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()


# Spins on one CPU at real-time priority for 0.4 s per line it reads: whatever else
# is pinned to that CPU does not run meanwhile
_STARVER = """
import os, sys, time
os.sched_setaffinity(0, {%d})
os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
print("ready", flush=True)
for line in sys.stdin:
    t = time.monotonic()
    while time.monotonic() - t < 0.4:
        pass
"""


class CpuStarver:
    """A real-time spinner on one CPU; `burst` takes that CPU for 0.4 s."""

    def __init__(self, proc: subprocess.Popen[str], cpu: int) -> None:
        self.proc = proc
        self.cpu = cpu

    def burst(self) -> None:
        """Keep every other process pinned to the CPU off it for the next 0.4 s."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def pin(self, pid: int) -> None:
        """Pin every thread of process `pid` to the starver's CPU."""
        for tid in os.listdir(f"/proc/{pid}/task"):
            os.sched_setaffinity(int(tid), {self.cpu})


@contextlib.contextmanager
def cpu_starver(cpu: int = 1) -> Iterator[CpuStarver | None]:
    """A `CpuStarver` on `cpu` while the block runs; None where real-time scheduling
    is refused (not root, no CAP_SYS_NICE) or the machine has no such CPU."""
    if cpu not in os.sched_getaffinity(0):
        yield None
        return
    proc = subprocess.Popen(
        [sys.executable, "-c", _STARVER % cpu],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield CpuStarver(proc, cpu) if proc.stdout.readline().strip() == "ready" else None
    finally:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def _bursts(starver: CpuStarver) -> Iterator[None]:
    """Bursts at random times (0.2-0.8 s after the last one ended) while the block runs."""
    stop = threading.Event()
    rng = random.Random(6)

    def run() -> None:
        while not stop.wait(0.4 + rng.uniform(0.2, 0.8)):
            starver.burst()

    thread = threading.Thread(target=run, name="bench-starver-bursts", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextlib.contextmanager
def _load(load: str) -> Iterator[CpuStarver | None]:
    """The block's load; for ``starved`` the starver (None: not possible here)."""
    if load == "starved":
        before = os.sched_getaffinity(0)
        with cpu_starver() as starver:
            if starver is None:
                yield None
                return
            os.sched_setaffinity(0, before - {starver.cpu})  # the X servers and the bench
            try:
                with _bursts(starver):
                    yield starver
            finally:
                os.sched_setaffinity(0, before)
        return
    with cpu_hog(load == "hog"):
        yield None


class _ComputerSide:
    """A screenloop side: act on a `DesktopComputer`, settle, screenshot."""

    def __init__(self, computer: Any) -> None:
        self.computer = computer

    async def step(self, action: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
        c = self.computer
        if action["type"] == "type":
            await c.type(action["text"])
        elif action["type"] == "click":
            await c.click(action["x"], action["y"])
        else:
            await c.keypress(action["keys"])
        result = await c.settle(_SETTLE_MAX_S)
        shot = await c.screenshot()
        return shot.data, {
            "settle_s": result.waited_s,
            # (getattr: the same bench measures code from before these fields existed)
            "window_s": getattr(result, "window_s", None),
            "at_ceiling": getattr(result, "at_ceiling", None),
            "working_s": getattr(result, "working_s", None),
            "max_wait": not result.stable,
        }


class _NaiveSide:
    """The baseline: xdotool, then scrot at once."""

    def __init__(self, hands: NaiveDesktopHands) -> None:
        self.hands = hands

    async def step(self, action: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
        await self.hands.act(action)
        png, _ = await self.hands.capture()
        return png, {}


async def _block(
    app: XApp, steps: int, size: tuple[int, int], workdir: str, starver: CpuStarver | None = None
) -> list[dict]:
    from executors import DesktopComputer
    from sandbox import VirtualDisplay

    trials: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        displays, origins = {}, {}
        for name in SIDES:
            display = stack.enter_context(VirtualDisplay(*size))
            proc = display.launch(list(app.argv))
            if starver is not None:
                starver.pin(proc.pid)
            displays[name] = display
        for name in SIDES:
            origins[name] = await client_origin(displays[name].display, app.window_class)
        async with (
            DesktopComputer(displays["screenloop"]) as computer,
            DesktopComputer(displays["screenloop-grabs"], **_GRABS) as today,
        ):
            sides: dict[str, Any] = {
                "screenloop": _ComputerSide(computer),
                "screenloop-grabs": _ComputerSide(today),
                "baseline": _NaiveSide(NaiveDesktopHands(displays["baseline"].display, workdir)),
            }
            # the program has drawn its window: each side starts from a still screen
            await asyncio.gather(computer.settle(_SETTLE_MAX_S), today.settle(_SETTLE_MAX_S))
            await asyncio.sleep(0.5)  # the baseline's program too (it has no settle)
            for i in range(1, steps + 1):
                order = SIDES[i % len(SIDES) :] + SIDES[: i % len(SIDES)]
                for name in order:
                    t0 = time.monotonic()
                    png, record = await sides[name].step(app.action(i, origins[name]))
                    trials.append(
                        {
                            "side": name,
                            "step": i,
                            "fresh": app.fresh(png, origins[name], i),
                            "step_s": time.monotonic() - t0,
                            **record,
                        }
                    )
    return trials


def _summarize(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    keys = sorted({(t["app"], t["load"]) for t in trials}, key=lambda k: (k[1], k[0]))
    for app, load in keys:
        for side in SIDES:
            sel = [t for t in trials if (t["app"], t["load"], t["side"]) == (app, load, side)]
            n = len(sel)
            rows.append(
                {
                    "app": app,
                    "load": load,
                    "side": side,
                    "n": n,
                    "fresh": sum(t["fresh"] for t in sel),
                    "fresh_pct": 100.0 * sum(t["fresh"] for t in sel) / n if n else None,
                    "step_s": spread(t["step_s"] for t in sel),
                    "at_ceiling": sum(bool(t.get("at_ceiling")) for t in sel),
                    "working": sum(bool(t.get("working_s")) for t in sel),
                    "max_wait": sum(bool(t.get("max_wait")) for t in sel),
                }
            )
    return rows


def measure_fresh_apps(
    apps: list[str] | None = None,
    loads: list[str] | None = None,
    steps: int = 8,
    reps: int = 1,
    size: list[int] | None = None,
) -> dict[str, Any]:
    """Figure 6b: fresh screenshots and step time on real X programs, per side and load."""
    width, height = size or [800, 600]
    trials: list[dict[str, Any]] = []
    loadavg: list[float] = []
    workdir = tempfile.mkdtemp(prefix="bench-fresh-apps-")
    for load in loads or ["plain", "hog", "starved"]:
        for name in apps or list(XAPPS):
            for rep in range(reps):
                with _load(load) as starver:
                    if load == "starved" and starver is None:
                        log("fresh-apps: no real-time scheduling here: no starved rows")
                        break
                    block = asyncio.run(
                        _block(XAPPS[name], steps, (width, height), workdir, starver)
                    )
                for t in block:
                    t.update(app=name, load=load, rep=rep)
                trials += block
                loadavg.append(os.getloadavg()[0])
                log(f"fresh-apps: {name} {load} rep {rep} done (load {loadavg[-1]:.1f})")
    return {"sides": list(SIDES), "rows": _summarize(trials), "loadavg": loadavg, "trials": trials}
