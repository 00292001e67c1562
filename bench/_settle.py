"""Figure 2: settle. How long after the screen truly became stable is the screenshot taken?

The page: a click starts a change on every animation frame (a box cycles through
reds and blues, a counter counts) until `delay` ms have passed, then paints the
box green once and records that moment (``performance.timeOrigin + now()``, the
same wall clock as Python's ``time.time()``). Delay 0 paints green in the click
handler itself.

screenloop: a real `Agent.run` (click -> settle -> screenshot) through a thin
wrapper that stamps each ``screenshot()`` call. Fixed delays: click, sleep 0.5 s
or 2 s, ``page.screenshot()``. Lateness = screenshot call - stable moment;
negative means early. Every capture is also checked by content: the box must
be green, otherwise the screen was captured while still changing.
"""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

from agent.testing import computer_call, message
from bench._common import PageServer, ServerProcess, log, spread
from bench._workload import run_screenloop
from executors._computer import Screenshot, Size

__all__ = ["measure_settle"]

FRAME_S = 1 / 60

SETTLE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>bench: settle</title>
<style>body{margin:0;font:20px sans-serif}
#box{position:absolute;left:40px;top:40px;width:300px;height:200px;background:rgb(0,200,0)}
#go{position:absolute;left:400px;top:40px;width:200px;height:60px}
#n{position:absolute;left:40px;top:260px}</style></head>
<body><div id="box"></div><button id="go">go</button><div id="n">0</div>
<script>
 window.__delay = 0; window.__stable = [];
 const box = document.getElementById('box'), n = document.getElementById('n');
 const done = () => {
   box.style.background = 'rgb(0,200,0)';
   window.__stable.push(performance.timeOrigin + performance.now());
 };
 document.getElementById('go').addEventListener('click', () => {
   const start = performance.now(), delay = window.__delay;
   if (delay <= 0) { done(); return; }
   let frame = 0;
   const tick = () => {
     frame++;
     if (performance.now() - start >= delay) { done(); return; }
     box.style.background = frame % 2 ? 'rgb(220,0,' + (frame * 7 % 256) + ')'
                                      : 'rgb(0,0,' + (120 + frame * 5 % 136) + ')';
     n.textContent = String(frame);
     requestAnimationFrame(tick);
   };
   box.style.background = 'rgb(220,0,0)';
   requestAnimationFrame(tick);
 });
</script></body></html>
"""

BOX = (190, 140)  # a pixel inside the box
BUTTON = (500, 70)


def _is_green(png: bytes) -> bool:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        r, g, b = image.convert("RGB").getpixel(BOX)
    return g > 150 and r < 60 and b < 60


class _StampingComputer:
    """Delegates to a computer; records the wall time of every ``screenshot()`` call."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.shots: list[tuple[float, Screenshot]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def screenshot(self) -> Screenshot:
        t = time.time()
        shot = await self._inner.screenshot()
        self.shots.append((t, shot))
        return shot


async def _run(delays: list[int], fixed: list[float], reps: int) -> dict[str, Any]:
    from executors import PlaywrightComputer

    size = Size(1280, 720)
    turns: list[dict[str, Any]] = []
    for _ in range(reps * len(delays)):
        turns.append({"output": [computer_call("click", x=BUTTON[0], y=BUTTON[1])]})
        turns.append({"output": [message("done")]})
    trials: list[dict[str, Any]] = []
    with PageServer({"/": SETTLE_PAGE}) as pages, ServerProcess(turns) as srv:
        async with PlaywrightComputer(size=size, start_url=pages.url("/")) as computer:
            stamping = _StampingComputer(computer)
            page = computer.page
            for rep in range(reps):
                for delay in delays:
                    await page.evaluate(f"window.__delay = {delay}; window.__stable = []")
                    stamping.shots.clear()
                    run = await run_screenloop(stamping, srv.base_url, steps=1, record=False)
                    stable = await page.evaluate("window.__stable")
                    t_shot, shot = stamping.shots[-1]
                    settle_s = run.windows[0]["settle"] if run.windows else float("nan")
                    trials.append(
                        _trial("screenloop", delay, rep, t_shot, stable, shot.data, settle_s)
                    )
                    for wait_s in fixed:
                        await page.evaluate(f"window.__delay = {delay}; window.__stable = []")
                        await page.mouse.click(*BUTTON)
                        await asyncio.sleep(wait_s)
                        t_shot = time.time()
                        png = await page.screenshot()
                        # the changes may still be running: wait for the stable stamp
                        await page.wait_for_function("window.__stable.length > 0")
                        stable = await page.evaluate("window.__stable")
                        trials.append(
                            _trial(f"fixed {wait_s:g} s", delay, rep, t_shot, stable, png, wait_s)
                        )
    return _summarize(trials, delays)


def _trial(
    method: str,
    delay: int,
    rep: int,
    t_shot: float,
    stable: list[float],
    png: bytes,
    waited_s: float,
) -> dict[str, Any]:
    stable_at = stable[-1] / 1000 if stable else float("nan")
    return {
        "method": method,
        "delay_ms": delay,
        "rep": rep,
        "late_s": t_shot - stable_at,
        "captured_stable": _is_green(png),
        "waited_s": waited_s,
    }


def _summarize(trials: list[dict[str, Any]], delays: list[int]) -> dict[str, Any]:
    rows = []
    for method in dict.fromkeys(t["method"] for t in trials):
        for delay in delays:
            sel = [t for t in trials if t["method"] == method and t["delay_ms"] == delay]
            late = spread(t["late_s"] for t in sel)
            rows.append(
                {
                    "method": method,
                    "delay_ms": delay,
                    "late_s": late,
                    "late_frames_median": late["median"] / FRAME_S,
                    "late_frames_max": max(t["late_s"] for t in sel) / FRAME_S,
                    "early_or_unstable": sum(
                        1 for t in sel if not t["captured_stable"] or t["late_s"] < 0
                    ),
                    "n": len(sel),
                }
            )
    sl = [r for r in rows if r["method"] == "screenloop"]
    return {
        "rows": rows,
        "trials": trials,
        "target": "screenloop <= 2 frames late (median), never early / never a changing screen",
        "target_met_median_2_frames": all(r["late_frames_median"] <= 2.0 for r in sl),
        "target_met_never_early": all(r["early_or_unstable"] == 0 for r in sl),
    }


def measure_settle(delays: list[int], fixed: list[float], reps: int) -> dict[str, Any]:
    """Figure 2: lateness of screenloop's settled capture vs fixed sleeps."""
    log(f"settle: delays {delays} ms, fixed {fixed} s, {reps} reps")
    return asyncio.run(_run(delays, fixed, reps))
