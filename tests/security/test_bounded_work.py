"""Bounded work and prompt cancel (issue 13, rows 6 and 7).

A response asking for too many actions or too long a text runs nothing and
ends the run with a `WorkLimitError` the record shows; a run stops after a
default `--max-time`; a long typed text is sent in chunks, so cancelling the
run stops it after the chunk in flight and releases held input.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from rel_support import scripted_agent

from agent import WorkLimitError
from agent._actions._dispatch import TYPE_CHUNK, type_chunks
from agent._cli._exit_codes import ExitCode, exit_code_for_status
from agent._cli._run import DEFAULT_MAX_TIME_S, RunOptions
from agent.testing import RecordingComputer, ScriptedResponsesServer, computer_call, message, turn


def batch(n: int) -> dict[str, Any]:
    actions = [{"type": "move", "x": 10 + i % 50, "y": 10} for i in range(n)]
    return {"type": "computer_call", "call_id": "c1", "actions": actions}


@pytest.mark.parametrize(
    ("item", "kwargs", "refused"),
    [
        (batch(101), {}, True),
        (batch(100), {}, False),
        (batch(101), {"max_actions_per_response": None}, False),
        (batch(30), {"max_actions_per_response": 20}, True),
        (computer_call("type", text="x" * 10_001), {}, True),
        (computer_call("type", text="x" * 10_000), {}, False),
        (computer_call("point_and_type", x=5, y=5, text="y" * 501), {"max_type_chars": 500}, True),
    ],
)
async def test_a_response_over_the_limits_runs_nothing(
    tmp_path: Path, item: dict[str, Any], kwargs: dict[str, Any], refused: bool
) -> None:
    computer = RecordingComputer((200, 100))
    with ScriptedResponsesServer([turn(item), turn(message("done"))]) as server:
        agent = scripted_agent(computer, server, tmp_path / "run", **kwargs)
        result = await agent.run("work")
    acted = [c for c in computer.calls if c.name in ("move", "type", "click")]
    if not refused:
        assert result.status == "completed", result.error
        assert acted
        return
    assert result.status == "error" and result.error is not None
    assert result.error["type"] == WorkLimitError.__name__
    assert acted == [], "part of a refused response ran"
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["error"]["type"] == "WorkLimitError" and "limit" in run["error"]["message"]
    assert exit_code_for_status(result.status, result.error) == ExitCode.LIMIT_REACHED


def test_the_cli_bounds_a_run_by_default() -> None:
    opts = RunOptions(task="t")
    assert opts.max_time == DEFAULT_MAX_TIME_S and 0 < DEFAULT_MAX_TIME_S <= 3600
    assert opts.max_actions == 100 and opts.max_type_chars == 10_000


def test_type_chunks_keep_the_text_and_crlf_pairs() -> None:
    text = ("a" * (TYPE_CHUNK - 1)) + "\r\n" + "é漢" * 100
    chunks = type_chunks(text)
    assert "".join(chunks) == text
    assert all(len(c) <= TYPE_CHUNK + 1 for c in chunks)
    assert not any(c.endswith("\r") for c in chunks[:-1])


class SlowTyper(RecordingComputer):
    """Types each chunk only when the test lets it (a typing executor mid-text)."""

    def __init__(self) -> None:
        super().__init__((200, 100))
        self.typing = asyncio.Event()
        self.gate = asyncio.Event()

    async def type(self, text: str) -> None:
        await super().type(text)
        self.typing.set()
        await self.gate.wait()


async def test_cancel_stops_a_long_type_between_chunks_and_releases_input(
    tmp_path: Path,
) -> None:
    computer = SlowTyper()
    text = "z" * 9_000
    script = [
        turn(computer_call("key_down", keys=["shift"])),
        turn(computer_call("type", text=text)),
        turn(message("never")),
    ]
    with ScriptedResponsesServer(script) as server:
        agent = scripted_agent(computer, server, tmp_path / "run")
        task = asyncio.ensure_future(agent.run("type a lot"))
        await computer.typing.wait()
        task.cancel()
        computer.gate.set()
        with pytest.raises(asyncio.CancelledError):
            await task
    typed = "".join(c.args["text"] for c in computer.calls_named("type"))
    assert len(typed) <= TYPE_CHUNK, f"{len(typed)} characters typed after the cancel"
    names = [c.name for c in computer.calls]
    assert "release_all" in names[names.index("type") :], names
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["status"] == "cancelled"
