"""Two desktop agents in one process, at once: each gets a display of its own.

Each `VirtualDisplay` shows its own Tk app logging its input events; two agents
run concurrently in one event loop, each typing its own word. Each app's log
holds its own word and none of the other's.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rel_support import API_KEY, check_run_dir

from agent import Agent
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import DesktopComputer
from sandbox import VirtualDisplay

pytestmark = pytest.mark.desktop

APP = Path(__file__).resolve().parent.parent / "apps" / "tk_events.py"


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_ready(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(e["type"] == "ready" for e in read_log(path)):
        assert time.monotonic() < deadline, f"the app did not get ready: {read_log(path)[-3:]}"
        time.sleep(0.05)


async def test_two_desktop_agents_each_drive_their_own_display(tmp_path: Path) -> None:
    words = ["leftword", "rightword"]
    logs = [tmp_path / f"events-{i}.jsonl" for i in range(2)]
    with VirtualDisplay(480, 320) as first, VirtualDisplay(480, 320) as second:
        displays = [first, second]
        assert first.display != second.display
        for display, log in zip(displays, logs, strict=True):
            display.launch([sys.executable, str(APP), str(log)])
        for log in logs:
            await asyncio.to_thread(wait_ready, log)
        servers = [
            ScriptedResponsesServer(
                [
                    turn(computer_call("click", x=100, y=60)),
                    turn(computer_call("type", text=word)),
                    turn(message("typed")),
                ]
            )
            for word in words
        ]
        for server in servers:
            server.__enter__()
        try:
            agents = [
                Agent(
                    DesktopComputer(display),
                    base_url=server.base_url,
                    api_key=API_KEY,
                    coordinate_space="pixels",
                    run_dir=tmp_path / f"run-{i}",
                    close_computer=True,
                )
                for i, (display, server) in enumerate(zip(displays, servers, strict=True))
            ]
            results = await asyncio.wait_for(
                asyncio.gather(*(a.run(f"type {w}") for a, w in zip(agents, words, strict=True))),
                120,
            )
        finally:
            for server in servers:
                server.__exit__(None, None, None)
    assert [r.status for r in results] == ["completed", "completed"], [r.error for r in results]
    for i, (log, word) in enumerate(zip(logs, words, strict=True)):
        check_run_dir(tmp_path / f"run-{i}", "completed")
        texts = [e["text"] for e in read_log(log) if e["type"] == "text"]
        assert texts and texts[-1].strip() == word, (i, texts[-3:])
        other = words[1 - i]
        assert not any(other in t for t in texts), (i, texts)
