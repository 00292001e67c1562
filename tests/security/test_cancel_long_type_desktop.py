"""Cancelling a run stops a long `type` on a real desktop (issue 13, row 6).

The desktop executor types in one input thread; before, one `type` call held it
for the whole text, so the typing went on after the run was cancelled. Now the
text goes in chunks and a cancel lands between them. Proved by effect: after
the cancel the test types a marker through the same computer (it queues behind
whatever typing is still going on) and counts the keys the Tk app received
before it -- far fewer than the text's length.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rel_support import scripted_agent

from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import DesktopComputer
from sandbox import VirtualDisplay

APP = Path(__file__).resolve().parents[1] / "apps" / "tk_events.py"
TEXT_LEN = 30_000


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:  # the app is still writing its last line
            break
    return out


async def wait_for_log(path: Path, predicate: Any, timeout: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = read_log(path)
        if predicate(log):
            return log
        await asyncio.sleep(0.02)
    raise AssertionError(
        f"condition not met; last events: {[e.get('type') for e in read_log(path)[-5:]]}"
    )


def presses(log: list[dict[str, Any]], keysym: str) -> int:
    return sum(1 for e in log if e["type"] == "KeyPress" and e.get("keysym") == keysym)


@pytest.mark.desktop
async def test_cancel_stops_a_long_desktop_type(tmp_path: Path) -> None:
    log_path = tmp_path / "events.jsonl"
    script = [
        turn(computer_call("click", x=300, y=100)),
        turn(computer_call("type", text="z" * TEXT_LEN)),
        turn(message("never")),
    ]
    with VirtualDisplay(640, 480) as display:
        display.launch([sys.executable, str(APP), str(log_path)])
        await wait_for_log(log_path, lambda log: any(e["type"] == "ready" for e in log))
        async with DesktopComputer(display) as computer:
            with ScriptedResponsesServer(script) as server:
                agent = scripted_agent(computer, server, tmp_path / "run", max_type_chars=TEXT_LEN)
                task = asyncio.ensure_future(agent.run("type a lot"))
                await wait_for_log(log_path, lambda log: presses(log, "z") > 0)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await asyncio.wait_for(task, 60)
            await computer.type("#")  # queued behind any typing still in progress
            log = await wait_for_log(log_path, lambda log: presses(log, "numbersign") > 0)
    before_marker = log[: next(i for i, e in enumerate(log) if e.get("keysym") == "numbersign")]
    typed = presses(before_marker, "z")
    assert 0 < typed < TEXT_LEN // 2, f"{typed} of {TEXT_LEN} characters typed after the cancel"
    assert agent.last_result is not None and agent.last_result.status == "cancelled"
