"""The examples in examples/ are documentation: they must run as the README says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("script", "proof"),
    [
        ("browser_task.py", "page title: Results for screenloop"),
        ("desktop_rpa.py", "file says: report filed"),
    ],
)
def test_example_runs_offline_against_the_scripted_model(
    script: str, proof: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TZAFON_", "LIGHTCONE_"))}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("completed:"), done.stdout
    assert proof in done.stdout
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "run.json").is_file()
