"""Hosted computers: 1, 8, 32 agents in this process driving serve-computers in another.

    python -m bench.hosted                  # 1, 8, 32 agents x 8 steps, desktop sessions
    python -m bench.hosted --kind browser   # Chromium sessions instead of Xvfb ones
    python -m bench.hosted --smoke          # 1 agent x 2 steps (tests/test_bench_hosted_smoke.py)

The computers live in a ``screenloop serve-computers`` child process (each
session its own Xvfb or Chromium); each agent's model is a zero-latency
scripted Responses server in a child process of its own (bench/_server_main.py).
So this process holds only the loops: its CPU time per step and its memory
are the cost of screenloop's loop apart from the computers and the model.

Two sides, interleaved (the order alternates each repetition), on the same
sessions and the same scripts, after one unmeasured warm-up step of each:

- ``screenloop``: `Agent` + `LightconeComputer` (official SDK, one batch per
  turn), recording a run directory, as `screenloop run --computer lightcone`.
- ``baseline``: a bare loop, the least a runtime can do: POST the request with
  httpx, take the computer_call, send its action and a screenshot in one SDK
  batch, put the base64 image in the next request. No validation, no record.

Per side and agent count: aggregate steps/s (all steps / wall time), this
process's CPU seconds per step (`time.process_time`), its peak RSS (children
excluded), and the serve-computers tree's peak RSS (the computers' cost, for
scale). Nothing here is a test; numbers under load are upper bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._common import RssSampler, ServerProcess, log, md_table, tree_rss_bytes
from bench._workload import run_screenloop, script_turns
from executors._computer import Size

__all__ = ["main", "measure_hosted"]

SIZE = Size(1280, 720)
ROOT = Path(__file__).resolve().parent.parent


class ComputersProcess:
    """``screenloop serve-computers`` as a child process; its origin and key."""

    def __init__(self, max_sessions: int) -> None:
        self.key = "bench-" + secrets.token_hex(8)
        env = {**os.environ, "SCREENLOOP_COMPUTERS_KEY": self.key}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agent", "serve-computers", "--max-sessions", str(max_sessions)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=str(ROOT),
        )
        assert self.proc.stdout is not None
        self.origin = self.proc.stdout.readline().strip()
        if not self.origin.startswith("http://"):
            self.close()
            raise RuntimeError(f"serve-computers did not start (said {self.origin!r})")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def _baseline_agent(
    client: Any, session_id: str, base_url: str, steps: int, environment: str
) -> int:
    """The bare loop; returns the steps it did."""
    import base64

    import httpx

    async def shot(actions: list[dict[str, Any]]) -> str:
        answer = await client.computers.batch(
            session_id, actions=[*actions, {"type": "screenshot", "base64": True}]
        )
        return str(answer["results"][-1]["result"]["base64"])

    done = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        image = await shot([])
        previous: str | None = None
        call_id: str | None = None
        for _ in range(steps + 1):
            url = f"data:image/png;base64,{image}"
            if call_id is None:
                item: dict[str, Any] = {
                    "type": "message",
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "bench"},
                        {"type": "input_image", "image_url": url},
                    ],
                }
            else:
                item = {
                    "type": "computer_call_output",
                    "call_id": call_id,
                    "output": {"type": "input_image", "image_url": url},
                }
            body: dict[str, Any] = {
                "model": "bench-model",
                "input": [item],
                "tools": [{"type": "computer_use", "display_width": SIZE.width,
                           "display_height": SIZE.height, "environment": environment}],
            }  # fmt: skip
            if previous:
                body["previous_response_id"] = previous
            response = (await http.post("/responses", json=body)).json()
            previous = response["id"]
            calls = [o for o in response["output"] if o["type"] == "computer_call"]
            if not calls:
                return done
            call_id = calls[0]["call_id"]
            image = await shot([_to_lightcone(calls[0]["action"])])
            done += 1
        base64.b64decode(image)
    return done


def _to_lightcone(action: dict[str, Any]) -> dict[str, Any]:
    """A scripted action (in pixels: "bench-model" is no Northstar) as a Computers API action."""
    kind = action["type"]
    x, y = action.get("x", 0), action.get("y", 0)
    if kind == "click":
        return {"type": "click", "x": x, "y": y}
    if kind == "type":
        return {"type": "type", "text": action["text"]}
    if kind == "keypress":
        return {"type": "keypress", "keys": ["Backspace"]}
    if kind == "scroll":
        return {"type": "scroll", "x": x, "y": y, "dx": 0, "dy": action["scroll_y"]}
    return {"type": "wait", "ms": 0}


async def _phase(
    side: str, kind: str, origin: str, key: str, ids: list[str], steps: int, exclude: list[int]
) -> dict[str, Any]:
    from tzafon import AsyncLightcone

    from executors import LightconeComputer

    servers = [ServerProcess(script_turns(SIZE, steps)).__enter__() for _ in ids]
    exclude = exclude + [s.proc.pid for s in servers if s.proc is not None]
    client = AsyncLightcone(api_key=key, base_url=origin, max_retries=0, timeout=300)
    computers: list[LightconeComputer] = []
    try:
        with RssSampler(exclude=exclude) as sampler:
            cpu0, t0 = time.process_time(), time.perf_counter()
            if side == "screenloop":
                for session_id in ids:
                    computer = LightconeComputer(
                        computer_id=session_id, client=client, size=SIZE, keepalive_s=None
                    )
                    await computer.start()
                    computers.append(computer)
                runs = await asyncio.gather(
                    *(
                        run_screenloop(c, s.base_url, steps=steps)
                        for c, s in zip(computers, servers, strict=True)
                    )
                )
                done = steps * sum(1 for r in runs if r.status == "completed")
            else:
                counts = await asyncio.gather(
                    *(
                        _baseline_agent(client, i, s.base_url, steps, kind)
                        for i, s in zip(ids, servers, strict=True)
                    )
                )
                done = sum(counts)
            wall = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
    finally:
        for computer in computers:
            await computer.close()
        await client.close()
        for server in servers:
            server.close()
    return {
        "side": side,
        "agents": len(ids),
        "steps": done,
        "steps_per_s": done / wall if wall else 0.0,
        "cpu_s_per_step": cpu / done if done else None,
        "wall_s": wall,
        "peak_rss_bytes": sampler.peak,
    }


async def _run(counts: list[int], steps: int, reps: int, kind: str) -> dict[str, Any]:
    from tzafon import AsyncLightcone

    computers = ComputersProcess(max(counts))
    rows: list[dict[str, Any]] = []
    try:
        client = AsyncLightcone(api_key=computers.key, base_url=computers.origin, timeout=300)
        for n in counts:
            log(f"hosted: {n} {kind} session(s)")
            sessions = [
                await client.computers.create(
                    kind=kind, display={"width": SIZE.width, "height": SIZE.height}
                )
                for _ in range(n)
            ]
            ids = [str(s.id) for s in sessions]
            computers_rss = tree_rss_bytes(computers.proc.pid)
            if n == counts[0]:  # warm up both sides once (imports, first connections)
                for side in ("screenloop", "baseline"):
                    await _phase(side, kind, computers.origin, computers.key, ids[:1], 1, [])
            for rep in range(reps):
                order = ("screenloop", "baseline") if rep % 2 == 0 else ("baseline", "screenloop")
                for side in order:
                    log(f"hosted: {n} agent(s), {side}, rep {rep + 1}/{reps}")
                    row = await _phase(
                        side,
                        kind,
                        computers.origin,
                        computers.key,
                        ids,
                        steps,
                        [computers.proc.pid],
                    )
                    row.update(rep=rep, computers_rss_bytes=computers_rss)
                    rows.append(row)
            for session_id in ids:
                await client.computers.delete(session_id)
        await client.close()
    finally:
        computers.close()
    return {"kind": kind, "steps_per_agent": steps, "rows": rows, "summary": _summary(rows)}


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n in sorted({r["agents"] for r in rows}):
        cell: dict[str, Any] = {"agents": n}
        for side in ("screenloop", "baseline"):
            sel = [r for r in rows if r["agents"] == n and r["side"] == side]
            cell[side] = {
                "steps_per_s": _median([r["steps_per_s"] for r in sel]),
                "cpu_ms_per_step": 1000 * _median([r["cpu_s_per_step"] or 0.0 for r in sel]),
                "peak_rss_mb": _median([r["peak_rss_bytes"] for r in sel]) / 2**20,
            }
        base = cell["baseline"]["cpu_ms_per_step"]
        cell["cpu_ratio"] = cell["screenloop"]["cpu_ms_per_step"] / base if base else None
        cell["computers_rss_mb"] = (
            max(r["computers_rss_bytes"] for r in rows if r["agents"] == n) / 2**20
        )
        out.append(cell)
    return out


def render(results: dict[str, Any]) -> str:
    """The summary as a markdown table."""
    rows = []
    for c in results["summary"]:
        s, b = c["screenloop"], c["baseline"]
        rows.append(
            [
                c["agents"],
                f"{s['steps_per_s']:.2f} / {b['steps_per_s']:.2f}",
                f"{s['cpu_ms_per_step']:.1f} / {b['cpu_ms_per_step']:.1f}",
                f"{c['cpu_ratio']:.2f}" if c["cpu_ratio"] else "-",
                f"{s['peak_rss_mb']:.0f} / {b['peak_rss_mb']:.0f}",
                f"{c['computers_rss_mb']:.0f}",
            ]
        )
    load = results["loadavg"]
    return (
        f"## Hosted computers ({results['kind']} sessions on serve-computers, "
        f"{results['steps_per_agent']} steps per agent; load {load[0]:.1f} -> {load[1]:.1f})\n\n"
        + md_table(
            [
                "agents",
                "steps/s screenloop / baseline",
                "agent-process CPU ms/step",
                "CPU ratio",
                "agent-process peak RSS MB",
                "serve-computers RSS MB",
            ],
            rows,
        )
    )


def measure_hosted(counts: list[int], steps: int, reps: int, kind: str) -> dict[str, Any]:
    """Run the figure; the results (JSON-able)."""
    load0 = os.getloadavg()[0]
    results = asyncio.run(_run(counts, steps, reps, kind))
    results["loadavg"] = [load0, os.getloadavg()[0]]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hosted", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="1 agent x 2 steps, one rep")
    parser.add_argument("--counts", default="1,8,32", help="agent counts")
    parser.add_argument("--steps", type=int, default=8, help="steps per agent")
    parser.add_argument("--reps", type=int, default=2, help="repetitions per side")
    parser.add_argument("--kind", choices=("desktop", "browser"), default="desktop")
    parser.add_argument("--out", type=Path, default=None, help="JSON output path")
    args = parser.parse_args(argv)
    counts = [1] if args.smoke else [int(c) for c in args.counts.split(",")]
    steps, reps = (2, 1) if args.smoke else (args.steps, args.reps)
    results = measure_hosted(counts, steps, reps, args.kind)
    results["smoke"] = args.smoke
    out = args.out or ROOT / "bench" / "results" / time.strftime("hosted-%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(render(results))
    log(f"results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
