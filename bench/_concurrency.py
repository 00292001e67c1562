"""Figure 4: concurrency and memory. 1, 8, 32 agents in this one process.

Configurations, interleaved (for each agent count, every configuration in turn):

- ``browser, shared``: each agent's `PlaywrightComputer` as it comes (one
  Playwright driver and one Chromium for the whole event loop, a context each).
- ``browser, own``: ``PlaywrightComputer(isolated=True)``: a Chromium per agent
  (the driver is still shared).
- ``browser, sample``: the baseline, OpenAI's CUA sample app's way: each agent
  starts its own Playwright driver and Chromium (``--disable-extensions
  --disable-file-system``), opens a page, and runs the plain loop of
  `bench._baseline` (``page.screenshot()``, blocking HTTP) in a thread of its own.
- ``browser, remote``: computers in another process: one Chromium started
  outside the runtime with a DevTools port, each agent attaching (``cdp_url``);
  its processes are left out of the memory figures (the remote machine's).
- ``desktop``: each agent's `DesktopComputer` drives its own `VirtualDisplay`
  (Xvfb + openbox) showing its own Tk app (up to ``desktop_max`` agents).

Each agent has its own scripted server process (excluded from the memory
figure). All agents run their steps at the same time; the aggregate rate is all
steps / wall time of that phase. Memory is the peak of the summed PSS (and RSS)
of this process and all its descendants, sampled every 200 ms from /proc; *per
agent* is (peak - idle) / agents, idle being the tree before any agent started.
CPU: this process's CPU time (all its threads) and the event-loop thread's own,
per step of the running phase (seconds per step = cores per step/s).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
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

__all__ = ["CONFIGS", "measure_concurrency"]

CONFIGS = ("browser, shared", "browser, own", "browser, sample", "browser, remote", "desktop")
SIZE = Size(1280, 720)
# how the OpenAI CUA sample app launches its Chromium
SAMPLE_ARGS = ["--disable-extensions", "--disable-file-system"]


@contextlib.contextmanager
def _cdp_browser() -> Iterator[tuple[str, int]]:
    """Chromium with a DevTools port, started here; yields its websocket URL and pid."""
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
        yield url, proc.pid
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


class _SampleAgents:
    """The baseline: per agent a thread with its own event loop, driver and Chromium.

    `start` returns once every agent's page is loaded; `run` lets them all go
    and returns how many completed; `close` ends the threads.
    """

    def __init__(self, n: int, url: str, base_urls: list[str]) -> None:
        self.n = n
        self.url = url
        self.base_urls = base_urls
        self.ready = threading.Barrier(n + 1)
        self.finished = threading.Barrier(n + 1)
        self.go = threading.Event()
        self.completed = 0
        self.windows: list[float] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._thread, args=(i,), daemon=True) for i in range(n)
        ]

    def _thread(self, i: int) -> None:
        try:
            asyncio.run(self._agent(i))
        except Exception as exc:
            with self._lock:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self.ready.abort()
            self.finished.abort()

    async def _agent(self, i: int) -> None:
        from playwright.async_api import async_playwright

        from bench._baseline import BrowserHands, run_baseline
        from sandbox import find_chromium

        pw = await async_playwright().start()
        try:
            browser = await pw.chromium.launch(
                executable_path=str(find_chromium()), headless=True, args=SAMPLE_ARGS
            )
            page = await (await browser.new_context()).new_page()
            await page.set_viewport_size({"width": SIZE.width, "height": SIZE.height})
            await page.goto(self.url)
            await asyncio.to_thread(self.ready.wait)
            await asyncio.to_thread(self.go.wait)
            windows = await run_baseline(
                BrowserHands(page), self.base_urls[i], (SIZE.width, SIZE.height)
            )
            with self._lock:
                self.completed += 1
                self.windows.extend(w["total"] for w in windows)
            await asyncio.to_thread(self.finished.wait)
            await browser.close()
        finally:
            await pw.stop()

    async def start(self) -> None:
        for thread in self._threads:
            thread.start()
        try:
            await asyncio.to_thread(self.ready.wait, 300)
        except threading.BrokenBarrierError:
            raise RuntimeError(f"the sample agents did not start: {self.errors}") from None

    async def run(self) -> None:
        self.go.set()
        with contextlib.suppress(threading.BrokenBarrierError):
            await asyncio.to_thread(self.finished.wait, 600)

    def close(self) -> None:
        self.go.set()
        self.ready.abort()
        self.finished.abort()
        for thread in self._threads:
            thread.join(300)


async def _one(config: str, n: int, steps: int, url: str) -> dict[str, Any]:
    from executors import DesktopComputer, PlaywrightComputer
    from sandbox import VirtualDisplay

    turns = script_turns(SIZE, steps)
    servers = [ServerProcess(turns).__enter__() for _ in range(n)]
    excluded = [s.proc.pid for s in servers if s.proc is not None]
    computers: list[Any] = []
    displays: list[Any] = []
    sample: _SampleAgents | None = None
    run_errors: list[str] = []
    with contextlib.ExitStack() as stack:
        cdp_url = None
        if config == "browser, remote":
            cdp_url, cdp_pid = stack.enter_context(_cdp_browser())
            excluded.append(cdp_pid)  # the remote computer's side
        idle_rss = tree_rss_bytes(exclude=excluded)
        idle_pss = tree_pss_bytes(exclude=excluded)
        try:
            with RssSampler(exclude=excluded) as sampler:
                t_start = time.perf_counter()
                if config == "browser, sample":
                    sample = _SampleAgents(n, url, [s.base_url for s in servers])
                    await sample.start()
                for _ in range(n if sample is None else 0):
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
                            cdp_url=cdp_url,
                            isolated=config == "browser, own",
                        )
                        computers.append(computer)
                        await computer.start()
                startup_s = time.perf_counter() - t_start
                cpu0, loop_cpu0 = time.process_time(), time.thread_time()
                t0 = time.perf_counter()
                if sample is not None:
                    await sample.run()
                    completed, windows = sample.completed, sample.windows
                    statuses = ["completed"] * completed
                else:
                    runs = await asyncio.gather(
                        *(
                            run_screenloop(c, s.base_url, steps=steps)
                            for c, s in zip(computers, servers, strict=True)
                        )
                    )
                    completed = sum(1 for r in runs if r.status == "completed")
                    statuses = sorted(r.status for r in runs)
                    run_errors = sorted(
                        {f"{r.error['type']}: {r.error['message']}" for r in runs if r.error}
                    )
                    windows = [w["total"] for r in runs for w in r.windows]
                wall = time.perf_counter() - t0
                cpu, loop_cpu = time.process_time() - cpu0, time.thread_time() - loop_cpu0
        finally:
            if sample is not None:
                sample.close()
            for computer in computers:
                with contextlib.suppress(Exception):
                    await computer.close()
            for display in displays:
                display.close()
            for server in servers:
                server.close()
    done = steps * completed
    return {
        "config": config,
        "agents": n,
        "steps_per_agent": steps,
        "completed": completed,
        "statuses": {k: statuses.count(k) for k in sorted(set(statuses))},
        "errors": sample.errors if sample is not None else run_errors,
        "steps_per_s": done / wall if wall else 0.0,
        "wall_s": wall,
        "startup_s": startup_s,
        "step_window_s": spread(windows),
        "process_cpu_per_step_s": cpu / done if done else None,
        "loop_cpu_per_step_s": loop_cpu / done if done and sample is None else None,
        "idle_rss_bytes": idle_rss,
        "peak_rss_bytes": sampler.peak,
        "peak_rss_per_agent_bytes": sampler.peak / n,
        "idle_pss_bytes": idle_pss,
        "peak_pss_bytes": sampler.peak_pss,
        "pss_per_agent_bytes": (sampler.peak_pss - idle_pss) / n,
    }


async def _run(counts: list[int], steps: int, desktop_max: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    loadavg = [list(os.getloadavg())]
    with PageServer({"/": STEP_PAGE}) as pages:
        url = pages.url("/")
        for n in counts:  # interleaved: every configuration at one count, then the next count
            for config in CONFIGS:
                if config == "desktop" and n > desktop_max:
                    continue
                log(f"concurrency: {config}, {n} agent(s) x {steps} steps")
                rows.append(await _one(config, n, steps, url))
                rows[-1]["loadavg"] = list(os.getloadavg())
    loadavg.append(list(os.getloadavg()))
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
    return {"rows": rows, "summary": summary, "cores": _cores(), "loadavg": loadavg}


def _slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of peak memory against the number of agents."""
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else None


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def measure_concurrency(counts: list[int], steps: int, desktop_max: int = 8) -> dict[str, Any]:
    """Figure 4: aggregate steps/s, CPU per step and memory per agent, per configuration."""
    return asyncio.run(_run(counts, steps, desktop_max))
