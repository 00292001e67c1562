"""`Harness`: runs an Agent on a RecordingComputer against the scripted server."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agent import Agent, RunResult
from agent.testing import RecordingComputer, ScriptedResponsesServer

API_KEY = "sk-test-key-123456"


class Harness:
    """Runs an Agent on a RecordingComputer against a ScriptedResponsesServer."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.server: ScriptedResponsesServer | None = None
        self.computer: RecordingComputer | None = None
        self.agent: Agent | None = None
        self.run_dir = tmp_path / "run"

    async def run(
        self,
        script: Iterable[Any],
        *,
        task: str = "do the task",
        computer: RecordingComputer | None = None,
        dialect: str = "lightcone",
        **agent_kwargs: Any,
    ) -> RunResult:
        self.computer = computer or RecordingComputer((1000, 500))
        agent_kwargs.setdefault("run_dir", self.run_dir)
        with ScriptedResponsesServer(list(script), dialect=dialect) as server:  # type: ignore[arg-type]
            self.server = server
            self.agent = Agent(
                self.computer, base_url=server.base_url, api_key=API_KEY, **agent_kwargs
            )
            return await self.agent.run(task)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        assert self.server is not None
        return [r.body for r in self.server.requests if r.method == "POST"]

    def run_json(self) -> dict[str, Any]:
        return json.loads((self.run_dir / "run.json").read_text())

    def steps_jsonl(self) -> list[dict[str, Any]]:
        lines = (self.run_dir / "steps.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]

    def record_text(self) -> str:
        """Every text file of the run directory, concatenated."""
        return "\n".join(
            p.read_text()
            for p in sorted(self.run_dir.rglob("*"))
            if p.suffix in (".json", ".jsonl")
        )
