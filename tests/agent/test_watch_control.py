"""Steering without a browser: `RunControl` through a watched Agent, the terminal prompt beside
the page (first answer wins), the approval timeout, a stop before the run starts (issue 19)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from agent import Agent, AgentHooks, ConfigurationError, ControlEvent, WatchServer
from agent._cli._watch import TerminalAsk
from agent._events import Event
from agent._safety import SafetyCheck
from agent.testing import (
    RecordingComputer,
    ScriptedResponsesServer,
    computer_call,
    message,
    safety_check,
    turn,
)

API_KEY = "sk-watch-control-0123456789"
CHECKED = [
    turn(computer_call({"type": "click", "x": 5, "y": 5}, safety_checks=[safety_check("buy")])),
    turn(message("done")),
]


def _steps(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]


def _controls(run_dir: Path) -> list[tuple[int, str, str]]:
    return [
        (s["step"], e["control"], e["by"])
        for s in _steps(run_dir)
        for e in s["events"]
        if e["kind"] == "control"
    ]


async def test_a_pause_asked_before_the_first_request_holds_it_until_resume(
    tmp_path: Path,
) -> None:
    seen: list[int] = []

    class PauseThenResume(AgentHooks):
        async def on_event(self, event: Event) -> None:
            control = watch.runs()[0].control
            if event.kind == "screenshot_taken":  # the first screen, before the first request
                control.request_pause("test")
            if isinstance(event, ControlEvent) and event.control == "pause":
                seen.append(len(server.requests))  # held before the first request
                control.request_resume("test")

    with WatchServer() as watch, ScriptedResponsesServer([turn(message("hi"))]) as server:
        agent = Agent(
            RecordingComputer(), base_url=server.base_url, api_key=API_KEY, watch=watch,
            run_dir=tmp_path / "run", hooks=PauseThenResume(),
        )  # fmt: skip
        result = await agent.run("greet")
    assert seen == [0]
    assert result.status == "completed"
    assert _controls(tmp_path / "run") == [(1, "pause", "test"), (1, "resume", "test")]


async def test_a_stop_before_the_run_starts_ends_it_cancelled_without_a_request(
    tmp_path: Path,
) -> None:
    class StopAtOnce(AgentHooks):
        async def on_event(self, event: Event) -> None:
            if event.kind == "screenshot_taken":
                watch.runs()[0].control.request_stop("test")

    with WatchServer() as watch, ScriptedResponsesServer([turn(message("hi"))]) as server:
        computer = RecordingComputer()
        agent = Agent(
            computer, base_url=server.base_url, api_key=API_KEY, watch=watch,
            run_dir=tmp_path / "run", hooks=StopAtOnce(),
        )  # fmt: skip
        result = await agent.run("greet")
    assert result.status == "cancelled"
    assert computer.calls_named("release_all")
    assert not [r for r in server.requests if r.method == "POST"]


class _Terminal:
    """An answer from "the terminal", at once."""

    decided_by = "terminal"

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.abandoned = False

    async def __call__(self, checks: Sequence[SafetyCheck]) -> bool:
        return self.answer

    def abandon(self) -> None:
        self.abandoned = True


async def test_the_terminal_answering_first_wins_and_closes_the_page_prompt(
    tmp_path: Path,
) -> None:
    with WatchServer() as watch, ScriptedResponsesServer(CHECKED) as server:
        agent = Agent(
            RecordingComputer(), base_url=server.base_url, api_key=API_KEY, watch=watch,
            run_dir=tmp_path / "run", safety="ask", ask_callback=_Terminal(True),
        )  # fmt: skip
        result = await agent.run("buy")
        log = watch.runs()[0].entries(0, 0)
    assert result.status == "completed"
    closed = [e for e in log if e["kind"] == "approval_closed"]
    assert [(e["decision"], e["by"]) for e in closed] == [("acknowledged", "terminal")]
    assert _controls(tmp_path / "run") == [(1, "safety_answer", "terminal")]


async def test_nobody_answering_denies_at_the_timeout(tmp_path: Path) -> None:
    with WatchServer(approval_timeout_s=0.2) as watch, ScriptedResponsesServer(CHECKED) as server:
        computer = RecordingComputer()
        agent = Agent(
            computer, base_url=server.base_url, api_key=API_KEY, watch=watch,
            run_dir=tmp_path / "run", safety="ask",
        )  # fmt: skip
        result = await agent.run("buy")
    assert result.status == "safety_denied"
    assert not computer.calls_named("click")
    assert _controls(tmp_path / "run") == [(1, "safety_answer", "timeout")]
    assert [s["decision"] for s in _steps(tmp_path / "run")[0]["safety"]] == ["denied"]


def test_the_terminal_prompt_stops_reading_when_the_page_answered() -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(read_end) as stdin, os.fdopen(write_end, "w"):
        ask = TerminalAsk(Console(file=io.StringIO()), None, stdin)
        answers: list[bool] = []
        thread = threading.Thread(target=lambda: answers.append(ask([SafetyCheck("1", "c", "m")])))
        thread.start()
        ask.abandon()
        thread.join(30)
        assert not thread.is_alive() and answers == [False]


def test_the_terminal_prompt_takes_yes() -> None:
    ask = TerminalAsk(Console(file=io.StringIO()), None, io.StringIO("y\n"))
    assert ask([SafetyCheck("1", "c", "m")]) is True


async def test_a_stop_while_a_safety_check_waits_cancels_the_run_and_closes_the_prompt(
    tmp_path: Path,
) -> None:
    async def stop_instead(checks: Sequence[SafetyCheck]) -> bool:
        watch.runs()[0].control.request_stop("test")
        await asyncio.Event().wait()  # never answers
        return False

    with WatchServer() as watch, ScriptedResponsesServer(CHECKED) as server:
        computer = RecordingComputer()
        agent = Agent(
            computer, base_url=server.base_url, api_key=API_KEY, watch=watch,
            run_dir=tmp_path / "run", safety="ask", ask_callback=stop_instead,
        )  # fmt: skip
        result = await agent.run("buy")
        log = watch.runs()[0].entries(0, 0)
    assert result.status == "cancelled"
    assert not computer.calls_named("click") and computer.calls_named("release_all")
    closed = [(e["decision"], e["by"]) for e in log if e["kind"] == "approval_closed"]
    assert closed == [("denied", "cancelled")]
    assert _controls(tmp_path / "run") == [(1, "stop", "test")]


async def test_watch_true_serves_on_a_free_port_and_says_where_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ScriptedResponsesServer([turn(message("hi"))]) as server:
        agent = Agent(
            RecordingComputer(), base_url=server.base_url, api_key=API_KEY, watch=True,
            run_dir=tmp_path / "run",
        )  # fmt: skip
        assert agent.watch is not None
        try:
            assert (await agent.run("greet")).status == "completed"
            err = capsys.readouterr().err
            assert agent.watch.url in err and agent.watch.url.startswith("http://127.0.0.1:")
        finally:
            agent.watch.close()
    with pytest.raises(ConfigurationError):
        Agent(RecordingComputer(), watch="yes")  # type: ignore[arg-type]
