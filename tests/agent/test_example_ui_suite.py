"""examples/ui-tests replays from its committed cassettes: no key, no server, CI mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2] / "examples" / "ui-tests"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_example_suite_replays_offline_from_cassettes(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TZAFON_API_KEY", "OPENAI_API_KEY", "LIGHTCONE_BASE_URL", "OPENAI_BASE_URL")
    }
    env["CI"] = "true"  # record mode none: a missing or changed cassette fails
    before = {p: p.read_bytes() for p in (SUITE / "cassettes").rglob("*.json")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(SUITE),
            "-p",
            "no:randomly",
            f"--screenloop-run-dir={tmp_path / 'runs'}",
            "-q",
        ],
        cwd=SUITE,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "3 passed" in out
    assert "screenloop: 3 replayed" in out
    assert {p: p.read_bytes() for p in (SUITE / "cassettes").rglob("*.json")} == before
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "test_shop.py--test_add_to_cart",
        "test_shop.py--test_filter_products",
        "test_shop.py--test_open_a_product",
    ]
