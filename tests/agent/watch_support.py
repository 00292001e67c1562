"""A live scripted run with a watch page, and real Chromium looking at it (issue 19 tests).

`LiveRun` runs an `Agent` on a `RecordingComputer` against the scripted
Responses server, with a `WatchServer`; a `Gate` hook can hold the run at
chosen events until the test lets it go, so a test checks what the page shows
*while* the run is at a known point -- no sleeps, only events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demo_driver import launch_browser
from playwright.async_api import Page

from agent import Agent, AgentHooks, RunResult, WatchServer
from agent._events import Event
from agent.testing import RecordingComputer, ScriptedResponsesServer

API_KEY = "sk-watch-test-key-0123456789"


class Gate(AgentHooks):
    """Holds the run at each event of the given kinds until the test releases it."""

    def __init__(self, *kinds: str) -> None:
        self.kinds = set(kinds)
        self.held: asyncio.Queue[tuple[Event, asyncio.Event]] = asyncio.Queue()
        self.seen: list[Event] = []
        self.on: dict[str, Any] = {}
        self._gos: list[asyncio.Event] = []

    async def on_event(self, event: Event) -> None:
        self.seen.append(event)
        action = self.on.get(getattr(event, "control", None) or event.kind)
        if action is not None:
            action(event)
        if event.kind in self.kinds:
            go = asyncio.Event()
            self._gos.append(go)
            await self.held.put((event, go))
            await go.wait()

    async def hold(self, kind: str, **fields: Any) -> tuple[Event, asyncio.Event]:
        """The next held event (of `kind`, matching `fields`); others are let go."""
        while True:
            event, go = await asyncio.wait_for(self.held.get(), 60)
            if event.kind == kind and all(getattr(event, k) == v for k, v in fields.items()):
                return event, go
            go.set()

    def open(self) -> None:
        """Hold nothing more (and let go what is held)."""
        self.kinds.clear()
        for go in self._gos:
            go.set()


@dataclass
class LiveRun:
    watch: WatchServer
    server: ScriptedResponsesServer
    computer: RecordingComputer
    agent: Agent
    task: asyncio.Task[RunResult]
    run_dir: Path
    gate: Gate
    pages: list[Page] = field(default_factory=list)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.server.requests if r.method == "POST"]

    def steps(self) -> list[dict[str, Any]]:
        lines = (self.run_dir / "steps.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]


@contextlib.asynccontextmanager
async def live_run(
    tmp_path: Path,
    script: Iterable[Any],
    *,
    gate: Gate | None = None,
    task: str = "do the task",
    viewport: tuple[int, int] = (1280, 720),
    **agent_kwargs: Any,
) -> AsyncIterator[tuple[LiveRun, Page]]:
    """Start the run (held by `gate`) and open its watch page in Chromium."""
    gate = gate or Gate()
    run_dir = tmp_path / "run"
    computer = RecordingComputer((800, 500))
    with (
        WatchServer(approval_timeout_s=120) as watch,
        ScriptedResponsesServer(list(script)) as server,
    ):
        agent = Agent(
            computer,
            base_url=server.base_url,
            api_key=API_KEY,
            run_dir=run_dir,
            watch=watch,
            hooks=gate,
            **agent_kwargs,
        )
        runner = asyncio.ensure_future(agent.run(task))
        live = LiveRun(watch, server, computer, agent, runner, run_dir, gate)
        try:
            async for browser in launch_browser():
                page = await browser.new_page(
                    viewport={"width": viewport[0], "height": viewport[1]}
                )
                await asyncio.sleep(0)  # the run registers as it starts, before its first await
                assert watch.runs()
                await page.goto(watch.url)
                live.pages.append(page)
                yield live, page
        finally:
            gate.open()
            if not runner.done():
                runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
