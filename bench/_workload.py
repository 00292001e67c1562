"""The workload every step benchmark runs: a page / a desktop app, a cycle of actions,
the scripted turns that ask for them, and screenloop's side of a run with its
per-step window split into phases.

A *step window* is the time from response n arriving (fully read) to response
n+1 arriving, with a zero-latency scripted model: everything the runtime does
between two model answers, HTTP included, minus any time spent waiting for
another runner's turn (lockstep interleaving, see `bench._common.Baton`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent import Agent
from agent.testing import computer_call, message
from bench._common import Baton, BatonHooks, TimedClient
from executors._computer import Computer, Size

__all__ = [
    "PHASES",
    "STEP_PAGE",
    "TK_APP",
    "action_cycle",
    "phase_windows",
    "run_screenloop",
    "script_turns",
]

PHASES = (
    "parse",
    "safety",
    "action",
    "settle",
    "capture",
    "encode",
    "build",
    "serialize",
    "http",
    "record",
    "other",
)

STEP_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>bench: step page</title>
<style>
 body { margin: 0; font: 15px/1.5 sans-serif; color: #222; background: #f6f7f9; }
 header { height: 56px; background: #202124; color: #fff; padding: 0 24px; line-height: 56px; }
 #q { position: absolute; left: 40px; top: 80px; width: 520px; height: 36px; font-size: 16px; }
 main { position: absolute; left: 40px; top: 140px; right: 40px; }
 .card { background: #fff; border: 1px solid #ddd; margin: 0 0 12px; padding: 10px 14px; }
 .card b { color: #1a73e8; }
</style></head>
<body>
<header>Pebble &amp; Pine - bench page</header>
<input id="q" placeholder="Search products">
<main id="list"></main>
<script>
 const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor'
   .split(' ');
 const list = document.getElementById('list');
 let seed = 7;
 const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
 for (let i = 0; i < 60; i++) {
   const d = document.createElement('div');
   d.className = 'card';
   let text = '';
   for (let k = 0; k < 30; k++) text += words[Math.floor(rnd() * words.length)] + ' ';
   d.innerHTML = '<b>Item ' + i + '</b> - $' + (rnd() * 100).toFixed(2) + '<br>' + text;
   list.appendChild(d);
 }
</script>
</body></html>
"""

TK_APP = """
import tkinter as tk
root = tk.Tk()
w, h = root.winfo_screenwidth(), root.winfo_screenheight()
root.geometry(f"{w}x{h}+0+0")
root.attributes("-fullscreen", True)
text = tk.Text(root, font=("DejaVu Sans", 11), wrap="word")
text.pack(fill="both", expand=True)
words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor".split()
for i in range(300):
    line = " ".join(words[(i + k) % len(words)] for k in range(18))
    text.insert("end", f"line {i}: {line}\\n")
text.mark_set("insert", "1.0")
text.focus_force()
root.mainloop()
"""


def action_cycle(size: Size) -> list[dict[str, Any]]:
    """Five actions in screen pixels, repeated: click, type, key, scroll down, scroll up."""
    cx, cy = size.width // 2, size.height // 2
    return [
        {"type": "click", "button": "left", "x": 200, "y": 98},
        {"type": "type", "text": "hello world"},
        {"type": "keypress", "keys": ["BACKSPACE"]},
        {"type": "scroll", "x": cx, "y": cy, "scroll_x": 0, "scroll_y": 300},
        {"type": "scroll", "x": cx, "y": cy, "scroll_x": 0, "scroll_y": -300},
    ]


def script_turns(size: Size, steps: int, runs: int = 1) -> list[dict[str, Any]]:
    """`runs` runs of `steps` computer calls (cycling `action_cycle`) each ending in a message."""
    cycle = action_cycle(size)
    turns: list[dict[str, Any]] = []
    for _ in range(runs):
        for i in range(steps):
            action = dict(cycle[i % len(cycle)])
            kind = action.pop("type")
            turns.append({"output": [computer_call(kind, **action)]})
        turns.append({"output": [message("done")]})
    return turns


def phase_windows(
    client: TimedClient, steps: list[Any], paused: dict[int, float]
) -> list[dict[str, float]]:
    """One dict of phase seconds (and ``total``, ``runtime``) per step window.

    Window n runs from response n arriving to response n+1 arriving: step n's
    parse .. record, then step n+1's request build, serialize and HTTP.
    """
    calls = client.calls
    out: list[dict[str, float]] = []
    for n in range(1, len(calls)):
        if n >= len(steps):
            break
        prev, nxt = calls[n - 1], calls[n]
        t_prev, t_next = steps[n - 1].timings, steps[n].timings
        if not steps[n - 1].actions:
            continue
        total = nxt.recv - prev.recv - paused.get(n + 1, 0.0)
        w = {
            "parse": (prev.ret - prev.recv) + t_prev.get("parse_s", 0.0),
            "safety": t_prev.get("safety_s", 0.0),
            "action": t_prev.get("action_s", 0.0),
            "settle": t_prev.get("settle_s", 0.0),
            "capture": t_prev.get("capture_s", 0.0),
            "encode": t_prev.get("encode_s", 0.0),
            "record": t_prev.get("record_s", 0.0),
            "build": t_next.get("request_build_s", 0.0),
            "serialize": nxt.send - nxt.call,
            "http": nxt.recv - nxt.send,
        }
        w["other"] = total - sum(w.values())
        w["total"] = total
        w["runtime"] = total - w["settle"]
        w["request_bytes"] = float(nxt.request_bytes)
        w["step"] = float(n)
        out.append(w)
    return out


@dataclass
class ScreenloopRun:
    """What one screenloop run measured."""

    windows: list[dict[str, float]]
    status: str
    request_bytes: list[int]
    error: dict[str, str] | None = None


async def run_screenloop(
    computer: Computer,
    base_url: str,
    *,
    steps: int,
    baton: Baton | None = None,
    name: str = "screenloop",
    history: str = "server",
    keep_screenshots: int = 3,
    run_dir: Path | None = None,
    record: bool = True,
    keepalive_s: float | None = None,
) -> ScreenloopRun:
    """One `Agent.run` of `steps` scripted actions; its step windows in phases."""
    client = TimedClient(base_url, keepalive_s)
    hooks = BatonHooks(baton=baton, name=name)
    tmp = None
    if record and run_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-run-")
        run_dir = Path(tmp.name) / "run"
    try:
        agent = Agent(
            computer,
            model="bench-model",
            client=client,
            provider="custom",
            max_steps=steps + 1,
            history=history,  # type: ignore[arg-type]
            keep_screenshots=keep_screenshots,
            run_dir=run_dir,
            record=record,
            hooks=hooks,
        )
        if baton is not None:
            await baton.acquire(name)
        try:
            result = await agent.run("bench: follow the script")
        finally:
            if baton is not None:
                await baton.leave(name)
        windows = phase_windows(client, result.steps, hooks.paused)
        return ScreenloopRun(
            windows, result.status, [c.request_bytes for c in client.calls], result.error
        )
    finally:
        await client.aclose()
        if tmp is not None:
            tmp.cleanup()
