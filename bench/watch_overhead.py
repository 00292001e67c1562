"""What a watched run costs: a scripted run with and without the watch page, interleaved.

    .venv/bin/python -m bench.watch_overhead [--steps 40] [--reps 6]

Each repetition runs the same zero-latency scripted run (RecordingComputer,
noise screenshots of 1280x720) twice, once plain and once with a `WatchServer`
and one client following its event stream and fetching every screenshot (what
an open page does); which goes first alternates. Prints the median wall time
per step of each side and their ratio, with the load average. Not a test:
nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from agent import Agent, WatchServer
from agent.testing import RecordingComputer, ScriptedResponsesServer, computer_call, message, turn


def _follow(watch: WatchServer, stop: threading.Event) -> None:
    """An open page: the event stream, and each screenshot as it is announced."""
    with httpx.Client(timeout=60) as client:
        params = {"t": watch.token}
        with client.stream("GET", watch.base_url + "events", params=params) as events:
            for line in events.iter_lines():
                if not line.startswith("data:"):
                    continue
                entry = json.loads(line[5:])
                if entry["kind"] == "screenshot" and entry["n"] is not None:
                    query = {**params, "run": watch.runs()[-1].id, "n": entry["n"]}
                    client.get(watch.base_url + "shot", params=query).raise_for_status()
                if entry["kind"] == "finished" or stop.is_set():
                    return


async def _one(steps: int, watched: bool, root: Path) -> float:
    script = [turn(computer_call({"type": "click", "x": 10, "y": 10}))] * steps
    script.append(turn(message("done")))
    computer = RecordingComputer((1280, 720), noise=True)
    with ScriptedResponsesServer(script) as server, WatchServer() as watch:
        agent = Agent(
            computer,
            base_url=server.base_url,
            api_key="sk-bench-0000000000",
            run_dir=root / f"run-{time.monotonic_ns()}",
            watch=watch if watched else None,
            max_steps=steps + 2,
        )
        stop = threading.Event()
        follower = threading.Thread(target=_follow, args=(watch, stop), daemon=True)
        if watched:
            follower.start()
        t0 = time.perf_counter()
        result = await agent.run("bench")
        elapsed = time.perf_counter() - t0
        stop.set()
        if watched:
            follower.join(30)
    assert result.status == "completed", result
    return elapsed / (steps + 1)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--reps", type=int, default=6)
    args = parser.parse_args()
    load0 = os.getloadavg()[0]
    plain: list[float] = []
    watched: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            for side in (False, True) if rep % 2 == 0 else (True, False):
                (watched if side else plain).append(await _one(args.steps, side, Path(tmp)))
    p, w = statistics.median(plain), statistics.median(watched)
    load1 = os.getloadavg()[0]
    print(f"load average {load0:.1f} -> {load1:.1f}; {args.reps} reps x {args.steps} steps")
    print(f"plain   {1000 * p:.1f} ms/step (median)")
    print(f"watched {1000 * w:.1f} ms/step (median)")
    print(f"ratio   {w / p:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
