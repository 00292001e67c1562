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
record: its response window, whether that window stood at its ceiling, and
whether it ran into ``max_wait``. Under ``hog`` two processes spin, one per
core, for the whole block.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from bench._baseline import NaiveDesktopHands
from bench._common import log, spread
from bench._xapps import XAPPS, XApp, client_origin

__all__ = ["measure_fresh_apps"]

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


async def _block(app: XApp, steps: int, size: tuple[int, int], workdir: str) -> list[dict]:
    from executors import DesktopComputer
    from sandbox import VirtualDisplay

    trials: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        displays, origins = {}, {}
        for name in SIDES:
            display = stack.enter_context(VirtualDisplay(*size))
            display.launch(list(app.argv))
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
    for load in loads or ["plain", "hog"]:
        for name in apps or list(XAPPS):
            for rep in range(reps):
                with cpu_hog(load == "hog"):
                    block = asyncio.run(_block(XAPPS[name], steps, (width, height), workdir))
                for t in block:
                    t.update(app=name, load=load, rep=rep)
                trials += block
                loadavg.append(os.getloadavg()[0])
                log(f"fresh-apps: {name} {load} rep {rep} done (load {loadavg[-1]:.1f})")
    return {"sides": list(SIDES), "rows": _summarize(trials), "loadavg": loadavg, "trials": trials}
