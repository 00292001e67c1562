"""Figure 3: growth. Request bytes and step overhead as a run gets long.

Three screenloop runs of the same scripted actions on the browser, interleaved
step by step (lockstep baton), each with its own Chromium:

- ``server``: ``previous_response_id``, only new items per request;
- ``stateless``: ``store: false``, whole history resent, screenshots older than
  the last 3 replaced by placeholders;
- ``naive``: the same stateless loop with no trimming (``keep_screenshots``
  larger than the run), i.e. what a runtime that resends everything does.

At each checkpoint step k the table gives the bytes of request k and the median
step window over steps k-2..k+2 (settle excluded).
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench._common import Baton, PageServer, ServerProcess, log, spread
from bench._workload import STEP_PAGE, run_screenloop, script_turns
from executors._computer import Size

__all__ = ["measure_growth"]

MODES = {"server": ("server", 3), "stateless": ("stateless", 3), "naive": ("stateless", 10**6)}


async def _run(steps: int, checkpoints: list[int]) -> dict[str, Any]:
    from executors import PlaywrightComputer

    size = Size(1280, 720)
    turns = script_turns(size, steps)
    results: dict[str, Any] = {}
    with PageServer({"/": STEP_PAGE}) as pages:
        url = pages.url("/")
        servers = {m: ServerProcess(turns) for m in MODES}
        computers = {m: PlaywrightComputer(size=size, start_url=url) for m in MODES}
        try:
            for m in MODES:
                servers[m].__enter__()
                await computers[m].start()
            baton = Baton(list(MODES))

            async def one(mode: str) -> Any:
                history, keep = MODES[mode]
                return await run_screenloop(
                    computers[mode],
                    servers[mode].base_url,
                    steps=steps,
                    baton=baton,
                    name=mode,
                    history=history,
                    keep_screenshots=keep,
                )

            runs = await asyncio.gather(*(one(m) for m in MODES))
        finally:
            for m in MODES:
                await computers[m].close()
                servers[m].close()
    for mode, run in zip(MODES, runs, strict=True):
        by_step = {int(w["step"]): w for w in run.windows}
        points = []
        for k in checkpoints:
            if k > len(run.request_bytes):
                continue
            near = [by_step[s]["runtime"] for s in range(k - 2, k + 3) if s in by_step]
            points.append(
                {
                    "step": k,
                    "request_bytes": run.request_bytes[k - 1],
                    "runtime_s": spread(near),
                }
            )
        results[mode] = {
            "status": run.status,
            "points": points,
            "request_bytes": run.request_bytes,
            "runtime_s_by_step": [round(w["runtime"], 6) for w in run.windows],
        }
    for mode in ("server", "stateless"):
        pts = results[mode]["points"]
        if len(pts) >= 2:
            first, last = pts[0], pts[-1]
            results[mode]["bytes_growth_last_over_first"] = (
                last["request_bytes"] / first["request_bytes"]
            )
            later = [p["request_bytes"] for p in pts[1:]]
            results[mode]["bytes_flat_after_step1"] = max(later) <= 1.05 * min(later)
    return results


def measure_growth(steps: int, checkpoints: list[int]) -> dict[str, Any]:
    """Figure 3 for server, stateless and naive history, `steps` steps each."""
    log(f"growth: 3 history modes x {steps} steps, interleaved")
    return asyncio.run(_run(steps, [k for k in checkpoints if k <= steps]))
