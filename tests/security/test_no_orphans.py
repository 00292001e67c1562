"""SIGKILL of a desktop run leaves no Xvfb, window manager or launched program behind
(issue 13, row 8): the CLI's reaper stops what the CLI started once the CLI is gone."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rel_support import alive, children_of

from agent.testing import Delay, ScriptedResponsesServer, computer_call, message, turn

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests" / "apps" / "tk_events.py"


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def names(pids: list[int]) -> list[str]:
    out = []
    for pid in pids:
        with contextlib.suppress(OSError):
            out.append(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:80])
    return out


@pytest.mark.desktop
def test_sigkill_of_a_desktop_run_leaves_no_processes(tmp_path: Path) -> None:
    log = tmp_path / "tk.jsonl"
    script = [turn(computer_call("click", x=100, y=100)), Delay(seconds=120), turn(message("x"))]
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    with ScriptedResponsesServer(script) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent", "run", "hold on", "--desktop",
             "--display", "640x480", "--launch", f"{sys.executable} {APP} {log}",
             "--base-url", server.base_url, "--api-key", "k-123",
             "--coordinates", "pixels", "--record", str(tmp_path / "run")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=env, cwd=REPO,
        )  # fmt: skip
        try:
            wait_until(lambda: len(server.requests) >= 2, 90, "the stalled request")
            started = children_of(proc.pid)
            kinds = " ".join(names(list(started)))
            assert "Xvfb" in kinds and "tk_events" in kinds, kinds
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            wait_until(lambda: not alive(started), 30, f"orphans {names(alive(started))}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
