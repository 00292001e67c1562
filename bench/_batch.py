"""Figure 6: batch throughput. `screenloop batch` over one task file at concurrency 1 and 8.

The task file has `tasks` tasks against the bundled demo shop (a fresh shop per
attempt, the product page), each with a scripted model that takes `steps`
steps (screenshots) and then answers; every attempt meets its answer check.
The batch runs in this process through the same `BatchRunner` the command
uses: each attempt opens its computer (as `screenloop run` does), runs,
checks, writes its run directory and report, and the summary is rewritten.

Two browser modes, interleaved: ``shared`` (the batch holds one Playwright
driver and one Chromium for all its attempts, a context each: the default) and
``per-attempt`` (the baseline: each attempt's browser closes with it unless
another attempt is still on it, so at concurrency 1 every attempt starts a
driver and a Chromium -- the behaviour before the batch held them).

Concurrency 1 per-attempt is the baseline: the cells run interleaved (modes and
levels in turn, the order reversed every repetition) over `reps` repetitions,
and each cell is the median. attempts/s and steps/s
are finished attempts (and their steps) over the batch's wall time, so they
include browser start-up, report building and summary writes -- what a user of
`batch` waits for.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import log

__all__ = ["measure_batch"]


def _task_file(directory: Path, tasks: int, steps: int) -> Path:
    look = {"output": [{"type": "computer_call", "action": {"type": "screenshot"}}]}
    answer = {"output": [{"type": "message", "content": "It costs $39.00."}]}
    lines = [
        {
            "id": f"t{i}",
            "task": "What does the desk lamp cost?",
            "url": "demo:/product/desk-lamp",
            "max_steps": steps + 2,
            "script": [*([look] * (steps - 1)), answer],
            "check": {"answer": r"\$39\.00"},
        }
        for i in range(tasks)
    ]
    path = directory / "tasks.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


MODES = ("per-attempt", "shared")


def _one_batch(task_file: Path, out: Path, concurrency: int, mode: str) -> dict[str, Any]:
    from agent._batch._attempt import BatchRunSettings
    from agent._batch._engine import BatchPlan, BatchRunner
    from agent._batch._tasks import load_tasks
    from agent._cli._run import RunOptions

    tasks = load_tasks(task_file)
    base = RunOptions(task="", display="1280x720")
    plan = BatchPlan(tasks, out, task_file.name, "bench")
    settings = BatchRunSettings(base=base, secrets={}, task_dir=task_file.parent)
    runner = BatchRunner(plan, settings, concurrency=concurrency, share_browser=mode == "shared")
    t0 = time.perf_counter()
    summary = asyncio.run(runner.run())
    wall = time.perf_counter() - t0
    totals = summary["totals"]
    return {
        "mode": mode,
        "concurrency": concurrency,
        "wall_s": wall,
        "attempts": totals["finished"],
        "passed": totals["passed"],
        "steps": totals["steps"],
        "attempts_per_s": totals["finished"] / wall,
        "steps_per_s": totals["steps"] / wall,
    }


def measure_batch(counts: list[int], tasks: int, steps: int, reps: int) -> dict[str, Any]:
    """Batch throughput at each concurrency in `counts` and browser mode (the first
    concurrency, per-attempt, is the baseline)."""
    runs: list[dict[str, Any]] = []
    cells = [(c, m) for c in counts for m in MODES]
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        task_file = _task_file(Path(tmp), tasks, steps)
        for rep in range(reps):
            order = cells if rep % 2 == 0 else list(reversed(cells))
            for concurrency, mode in order:
                out = Path(tmp) / f"out-{rep}-{concurrency}-{mode}"
                log(
                    f"batch: rep {rep + 1}/{reps}, concurrency {concurrency}, {mode}, {tasks} tasks"
                )
                runs.append({"rep": rep, **_one_batch(task_file, out, concurrency, mode)})
    rows = []
    for concurrency, mode in cells:
        mine = [r for r in runs if r["concurrency"] == concurrency and r["mode"] == mode]
        rows.append(
            {
                "mode": mode,
                "concurrency": concurrency,
                "tasks": tasks,
                "steps_per_attempt": steps,
                "passed": min(r["passed"] for r in mine),
                "attempts": tasks,
                "wall_s": statistics.median(r["wall_s"] for r in mine),
                "attempts_per_s": statistics.median(r["attempts_per_s"] for r in mine),
                "steps_per_s": statistics.median(r["steps_per_s"] for r in mine),
            }
        )
    base = rows[0]["attempts_per_s"] or float("nan")
    for row in rows:
        row["speedup_vs_first"] = row["attempts_per_s"] / base
    return {"rows": rows, "runs": runs}
