"""SIGKILL (or SIGTERM, SIGINT) of a running bench leaves no Xvfb, openbox, probe app or
server behind: the bench runs under the CLI's reaper (agent/_cli/_reaper.py)."""

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

REPO = Path(__file__).resolve().parents[2]


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    return ""


def noted(path: Path) -> set[int]:
    """The pids the reaper has noted (it writes them when SCREENLOOP_REAPER_NOTES is set)."""
    with contextlib.suppress(OSError):
        return {int(line.split()[0]) for line in path.read_text().splitlines() if line}
    return set()


@pytest.mark.desktop
@pytest.mark.browser
@pytest.mark.timeout(600)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=str)
def test_killed_desktop_bench_leaves_no_processes(tmp_path: Path, sig: signal.Signals) -> None:
    notes = tmp_path / "reaper-notes"
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env["SCREENLOOP_REAPER_NOTES"] = str(notes)
    # the freshness figure's desktop half: an Xvfb, openbox and a Tk probe app per side
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", "--smoke", "--only", "fresh",
         "--out", str(tmp_path / "fresh.json")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=env, cwd=REPO,
    )  # fmt: skip
    try:

        def desktop_up() -> bool:
            kinds = " ".join(cmdline(pid) for pid in children_of(proc.pid))
            assert proc.poll() is None, "the bench ended before its desktop figure started"
            return "Xvfb" in kinds and "openbox" in kinds and ".stamps" in kinds  # the Tk probe

        wait_until(desktop_up, 400, "the bench's desktop (Xvfb, openbox, probe app)")
        # frozen mid-run: nothing of the bench closes them now, and nothing new starts
        proc.send_signal(signal.SIGSTOP)
        kinds = {pid: cmdline(pid) for pid in children_of(proc.pid)}
        # the reaper itself (a child in a session of its own) goes when it is done
        started = {pid for pid, c in kinds.items() if "_reaper.py" not in c}
        xvfb = {pid for pid, c in kinds.items() if "Xvfb" in c}
        assert xvfb, kinds
        # the reaper knows every one still running before the kill (no guessed delay)
        wait_until(
            lambda: set(alive(started)) <= noted(notes) and xvfb <= noted(notes),
            60,
            "the reaper to note the bench's processes",
        )
        victims = alive(started)
        assert xvfb <= set(victims), (xvfb, victims)
        proc.send_signal(sig)
        proc.send_signal(signal.SIGCONT)  # a stopped process takes SIGTERM/SIGINT once woken
        proc.wait(timeout=120)
        wait_until(
            lambda: not alive(victims),
            60,
            f"orphans {[(pid, kinds[pid][:80]) for pid in alive(victims)]}",
        )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
