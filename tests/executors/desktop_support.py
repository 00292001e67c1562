"""Helpers for the desktop tests: the Tk probe app (tests/apps/tk_events.py), its log."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

APP = Path(__file__).resolve().parents[1] / "apps" / "tk_events.py"
Event = dict[str, Any]


def python_with_tkinter() -> str | None:
    """A Python that has tkinter (this one, or Debian's), or None."""
    for python in (sys.executable, "/usr/bin/python3"):
        if Path(python).exists() and (
            subprocess.run([python, "-c", "import tkinter"], capture_output=True).returncode == 0
        ):
            return python
    return None


class TkApp:
    """The running event-logging app and its log."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def events(self) -> list[Event]:
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def mark(self) -> int:
        """The number of events so far; pass it to `wait` to see only newer ones."""
        return len(self.events())

    async def wait(
        self, since: int, done: Callable[[list[Event]], bool], timeout_s: float = 30.0
    ) -> list[Event]:
        """Events after `since`, once `done(events)` holds (or fail after `timeout_s`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            events = self.events()[since:]
            if done(events):
                return events
            if loop.time() > deadline:
                raise AssertionError(f"expected events never arrived; got {events}")
            await asyncio.sleep(0.02)


def of(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e["type"] == kind]
