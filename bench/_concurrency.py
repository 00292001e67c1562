"""Figure 4: concurrency and memory. 1, 2, 4, 8 agents in this one process.

- ``browser, shared``: one Chromium started here with a CDP port; each agent's
  `PlaywrightComputer` attaches (``cdp_url``) and gets its own context.
- ``browser, own``: each agent's `PlaywrightComputer` launches its own Chromium.
- ``desktop``: each agent's `DesktopComputer` drives its own `VirtualDisplay`
  (Xvfb + openbox) showing its own Tk app, all in this one process.

Each agent has its own scripted server process (excluded from the memory
figure). All agents run their steps at the same time (asyncio.gather); the
aggregate rate is all steps / wall time of that phase. Memory is the peak of
the summed RSS of this process and all its descendants (Playwright drivers,
Chromium and its renderers, Xvfb, openbox, Tk apps), sampled every 100 ms from
/proc; shared pages count once per process, so it is an upper bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench._common import (
    PageServer,
    RssSampler,
    ServerProcess,
    log,
    spread,
    tree_pss_bytes,
    tree_rss_bytes,
)
from bench._workload import STEP_PAGE, TK_APP, run_screenloop, script_turns
from executors._computer import Size

__all__ = ["measure_concurrency"]

CONFIGS = ("browser, shared", "browser, own", "desktop")
SIZE = Size(1280, 720)


@contextlib.contextmanager
def _cdp_browser() -> Any:
    """Chromium with a DevTools port, started here; yields its websocket URL."""
    from sandbox import chromium_args, find_chromium

    profile = tempfile.mkdtemp(prefix="bench-chromium-")
    args = [
        str(find_chromium()),
        *chromium_args(),
        "--headless=new",
        "--no-sandbox",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        url = None
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            match = re.search(r"DevTools listening on (ws://\S+)", line)
            if match:
                url = match.group(1)
                break
        if url is None:
            raise RuntimeError("Chromium did not report its DevTools URL")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


async def _wait_for_app(computer: Any, timeout_s: float = 15.0) -> None:
    first = (await computer.screenshot()).data
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        if (await computer.screenshot()).data != first:
            await asyncio.sleep(0.3)
            return


async def _one(config: str, n: int, steps: int, url: str, cdp_url: str | None) -> dict[str, Any]:
    from executors import DesktopComputer, PlaywrightComputer
    from sandbox import VirtualDisplay

    turns = script_turns(SIZE, steps)
    servers = [ServerProcess(turns).__enter__() for _ in range(n)]
    server_pids = [s.proc.pid for s in servers if s.proc is not None]
    idle_rss = tree_rss_bytes(exclude=server_pids)
    idle_pss = tree_pss_bytes(exclude=server_pids)
    computers: list[Any] = []
    displays: list[Any] = []
    try:
        with RssSampler(exclude=server_pids) as sampler:
            t_start = time.perf_counter()
            for _ in range(n):
                if config == "desktop":
                    display = VirtualDisplay(SIZE.width, SIZE.height).start()
                    displays.append(display)
                    display.launch([sys.executable, "-c", TK_APP])
                    desktop = DesktopComputer(display)
                    await desktop.start()
                    computers.append(desktop)
                    await _wait_for_app(desktop)
                else:
                    computer = PlaywrightComputer(
                        size=SIZE,
                        start_url=url,
                        cdp_url=cdp_url if config == "browser, shared" else None,
                    )
                    computers.append(computer)
                    await computer.start()
            startup_s = time.perf_counter() - t_start
            t0 = time.perf_counter()
            runs = await asyncio.gather(
                *(
                    run_screenloop(c, s.base_url, steps=steps)
                    for c, s in zip(computers, servers, strict=True)
                )
            )
            wall = time.perf_counter() - t0
    finally:
        for computer in computers:
            with contextlib.suppress(Exception):
                await computer.close()
        for display in displays:
            display.close()
        for server in servers:
            server.close()
    done = steps * sum(1 for r in runs if r.status == "completed")
    windows = [w["total"] for r in runs for w in r.windows]
    return {
        "config": config,
        "agents": n,
        "steps_per_agent": steps,
        "completed": sum(1 for r in runs if r.status == "completed"),
        "steps_per_s": done / wall if wall else 0.0,
        "wall_s": wall,
        "startup_s": startup_s,
        "step_window_s": spread(windows),
        "idle_rss_bytes": idle_rss,
        "peak_rss_bytes": sampler.peak,
        "peak_rss_per_agent_bytes": sampler.peak / n,
        "idle_pss_bytes": idle_pss,
        "peak_pss_bytes": sampler.peak_pss,
    }


async def _run(counts: list[int], steps: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    with PageServer({"/": STEP_PAGE}) as pages:
        url = pages.url("/")
        for config in CONFIGS:
            for n in counts:
                log(f"concurrency: {config}, {n} agent(s) x {steps} steps")
                if config == "browser, shared":
                    with _cdp_browser() as cdp_url:
                        rows.append(await _one(config, n, steps, url, cdp_url))
                else:
                    rows.append(await _one(config, n, steps, url, None))
    summary: dict[str, Any] = {}
    for config in CONFIGS:
        sel = sorted((r for r in rows if r["config"] == config), key=lambda r: r["agents"])
        if not sel:
            continue
        one = sel[0]
        summary[config] = {
            "scaling_vs_1": {
                str(r["agents"]): r["steps_per_s"] / one["steps_per_s"] if one["steps_per_s"] else 0
                for r in sel
            },
            "rss_per_additional_agent_bytes": _slope(
                [(r["agents"], r["peak_rss_bytes"]) for r in sel]
            ),
            "pss_per_additional_agent_bytes": _slope(
                [(r["agents"], r["peak_pss_bytes"]) for r in sel]
            ),
        }
    return {"rows": rows, "summary": summary, "cores": _cores()}


def _slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of peak RSS against the number of agents."""
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else None


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def measure_concurrency(counts: list[int], steps: int) -> dict[str, Any]:
    """Figure 4: aggregate steps/s and peak RSS for 1..N agents in each configuration."""
    return asyncio.run(_run(counts, steps))
