"""``python -m bench``: run screenloop's benchmarks, print markdown tables, write JSON.

    python -m bench                      # everything (about 8 minutes on 2 cores)
    python -m bench --smoke              # one small iteration of each figure (< 60 s)
    python -m bench --only step,settle   # some figures
    python -m bench --out results.json   # where the JSON goes (default bench/results/)

Progress goes to stderr, tables to stdout. See bench/README.md for how to read them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from agent._cli._reaper import reaper
from bench._common import log
from bench._render import render_all
from executors._computer import Size

FIGURES = (
    "step", "settle", "growth", "concurrency", "capture", "fresh", "fresh-apps", "net", "batch",
)  # fmt: skip

FULL: dict[str, Any] = {
    "sizes": [[1280, 720], [1920, 1080]],
    "step": {"steps": 12, "reps": 3},
    "settle": {"delays": [0, 100, 300, 1000], "fixed": [0.5, 2.0], "reps": 3},
    "growth": {"steps": 200, "checkpoints": [1, 10, 50, 200]},
    "concurrency": {"counts": [1, 8, 32], "steps": 8, "desktop_max": 8},
    "capture": {"n": 10},
    "fresh": {"size": [1024, 768], "steps": 12, "reps": 2},
    "fresh-apps": {"steps": 12, "reps": 1},
    "net": {"size": [1024, 768], "links_mbit": [10, 50], "steps": 12, "reps": 2},
    "batch": {"counts": [1, 8], "tasks": 16, "steps": 4, "reps": 2},
}

SMOKE: dict[str, Any] = {
    "sizes": [[640, 400]],
    "step": {"steps": 3, "reps": 1},
    "settle": {"delays": [0, 300], "fixed": [0.5], "reps": 1},
    "growth": {"steps": 3, "checkpoints": [1, 3]},
    "concurrency": {"counts": [1], "steps": 2, "desktop_max": 1},
    "capture": {"n": 1},
    "fresh": {"size": [640, 400], "delays": ["mixed"], "steps": 4, "reps": 1},
    "fresh-apps": {"apps": ["xterm"], "loads": ["plain"], "steps": 2, "reps": 1},
    "net": {"size": [640, 400], "links_mbit": [10], "steps": 2, "reps": 1},
    "batch": {"counts": [1, 2], "tasks": 2, "steps": 2, "reps": 1},
}


def _environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "loadavg_start": list(os.getloadavg()),
    }


def run(figures: list[str], config: dict[str, Any], out: Path | None = None) -> dict[str, Any]:
    """Run the chosen figures with `config`; the results (written to `out` after each figure)."""
    sizes = [Size(*s) for s in config["sizes"]]
    results: dict[str, Any] = {
        "schema": 1,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": config,
        "environment": _environment(),
        "figures": {},
        "durations_s": {},
    }
    for figure in figures:
        t0 = time.perf_counter()
        try:
            results["figures"][figure] = _measure(figure, sizes, config)
        except Exception as exc:  # one broken figure must not lose the others
            log(f"{figure}: FAILED\n{traceback.format_exc()}")
            results["figures"][figure] = {"error": f"{type(exc).__name__}: {exc}"}
        results["durations_s"][figure] = round(time.perf_counter() - t0, 1)
        log(f"{figure}: done in {results['durations_s'][figure]} s")
        if out is not None:
            _write(out, results)
    results["environment"]["loadavg_end"] = list(os.getloadavg())
    return results


def _measure(figure: str, sizes: list[Size], config: dict[str, Any]) -> Any:
    if figure == "step":
        from bench._step import measure_step_overhead

        return measure_step_overhead(sizes, **config["step"])
    if figure == "settle":
        from bench._settle import measure_settle

        return measure_settle(**config["settle"])
    if figure == "growth":
        from bench._growth import measure_growth

        return measure_growth(**config["growth"])
    if figure == "concurrency":
        from bench._concurrency import measure_concurrency

        return measure_concurrency(**config["concurrency"])
    if figure == "fresh":
        from bench._fresh import measure_fresh

        return measure_fresh(**config["fresh"])
    if figure == "fresh-apps":
        from bench._fresh_apps import measure_fresh_apps

        return measure_fresh_apps(**config["fresh-apps"])
    if figure == "net":
        from bench._network import measure_network

        return measure_network(**config["net"])
    if figure == "batch":
        from bench._batch import measure_batch

        return measure_batch(**config["batch"])
    from bench._capture import measure_capture

    return measure_capture(sizes, **config["capture"])


def _write(out: Path, results: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(_finite(results), indent=1, allow_nan=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the tables, write the JSON file."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="one small iteration of each figure")
    parser.add_argument("--only", default=",".join(FIGURES), help="comma-separated figures")
    parser.add_argument("--out", type=Path, default=None, help="JSON output path")
    parser.add_argument("--note", default="", help="a note stored with the results")
    args = parser.parse_args(argv)
    figures = [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = [f for f in figures if f not in FIGURES]
    if unknown:
        parser.error(f"unknown figure(s) {unknown}; choose from {list(FIGURES)}")
    config = SMOKE if args.smoke else FULL
    t0 = time.perf_counter()
    log(f"{'smoke' if args.smoke else 'full'} run of {figures}")
    out = args.out
    if out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = (
            Path(__file__).resolve().parent
            / "results"
            / f"{stamp}{'-smoke' if args.smoke else ''}.json"
        )
    # Xvfb, openbox, Chromium, probe apps and servers go with this process, however
    # it ends (SIGKILL included): the CLI's reaper (agent/_cli/_reaper.py)
    with reaper():
        results = run(figures, config, out)
    results["smoke"] = args.smoke
    results["note"] = args.note
    results["total_s"] = round(time.perf_counter() - t0, 1)
    _write(out, results)
    print(render_all(_finite(results)))
    log(f"total {results['total_s']} s; results in {out}")
    failed = [f for f, v in results["figures"].items() if isinstance(v, dict) and "error" in v]
    if failed:
        log(f"FAILED figures: {failed}")
        return 1
    return 0


def _finite(value: Any) -> Any:
    """The results with NaN/inf as null and tuples as lists (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
