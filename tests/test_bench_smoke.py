"""`python -m bench --smoke` keeps working: it exits 0 and writes a valid JSON result.

A benchmark is not a test: nothing here looks at a timing. This only keeps the
bench from rotting (every figure runs one small iteration on real Chromium and
real Xvfb).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.browser
@pytest.mark.desktop
@pytest.mark.timeout(900)
def test_bench_smoke_exits_0_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=880,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())  # strict JSON: NaN would be written as null
    assert data["smoke"] is True
    figures = data["figures"]
    assert set(figures) == {
        "step",
        "settle",
        "growth",
        "concurrency",
        "capture",
        "fresh",
        "fresh-apps",
        "net",
        "batch",
    }
    for key, res in figures["step"].items():
        for side in ("screenloop", "baseline"):
            assert res["summary"][side]["n"] > 0, (key, side)
    assert {r["method"] for r in figures["settle"]["rows"]} >= {"screenloop", "fixed 0.5 s"}
    assert all(
        t["captured_stable"] for t in figures["settle"]["trials"] if t["method"] == "screenloop"
    )
    for mode in ("server", "stateless", "naive"):
        assert figures["growth"][mode]["status"] == "completed"
        assert figures["growth"][mode]["points"]
    rows = figures["concurrency"]["rows"]
    assert {r["config"] for r in rows} == {
        "browser, shared",
        "browser, own",
        "browser, sample",
        "browser, remote",
        "desktop",
    }
    assert all(r["completed"] == r["agents"] for r in rows), rows
    assert all(r["pss_per_agent_bytes"] > 0 for r in rows), rows
    envs = {r["environment"] for r in figures["capture"]["rows"]}
    assert envs == {"browser", "desktop"}
    assert {key.split()[0] for key in figures["fresh"]} == {"browser", "desktop"}
    for res in figures["fresh"].values():
        # every side judged every step on its pixels (no timing is looked at)
        assert {r["side"] for r in res["rows"]} >= {"screenloop", "baseline"}
        assert all(r["n"] > 0 for r in res["rows"])
        assert set(res["curve_pct_visible_by_wait_ms"]) == {"0", "100", "300", "fetch200"}
    apps = figures["fresh-apps"]["rows"]  # a real X program, every side judged on pixels
    assert {r["side"] for r in apps} == {"screenloop", "screenloop-grabs", "baseline"}
    assert all(r["n"] > 0 for r in apps), apps
    for link in figures["net"]["links"].values():
        assert {r["side"] for r in link["rows"]} >= {"screenloop png", "sample"}
        assert all(r["n"] > 0 and r["connections"] >= 1 for r in link["rows"])
    batch = figures["batch"]["rows"]
    assert [(r["concurrency"], r["mode"]) for r in batch] == [
        (1, "per-attempt"),
        (1, "shared"),
        (2, "per-attempt"),
        (2, "shared"),
    ]
    assert all(r["passed"] == r["attempts"] for r in batch)
    for title in (
        "## 1. Step overhead",
        "## 2. Settle",
        "## 3. Growth",
        "## 4. Concurrency",
        "## 5. Capture",
        "## 6. Freshness",
        "## 6b. Freshness on real X programs",
        "## 7. Over a network link",
        "## 8. Batch throughput",
    ):
        assert title in proc.stdout
