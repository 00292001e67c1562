"""Figure 1: step overhead, screenloop vs a typical runtime, browser and desktop.

Both sides run the same scripted actions against their own scripted server
process, interleaved step by step (lockstep baton), for several repetitions;
which side goes first alternates per repetition. The desktop pair runs in a
child process per size (pyautogui binds to one X display when imported), each
side on its own Xvfb display showing the same Tk text app.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._baseline import BrowserHands, DesktopHands, baseline_page, run_baseline
from bench._common import Baton, PageServer, ServerProcess, log, spread
from bench._workload import PHASES, STEP_PAGE, TK_APP, run_screenloop, script_turns
from executors._computer import Size

__all__ = ["measure_step_overhead", "summarize_windows"]

SIDES = ("screenloop", "baseline")


def summarize_windows(windows: list[dict[str, float]]) -> dict[str, Any]:
    """Spread of the total, of the runtime (total - settle), median of each phase."""
    return {
        "n": len(windows),
        "total_s": spread(w["total"] for w in windows),
        "runtime_s": spread(w["runtime"] for w in windows),
        "phases_median_s": {p: spread(w.get(p, 0.0) for w in windows)["median"] for p in PHASES},
        "request_bytes_median": spread(w["request_bytes"] for w in windows)["median"],
    }


async def _pair(sl_start: Any, base_start: Any, reps: int) -> dict[str, list[dict[str, float]]]:
    """Run `reps` interleaved repetitions; the side going first alternates."""
    out: dict[str, list[dict[str, float]]] = {s: [] for s in SIDES}
    for rep in range(reps):
        order = list(SIDES) if rep % 2 == 0 else list(reversed(SIDES))
        baton = Baton(order)
        sl, base = await asyncio.gather(sl_start(baton), base_start(baton))
        out["screenloop"].extend(sl)
        out["baseline"].extend(base)
    return out


async def _browser(size: Size, steps: int, reps: int) -> dict[str, list[dict[str, float]]]:
    from executors import PlaywrightComputer

    turns = script_turns(size, steps, runs=reps)
    with (
        PageServer({"/": STEP_PAGE}) as pages,
        ServerProcess(turns) as sl_srv,
        ServerProcess(turns) as base_srv,
    ):
        url = pages.url("/")
        async with baseline_page(size, url) as page:
            hands = BrowserHands(page)
            async with PlaywrightComputer(size=size, start_url=url) as computer:

                async def sl(baton: Baton) -> list[dict[str, float]]:
                    run = await run_screenloop(computer, sl_srv.base_url, steps=steps, baton=baton)
                    return run.windows

                async def base(baton: Baton) -> list[dict[str, float]]:
                    return await run_baseline(hands, base_srv.base_url, size, baton=baton)

                return await _pair(sl, base, reps)


def _wait_for_app(grab: Any, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    first = grab()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if grab() != first:
            time.sleep(0.5)
            return


async def _desktop_worker(size: Size, steps: int, reps: int) -> dict[str, list[dict[str, float]]]:
    """In a child process: two displays, screenloop on one, pyautogui on the other."""
    import mss

    from executors import DesktopComputer
    from sandbox import VirtualDisplay

    turns = script_turns(size, steps, runs=reps)
    workdir = tempfile.mkdtemp(prefix="bench-desktop-")
    os.chdir(workdir)  # pyscreeze's scrot writes its temp file into the CWD
    with (
        VirtualDisplay(size.width, size.height) as sl_display,
        VirtualDisplay(size.width, size.height) as base_display,
        ServerProcess(turns) as sl_srv,
        ServerProcess(turns) as base_srv,
    ):
        for display in (sl_display, base_display):
            display.launch([sys.executable, "-c", TK_APP])
            with mss.MSS(display=display.display) as sct:
                _wait_for_app(lambda sct=sct: bytes(sct.grab(sct.monitors[0]).bgra))
        os.environ["DISPLAY"] = base_display.display
        os.environ.setdefault("XDG_SESSION_TYPE", "x11")  # pyscreeze uses scrot only on X11
        hands = DesktopHands()
        async with DesktopComputer(sl_display) as computer:

            async def sl(baton: Baton) -> list[dict[str, float]]:
                run = await run_screenloop(computer, sl_srv.base_url, steps=steps, baton=baton)
                return run.windows

            async def base(baton: Baton) -> list[dict[str, float]]:
                return await run_baseline(hands, base_srv.base_url, size, baton=baton)

            return await _pair(sl, base, reps)


def _desktop(size: Size, steps: int, reps: int) -> dict[str, list[dict[str, float]]]:
    root = Path(__file__).resolve().parent.parent
    cmd = [
        sys.executable,
        "-m",
        "bench._step",
        f"{size.width}x{size.height}",
        str(steps),
        str(reps),
    ]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"desktop step worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def measure_step_overhead(sizes: list[Size], steps: int, reps: int) -> dict[str, Any]:
    """Figure 1 for browser and desktop at each size: raw windows and summaries."""
    results: dict[str, Any] = {}
    for env in ("browser", "desktop"):
        for size in sizes:
            key = f"{env} {size.width}x{size.height}"
            log(f"step overhead: {key}, {reps} reps x {steps} steps, interleaved")
            if env == "browser":
                raw = asyncio.run(_browser(size, steps, reps))
            else:
                raw = _desktop(size, steps, reps)
            summary = {side: summarize_windows(raw[side]) for side in SIDES}
            sl = summary["screenloop"]["runtime_s"]["median"]
            base = summary["baseline"]["runtime_s"]["median"]
            target = 1 / 3 if env == "browser" else 1 / 5
            results[key] = {
                "environment": env,
                "size": list(size),
                "steps_per_run": steps,
                "reps": reps,
                "summary": summary,
                "ratio_runtime_median": sl / base if base else None,
                "target_ratio": target,
                "target_met": bool(base and sl / base <= target),
                "windows": raw,
            }
    return results


if __name__ == "__main__":
    w, h = (int(v) for v in sys.argv[1].split("x"))
    print(json.dumps(asyncio.run(_desktop_worker(Size(w, h), int(sys.argv[2]), int(sys.argv[3])))))
