"""Markdown tables for each figure of a results dict (see bench/__main__.py)."""

from __future__ import annotations

from typing import Any

from bench._common import fmt_spread, md_table
from bench._workload import PHASES

__all__ = ["render_all"]

MB = 1024 * 1024


def _ms(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value * 1000:.{digits}f}"


def render_step(fig: dict[str, Any]) -> str:
    """Figure 1."""
    parts = ["## 1. Step overhead (ms per step, zero-latency scripted model)", ""]
    parts.append(
        "runtime = step window minus settle. Cells: median [p10-p90]; phases are medians "
        "(they need not add up to the median total)."
    )
    for key, res in fig.items():
        rows = []
        for side in ("screenloop", "baseline"):
            s = res["summary"][side]
            rows.append(
                [
                    side,
                    s["n"],
                    fmt_spread(s["total_s"]),
                    fmt_spread(s["runtime_s"]),
                    *(_ms(s["phases_median_s"][p]) for p in PHASES),
                    f"{s['request_bytes_median'] / 1024:.0f}",
                ]
            )
        parts += [
            "",
            f"### {key} ({res['reps']} reps x {res['steps_per_run']} steps, interleaved)",
            "",
            md_table(
                ["side", "n", "total", "runtime", *PHASES, "request KB"],
                rows,
            ),
            "",
            f"runtime ratio screenloop/baseline = {res['ratio_runtime_median']:.3f} "
            f"(target <= {res['target_ratio']:.3f}): "
            f"**{'met' if res['target_met'] else 'NOT met'}**",
        ]
    return "\n".join(parts)


def render_settle(fig: dict[str, Any]) -> str:
    """Figure 2."""
    rows = [
        [
            r["method"],
            r["delay_ms"],
            fmt_spread(r["late_s"]),
            f"{r['late_frames_median']:.2f}",
            f"{r['late_frames_max']:.2f}",
            f"{r['early_or_unstable']}/{r['n']}",
        ]
        for r in fig["rows"]
    ]
    return "\n".join(
        [
            "## 2. Settle: screenshot time after the true stable moment",
            "",
            md_table(
                [
                    "method",
                    "stable after (ms)",
                    "late ms median [p10-p90]",
                    "frames late (median)",
                    "frames late (max)",
                    "early or changing",
                ],
                rows,
            ),
            "",
            f"target {fig['target']}: median <= 2 frames "
            f"**{'met' if fig['target_met_median_2_frames'] else 'NOT met'}**, never early "
            f"**{'met' if fig['target_met_never_early'] else 'NOT met'}**",
        ]
    )


def render_growth(fig: dict[str, Any]) -> str:
    """Figure 3."""
    rows = []
    for mode, res in fig.items():
        for p in res["points"]:
            rows.append(
                [
                    mode,
                    p["step"],
                    f"{p['request_bytes'] / 1024:.0f}",
                    fmt_spread(p["runtime_s"]),
                ]
            )
    notes = []
    for mode in ("server", "stateless"):
        res = fig.get(mode, {})
        if "bytes_growth_last_over_first" in res:
            notes.append(
                f"{mode}: last/first request bytes = {res['bytes_growth_last_over_first']:.2f}, "
                f"flat (within 5%) after step 1: {res['bytes_flat_after_step1']}"
            )
    return "\n".join(
        [
            "## 3. Growth: request size and step runtime (ms, settle excluded) by step",
            "",
            md_table(["history", "step", "request KB", "runtime ms median [p10-p90]"], rows),
            "",
            *notes,
        ]
    )


