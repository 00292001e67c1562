"""Soak: 500 browser steps and 200 desktop steps against the scripted server.

Memory (RSS of this process plus every process the executor started) and
open file descriptors (this process) are sampled every 25 steps. After a
warm-up of 100 steps, growth must stay within a stated bound: RSS +150 MiB for
the browser (Chromium's caches grow in steps), +60 MiB for the desktop, open fds
+16. The curve is logged (``soak figures``) and written to the run directory
as ``soak.json`` for the report.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rel_support import API_KEY, Site, check_run_dir, children_of

from agent import Agent, AgentHooks, StepStarted
from agent.testing import ScriptedResponsesServer, computer_call, turn
from executors import DesktopComputer, PlaywrightComputer
from sandbox import VirtualDisplay

pytestmark = pytest.mark.slow
logger = logging.getLogger(__name__)
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


def rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(extra: list[int]) -> int:
    pids = {os.getpid(), *children_of(os.getpid()), *extra}
    return sum(rss(p) for p in pids)


class Sampler(AgentHooks):
    def __init__(self, every: int, extra: list[int]) -> None:
        self.every = every
        self.extra = extra
        self.samples: list[dict[str, float]] = []

    async def on_step_started(self, event: StepStarted) -> None:
        if event.step % self.every == 0 or event.step == 1:
            self.samples.append(
                {
                    "step": event.step,
                    "rss_mib": round(tree_rss(self.extra) / MIB, 1),
                    "fds": len(os.listdir("/proc/self/fd")),
                    "t": round(time.monotonic(), 2),
                }
            )


APP = Path(__file__).resolve().parent.parent / "apps" / "tk_events.py"


def wait_ready(log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and '"ready"' in log.read_text():
            return
        time.sleep(0.05)
    raise AssertionError("the Tk app never became ready")


def actions(n: int, w: int, h: int, *, browser: bool) -> list[Any]:
    kinds = [
        lambda i: computer_call("click", x=(i * 37) % w, y=(i * 53) % h),
        lambda i: computer_call("type", text=f"step {i} "),
        lambda i: computer_call("scroll", x=w // 2, y=h // 2, scroll_x=0, scroll_y=100),
        lambda i: computer_call("keypress", keys=["ctrl", "a"]),
        lambda i: computer_call("move", x=(i * 11) % w, y=(i * 7) % h),
        lambda i: computer_call("drag", path=[{"x": 10, "y": 10}, {"x": 60, "y": 80}]),
    ]
    script = [turn(kinds[i % len(kinds)](i)) for i in range(n)]
    return [*script, turn({"type": "message", "role": "assistant", "content": "soaked"})]


def check_growth(samples: list[dict[str, float]], rss_bound: float, fd_bound: int) -> str:
    warm = [s for s in samples if s["step"] >= 100]
    figures = " ".join(f"{int(s['step'])}:{s['rss_mib']}MiB/{int(s['fds'])}fd" for s in samples)
    assert len(warm) >= 3, figures
    rss_growth = max(s["rss_mib"] for s in warm) - warm[0]["rss_mib"]
    fd_growth = max(s["fds"] for s in warm) - warm[0]["fds"]
    logger.warning(
        "soak figures: %s (rss +%.1f MiB, fds +%d after step 100)", figures, rss_growth, fd_growth
    )
    assert rss_growth <= rss_bound, figures
    assert fd_growth <= fd_bound, figures
    return figures


@pytest.mark.browser
async def test_browser_500_steps(tmp_path: Path) -> None:
    n = 500
    with Site() as site:
        site.pages["/soak"] = (
            "text/html",
            "<body style='height:5000px'><input style='width:600px'><textarea></textarea>"
            "<div id=log></div><script>onclick = e => log.textContent = e.clientX</script>",
        )
        async with PlaywrightComputer(size=(800, 600), start_url=site.url("/soak")) as computer:
            sampler = Sampler(25, [])
            with ScriptedResponsesServer(actions(n, 800, 600, browser=True)) as server:
                agent = Agent(
                    computer,
                    base_url=server.base_url,
                    api_key=API_KEY,
                    coordinate_space="pixels",
                    max_steps=n + 5,
                    run_dir=tmp_path / "run",
                    hooks=sampler,
                    settle_max_s=0.5,
                )
                result = await asyncio.wait_for(agent.run("soak the browser"), 600)
    assert result.status == "completed", result.error
    _, steps = check_run_dir(tmp_path / "run", "completed")
    assert len(steps) == n + 1
    (tmp_path / "run" / "soak.json").write_text(json.dumps(sampler.samples))
    check_growth(sampler.samples, rss_bound=150, fd_bound=16)


@pytest.mark.desktop
async def test_desktop_200_steps(tmp_path: Path) -> None:
    n = 200
    log = tmp_path / "events.jsonl"
    with VirtualDisplay(800, 600) as display:
        display.launch([sys.executable, str(APP), str(log)])
        await asyncio.to_thread(wait_ready, log)
        sampler = Sampler(25, list(display.pids))
        computer = DesktopComputer(display)
        with ScriptedResponsesServer(actions(n, 800, 600, browser=False)) as server:
            agent = Agent(
                computer,
                base_url=server.base_url,
                api_key=API_KEY,
                coordinate_space="pixels",
                max_steps=n + 5,
                run_dir=tmp_path / "run",
                hooks=sampler,
                settle_max_s=0.5,
                close_computer=True,
            )
            result = await asyncio.wait_for(agent.run("soak the desktop"), 600)
    assert result.status == "completed", result.error
    _, steps = check_run_dir(tmp_path / "run", "completed")
    assert len(steps) == n + 1
    (tmp_path / "run" / "soak.json").write_text(json.dumps(sampler.samples))
    check_growth(sampler.samples, rss_bound=60, fd_bound=16)
