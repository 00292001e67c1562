"""`ScreenloopAgent`, the `agent` fixture: runs, checks and extractions for one test.

Runs go through an `Agent` bound to the test's computer, a client whose
transport replays or records the test's cassette, and the test's run
directory. Checks and extractions ask the model about the current screen and
append what they asked and got to ``checks.jsonl``.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from agent._agent import Agent
from agent._api._client import AsyncResponsesClient
from agent._api._profiles import data_url
from agent._api._provider import resolve_provider
from agent._errors import CassetteError, CheckAnswerError, ConfigurationError
from agent._pytest._cassette import Cassette, Normalizer
from agent._pytest._cassette_transport import CassetteOutcome, CassetteTransport
from agent._pytest._portal import Portal
from agent._pytest._screen_checks import (
    CheckSpec,
    build_check_request,
    check_spec,
    extract_spec,
    parse_answer,
)
from agent._pytest._settings import ScreenloopSettings
from agent._result import RunResult
from agent._run._validate import dump_items
from executors._computer import Computer

__all__ = ["CheckRecord", "ScreenloopAgent"]

T = TypeVar("T")

_NO_KEY = "screenloop-replay-without-key"  # never leaves the process: live calls are refused


@dataclass
class CheckRecord:
    """One check or extraction, as written to ``checks.jsonl``."""

    kind: str
    question: str
    answer: Any
    reply: Any
    screenshot: str | None
    run_dir: str
    error: str | None = None


class ScreenloopAgent:
    """The `agent` fixture: an `Agent` bound to the test's computer, cassette and run dir.

    Sync: `run`, `check`, `extract`, `call`; async: `arun`, `acheck`, `aextract`,
    `acall`. Runs record into the test's run directory (``<root>/<test-slug>``; a
    second run in the same test into ``<root>/<test-slug>/run-2``, ...).
    """

    def __init__(
        self,
        *,
        computer: Computer,
        portal: Portal,
        settings: ScreenloopSettings,
        run_dir: Path,
        cassette: Cassette,
        origin: str | None,
    ) -> None:
        self.computer = computer
        self.settings = settings
        self.run_dir = run_dir
        self._portal = portal
        self.results: list[RunResult] = []
        self.checks: list[CheckRecord] = []
        self._current_dir = run_dir
        self.api_key, live_problem, base_url = _resolve_key(settings.base_url)
        self.normalizer = Normalizer(origin=origin, secrets=settings.secrets, api_key=self.api_key)
        self.transport = CassetteTransport(
            cassette,
            settings.record,
            self.normalizer,
            heal=settings.heal,
            threshold=settings.threshold,
            live_problem=live_problem,
        )
        self.client = AsyncResponsesClient(
            api_key=self.api_key if live_problem is None else _NO_KEY,
            base_url=base_url,
            transport=self.transport,
            max_retries=2,
        )
        self.outcome: CassetteOutcome | None = None

    def __repr__(self) -> str:
        return f"ScreenloopAgent(model={self.settings.model!r}, run_dir={str(self.run_dir)!r})"

    @property
    def last_result(self) -> RunResult | None:
        """The result of the latest `run`, if any."""
        return self.results[-1] if self.results else None

    # -- running tasks ---------------------------------------------------------------
    def run(self, task: str, **agent_kwargs: Any) -> RunResult:
        """Run `task`; raise AssertionError (run dir, last screenshot) unless it completes.

        `agent_kwargs` override the `Agent` arguments for this run (max_steps, safety...);
        ``output_schema=Model`` asks for a structured answer (``result.output``).
        """
        __tracebackhide__ = True
        result = self._portal.run(self._run(task, agent_kwargs))
        self._assert_completed(task, result)
        return result

    async def arun(self, task: str, **agent_kwargs: Any) -> RunResult:
        """`run` for async tests."""
        __tracebackhide__ = True
        result = await self._portal.arun(self._run(task, agent_kwargs))
        self._assert_completed(task, result)
        return result

    def _next_run_dir(self) -> Path:
        n = len(self.results) + 1
        return self.run_dir if n == 1 else self.run_dir / f"run-{n}"

    async def _run(self, task: str, overrides: dict[str, Any]) -> RunResult:
        s = self.settings
        kwargs: dict[str, Any] = {
            "client": self.client,
            "base_url": self.client.base_url,
            "max_steps": s.max_steps,
            "secrets": s.secrets,
            "safety": s.safety,
            "history": s.history,
            "instructions": s.instructions,
            "coordinate_space": s.coordinate_space,
            "run_dir": self._next_run_dir(),
        }
        kwargs.update(overrides)
        output_schema = kwargs.pop("output_schema", None)
        runner = Agent(self.computer, s.model, **kwargs)
        self._current_dir = Path(kwargs["run_dir"])
        try:
            result = await runner.run(task, output_schema=output_schema)
        finally:
            if runner.last_result is not None:
                self.results.append(runner.last_result)
        return result

    def _assert_completed(self, task: str, result: RunResult) -> None:
        __tracebackhide__ = True
        if result.ok:
            return
        lines = [
            f"screenloop: the task did not complete (status {result.status!r} after "
            f"{len(result.steps)} step(s)).",
            f"  task: {task}",
        ]
        if result.error:
            lines.append(f"  error: {result.error.get('type')}: {result.error.get('message')}")
        if result.final_output:
            lines.append(f"  final output: {result.final_output}")
        lines += self.location_lines()
        raise AssertionError("\n".join(lines))

    # -- checks ----------------------------------------------------------------------
    def check(self, question: str) -> bool:
        """Ask the model a yes/no question about the current screen."""
        __tracebackhide__ = True
        return bool(self._portal.run(self._ask("check", question, check_spec())))

    async def acheck(self, question: str) -> bool:
        """`check` for async tests."""
        __tracebackhide__ = True
        return bool(await self._portal.arun(self._ask("check", question, check_spec())))

    def extract(self, question: str, schema: Any, *, name: str | None = None) -> Any:
        """Ask the model for a value of `schema` (a type, pydantic model or JSON schema)."""
        __tracebackhide__ = True
        return self._portal.run(self._ask("extract", question, extract_spec(schema, name)))

    async def aextract(self, question: str, schema: Any, *, name: str | None = None) -> Any:
        """`extract` for async tests."""
        __tracebackhide__ = True
        return await self._portal.arun(self._ask("extract", question, extract_spec(schema, name)))

    async def _ask(self, kind: str, question: str, spec: CheckSpec) -> Any:
        computer = self.computer
        with contextlib.suppress(Exception):
            await computer.settle(2.0)
        shot = await computer.screenshot()
        body = build_check_request(self.settings.model, question, data_url(shot), spec)
        index = len(self.checks) + 1
        shots = self._current_dir / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        ext = "jpg" if shot.format == "jpeg" else shot.format
        shot_path = shots / f"check-{index:02d}.{ext}"
        shot_path.write_bytes(shot.data)
        record = CheckRecord(kind, question, None, None, str(shot_path), str(self._current_dir))
        self.checks.append(record)
        try:
            response = await self.client.create(body)
            output = dump_items(response.output)
            value, reply = parse_answer(output, spec)
        except (CassetteError, CheckAnswerError) as exc:
            record.error = f"{type(exc).__name__}: {exc}"
            self._write_check(record, index, spec)
            raise AssertionError(
                f"screenloop {kind} failed: {question!r}\n  {record.error}\n"
                + "\n".join(self.location_lines())
            ) from exc
        record.answer, record.reply = _jsonable(value), reply
        self._write_check(record, index, spec)
        return value

    def _write_check(self, record: CheckRecord, index: int, spec: CheckSpec) -> None:
        line = {
            "index": index,
            "kind": record.kind,
            "question": record.question,
            "schema_name": spec.name,
            "answer": record.answer,
            "reply": record.reply,
            "screenshot": os.path.relpath(record.screenshot, record.run_dir)
            if record.screenshot
            else None,
            "error": record.error,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        redacted = self.normalizer.redact(line)
        with open(Path(record.run_dir) / "checks.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(redacted, ensure_ascii=False) + "\n")

    # -- the computer ----------------------------------------------------------------
    def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run ``await fn(*args, **kwargs)`` on the loop the computer lives on (sync tests)."""

        async def _go() -> T:
            return await fn(*args, **kwargs)

        return self._portal.run(_go())

    async def acall(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """`call` for async tests."""

        async def _go() -> T:
            return await fn(*args, **kwargs)

        return await self._portal.arun(_go())

    # -- reporting -------------------------------------------------------------------
    def last_screenshot(self) -> Path | None:
        """The newest screenshot of the test: the last run's last step, or the last check."""
        candidates: list[Path] = []
        result = self.last_result
        if result is not None and result.run_dir is not None:
            shots = sorted((Path(result.run_dir) / "screenshots").glob("[0-9]*.*"))
            if shots:
                candidates.append(shots[-1])
        if self.checks and self.checks[-1].screenshot:
            candidates.append(Path(self.checks[-1].screenshot))
        existing = [c for c in candidates if c.exists()]
        return max(existing, key=lambda p: p.stat().st_mtime) if existing else None

    def report_path(self) -> Path | None:
        """The last run's report.html (built now if the run did not build it)."""
        result = self.last_result
        if result is None or result.run_dir is None:
            return None
        target = Path(result.run_dir) / "report.html"
        if not target.exists():
            with contextlib.suppress(Exception):
                from agent._record._report import build_report

                build_report(result.run_dir)
        return target if target.exists() else None

    def location_lines(self) -> list[str]:
        """Where to look: run dir, report, last screenshot, cassette."""
        lines = [f"  run dir: {self._current_dir}"]
        report = self.report_path()
        if report is not None:
            lines.append(f"  report: {report}")
        shot = self.last_screenshot()
        if shot is not None:
            lines.append(f"  last screenshot: {shot}")
        lines.append(f"  cassette: {self.transport.cassette.path} (record={self.settings.record})")
        if self.checks:  # `assert agent.check(...)` alone shows only `assert False`
            last = self.checks[-1]
            reason = last.reply.get("reason") if isinstance(last.reply, dict) else None
            said = f"; the model said: {reason}" if reason else ""
            lines.append(f"  last {last.kind}: {last.question!r} -> {last.answer!r}{said}")
        return lines

    def properties(self) -> list[tuple[str, str]]:
        """Name/value pairs for JUnit XML (``record_property``)."""
        props = [("screenloop_run_dir", str(self._current_dir))]
        report = self.report_path()
        if report is not None:
            props.append(("screenloop_report", str(report)))
        shot = self.last_screenshot()
        if shot is not None:
            props.append(("screenloop_last_screenshot", str(shot)))
        props.append(("screenloop_cassette_path", str(self.transport.cassette.path)))
        return props

    async def aclose(self) -> None:
        """Close the client (and its live transport)."""
        await self.client.aclose()


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _resolve_key(base_url: str | None) -> tuple[str | None, str | None, str | None]:
    """(api key, why live calls are impossible or None, base URL) from arguments and env."""
    try:
        resolved = resolve_provider(base_url=base_url)
    except ConfigurationError as exc:
        return None, f"no API key is set: {exc}", base_url
    return resolved.api_key, None, resolved.base_url