def render_concurrency(fig: dict[str, Any]) -> str:
    """Figure 4."""
    rows = []
    for r in fig["rows"]:
        scaling = fig["summary"][r["config"]]["scaling_vs_1"].get(str(r["agents"]), 0)
        loop_cpu = r.get("loop_cpu_per_step_s")
        proc_cpu = r.get("process_cpu_per_step_s")
        rows.append(
            [
                r["config"],
                r["agents"],
                f"{r['completed']}/{r['agents']}",
                f"{r['steps_per_s']:.1f}",
                f"{scaling:.2f}x",
                fmt_spread(r["step_window_s"], digits=0),
                f"{r['startup_s']:.1f}",
                f"{r['peak_pss_bytes'] / MB:.0f}",
                f"{r['idle_pss_bytes'] / MB:.0f}",
                f"{r.get('pss_per_agent_bytes', 0) / MB:.0f}",
                f"{r['peak_rss_bytes'] / MB / r['agents']:.0f}",
                "-" if proc_cpu is None else f"{proc_cpu * 1000:.0f}",
                "-" if loop_cpu is None else f"{loop_cpu * 1000:.0f}",
                " ".join(f"{x:.1f}" for x in r.get("loadavg", [])[:1]),
            ]
        )
    notes = []
    for config, s in fig["summary"].items():
        rss, pss = s["rss_per_additional_agent_bytes"], s["pss_per_additional_agent_bytes"]
        if rss is not None:
            notes.append(
                f"{config}: per additional agent +{rss / MB:.0f} MB RSS, +{pss / MB:.0f} MB PSS"
            )
    return "\n".join(
        [
            f"## 4. Concurrency and memory ({fig['cores']} cores, agents in one process)",
            "",
            md_table(
                [
                    "config",
                    "agents",
                    "completed",
                    "steps/s",
                    "scaling",
                    "step ms median [p10-p90]",
                    "startup s",
                    "peak PSS MB",
                    "idle PSS MB",
                    "PSS MB/agent",
                    "RSS MB/agent",
                    "CPU ms/step",
                    "loop CPU ms/step",
                    "load",
                ],
                rows,
            ),
            "",
            *notes,
        ]
    )


def render_capture(fig: dict[str, Any]) -> str:
    """Figure 5."""
    rows = []
    for r in fig["rows"]:
        t = r["time_s"]
        ratio = r["x_faster_than_baseline"]
        rows.append(
            [
                r["environment"],
                f"{r['size'][0]}x{r['size'][1]}",
                r["method"],
                fmt_spread(t) if "p10" in t else _ms(t["median"]),
                "-" if ratio is None else f"{ratio:.1f}",
                "-" if r["bytes"] is None else f"{r['bytes'] / 1024:.0f}",
            ]
        )
    return "\n".join(
        [
            "## 5. Capture: time per screenshot and bytes by format",
            "",
            md_table(
                ["env", "size", "method", "ms median [p10-p90]", "x faster", "KB"],
                rows,
            ),
            "",
            "x faster: against page.screenshot() PNG (browser) and pyautogui.screenshot() + "
            "PNG (desktop) at the same size, same run.",
        ]
    )


def render_fresh(fig: dict[str, Any]) -> str:
    """Figure 6."""
    from bench._fresh import CURVE_MS

    parts = ["## 6. Freshness: does each screenshot show its action's effect?", ""]
    for key, res in fig.items():
        sides = res["sides"]
        rows = []
        for delay, ratios in res["gap_ratio_vs_baseline_median"].items():
            by_side = {r["side"]: r for r in res["rows"] if r["delay"] == delay}
            rows.append(
                [
                    delay,
                    *(
                        f"{by_side[s]['fresh_pct']:.0f} % ({by_side[s]['fresh']}/{by_side[s]['n']})"
                        for s in sides
                    ),
                    *(fmt_spread(by_side[s]["gap_s"]) for s in sides),
                    *("-" if ratios[s] is None else f"{ratios[s]:.2f}" for s in ratios),
                    *(fmt_spread(by_side[s]["settle_s"]) for s in sides if s != "baseline"),
                ]
            )
        loads = res.get("loadavg") or [0.0]
        screenloops = [s for s in sides if s != "baseline"]
        parts += [
            f"### {key} (load average {min(loads):.1f}-{max(loads):.1f})",
            "",
            md_table(
                [
                    "effect after",
                    *(f"{s} fresh" for s in sides),
                    *(f"{s} gap ms" for s in sides),
                    *(f"{s} / baseline gap" for s in screenloops),
                    *(f"{s} settle ms" for s in screenloops),
                ],
                rows,
            ),
            "",
            "Share of effects visible by a fixed wait after screenloop's click (%):",
            "",
            md_table(
                ["effect after", *(f"{w} ms" for w in CURVE_MS)],
                [
                    [d, *(f"{c[str(w)]:.0f}" for w in CURVE_MS)]
                    for d, c in res["curve_pct_visible_by_wait_ms"].items()
                ],
            ),
            "",
        ]
    return "\n".join(parts)


