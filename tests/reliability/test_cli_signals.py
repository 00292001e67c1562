"""The `screenloop run` command under faults and signals, as a subprocess.

- API faults give the documented exit codes (5 for an API error) and a valid record;
- SIGINT / SIGTERM while a key and a button are held on a desktop run: exit 130 /
  143, run.json says cancelled, the Tk app's own log shows the release, and every
  process the command started (Xvfb, openbox, the app) is gone afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rel_support import alive, check_run_dir, children_of

from agent._cli._exit_codes import ExitCode
from agent.testing import (
    Delay,
    HTTPFault,
    MalformedJSON,
    ScriptedResponsesServer,
    computer_call,
    message,
    turn,
)

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests" / "apps" / "tk_events.py"
KEY = "sk-cli-reliability-key"


def env() -> dict[str, str]:
    drop = ("TZAFON_API_KEY", "OPENAI_API_KEY", "LIGHTCONE_BASE_URL", "OPENAI_BASE_URL")
    return {k: v for k, v in os.environ.items() if k not in drop}


def args(server: ScriptedResponsesServer, run_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "agent", "run", "hold on", "--base-url", server.base_url,
        "--api-key", KEY, "--coordinates", "pixels", "--record", str(run_dir), "--json",
        "--safety", "deny", *extra,
    ]  # fmt: skip


@pytest.mark.desktop
@pytest.mark.parametrize(
    ("fault", "code", "error_type"),
    [
        (HTTPFault(status=401), ExitCode.API_ERROR, "AuthenticationError"),
        (MalformedJSON(), ExitCode.API_ERROR, "MalformedResponseError"),
        (HTTPFault(status=400), ExitCode.API_ERROR, "BadRequestError"),
    ],
    ids=["401", "malformed-json", "400"],
)
def test_api_fault_exit_codes(tmp_path: Path, fault: Any, code: int, error_type: str) -> None:
    run_dir = tmp_path / "run"
    script = [turn(computer_call("click", x=10, y=10)), fault, turn(message("never"))]
    with ScriptedResponsesServer(script) as server:
        proc = subprocess.run(
            [*args(server, run_dir, "--desktop", "--display", "320x240")],
            capture_output=True, text=True, env=env(), timeout=120, cwd=REPO,
        )  # fmt: skip
    assert proc.returncode == code, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["status"] == "error" and out["error"]["type"] == error_type
    summary, _ = check_run_dir(run_dir, "error")
    assert summary["error"]["type"] == error_type
    assert KEY not in proc.stdout + proc.stderr


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_until(predicate: Any, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.desktop
@pytest.mark.parametrize(
    ("sig", "code"),
    [(signal.SIGINT, ExitCode.CANCELLED), (signal.SIGTERM, ExitCode.TERMINATED)],
    ids=["sigint", "sigterm"],
)
def test_signal_with_held_input_releases_and_leaves_no_orphans(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    log = tmp_path / "tk.jsonl"
    run_dir = tmp_path / "run"
    script = [
        turn(computer_call("key_down", keys=["shift"])),
        turn(computer_call("mouse_down", x=200, y=200)),
        Delay(seconds=120),
        turn(message("never")),
    ]
    with ScriptedResponsesServer(script) as server:
        proc = subprocess.Popen(
            args(server, run_dir, "--desktop", "--display", "640x480",
                 "--launch", f"{sys.executable} {APP} {log}"),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env(), cwd=REPO,
        )  # fmt: skip
        try:
            wait_until(lambda: any(e["type"] == "ButtonPress" for e in read_log(log)),
                       what="the button press")  # fmt: skip
            wait_until(lambda: len(server.requests) >= 3, what="the stalled request")
            started = children_of(proc.pid)
            assert started, "the CLI started no processes?"
            proc.send_signal(sig)
            stdout, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == code, stderr
    assert json.loads(stdout.strip().splitlines()[-1])["status"] == "cancelled"
    check_run_dir(run_dir, "cancelled")
    events = read_log(log)
    assert any(e["type"] == "KeyRelease" and e["keysym"].startswith("Shift") for e in events)
    assert any(e["type"] == "ButtonRelease" and e["num"] == 1 for e in events)
    wait_until(lambda: not alive(started), 15, "the CLI's processes to exit")
