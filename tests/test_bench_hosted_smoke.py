"""`python -m bench.hosted --smoke` keeps working: it exits 0 and writes a valid JSON result.

A benchmark is not a test: nothing here looks at a timing. This only keeps the
hosted-computers figure (agents here, serve-computers in a child process) from
rotting.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("tzafon")


@pytest.mark.desktop
@pytest.mark.timeout(420)
def test_bench_hosted_smoke_exits_0_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "hosted.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.hosted", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["smoke"] is True and data["kind"] == "desktop"
    sides = {r["side"]: r for r in data["rows"]}
    assert set(sides) == {"screenloop", "baseline"}
    for row in sides.values():
        assert row["agents"] == 1 and row["steps"] == 2  # every step of the script ran
        assert row["peak_rss_bytes"] > 0
    assert "## Hosted computers" in proc.stdout