def render_fresh_apps(fig: dict[str, Any]) -> str:
    """Figure 6b."""
    loads = fig.get("loadavg") or [0.0]
    rows = [
        [
            r["app"],
            r["load"],
            r["side"],
            f"{r['fresh_pct']:.0f} % ({r['fresh']}/{r['n']})",
            fmt_spread(r["step_s"]),
            "-" if r["side"] == "baseline" else f"{r['at_ceiling']} / {r['max_wait']}",
            "-" if r["side"] == "baseline" else str(r.get("working", "-")),
        ]
        for r in fig["rows"]
    ]
    return "\n".join(
        [
            f"## 6b. Freshness on real X programs (load average {min(loads):.1f}-{max(loads):.1f})",
            "",
            md_table(
                [
                    "program",
                    "load",
                    "side",
                    "fresh",
                    "step ms",
                    "window at ceiling / max_wait",
                    "waited for a runnable program",
                ],
                rows,
            ),
        ]
    )


def render_net(fig: dict[str, Any]) -> str:
    """Figure 7."""
    loads = fig.get("loadavg") or [0.0]
    parts = [
        "## 7. Over a network link: the whole step as the user sees it",
        "",
        f"Load average {min(loads):.1f}-{max(loads):.1f}. Step window = response n arriving "
        "to response n+1 arriving, upload through the shaped link included.",
    ]
    for key, res in fig["links"].items():
        rows = [
            [
                r["side"],
                r["n"],
                fmt_spread(r["total_s"]),
                fmt_spread(r["http_s"]),
                fmt_spread(r["image_s"]) if "image_s" in r else "-",
                f"{r['request_bytes']['median'] / 1024:.0f}",
                "-" if r["ratio_vs_sample"] is None else f"{r['ratio_vs_sample']:.2f}",
                r["connections"],
            ]
            for r in res["rows"]
        ]
        parts += [
            "",
            f"### {key}",
            "",
            md_table(
                [
                    "side",
                    "n",
                    "step ms",
                    "http ms",
                    "image ms",
                    "request KB",
                    "vs sample",
                    "TCP connections",
                ],
                rows,
            ),
        ]
    return "\n".join(parts)


def render_batch(fig: dict[str, Any]) -> str:
    """Figure 6."""
    rows = [
        [
            r.get("mode", "per-attempt"),
            r["concurrency"],
            f"{r['passed']}/{r['attempts']}",
            r["steps_per_attempt"],
            f"{r['wall_s']:.1f}",
            f"{r['attempts_per_s']:.2f}",
            f"{r['steps_per_s']:.2f}",
            f"{r['speedup_vs_first']:.2f}x",
        ]
        for r in fig["rows"]
    ]
    return "\n".join(
        [
            "## 8. Batch throughput (`screenloop batch`: one shared browser, or one per attempt)",
            "",
            md_table(
                [
                    "browser",
                    "concurrency",
                    "passed",
                    "steps/attempt",
                    "wall s",
                    "attempts/s",
                    "steps/s",
                    "vs first",
                ],
                rows,
            ),
        ]
    )


RENDERERS = {
    "step": render_step,
    "settle": render_settle,
    "growth": render_growth,
    "concurrency": render_concurrency,
    "capture": render_capture,
    "fresh": render_fresh,
    "fresh-apps": render_fresh_apps,
    "net": render_net,
    "batch": render_batch,
}


def render_all(results: dict[str, Any]) -> str:
    """Every figure present in `results`, as markdown."""
    env = results.get("environment", {})
    head = [
        f"# screenloop bench ({'smoke' if results.get('smoke') else 'full'} run, "
        f"{results.get('started_at', '')})",
        "",
        f"Python {env.get('python')}, {env.get('cpus_usable')} usable cores, load average "
        f"{env.get('loadavg_start', ['?'])[0]:.2f} at start, "
        f"{env.get('loadavg_end', ['?'])[0]:.2f} at end (other work shares these cores). "
        f"Durations (s): {results.get('durations_s')}.",
    ]
    body = [
        f"## {name}: FAILED ({fig['error']})"
        if isinstance(fig, dict) and "error" in fig
        else RENDERERS[name](fig)
        for name, fig in results.get("figures", {}).items()
    ]
    return "\n\n".join(["\n".join(head), *body]) + "\n"
