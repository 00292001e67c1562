"""One attempt of one task: a run with the task's options, then its success check.

An attempt is what `screenloop run` does with the task's `RunOptions` (the
batch's options overridden by the task's keys): the same checks
(`check_run_options`), the same Agent arguments (`agent_kwargs`), the same
computers (`open_run_computer`), into its own run directory. Around it, the
attempt may start a fresh demo shop (``url: demo:/PATH``) and a scripted model
(``script``), and after it evaluates the success check while the computer is
still open (agent/_batch/_checks.py).

The outcome is the *attempt record*, a JSON object (see `attempt_record`), written
by the engine next to the run directory. An attempt that was cancelled
(Ctrl-C) is recorded as ``finished: false``: `--resume` runs it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from agent._agent import Agent
from agent._api._client import AsyncResponsesClient
from agent._api._profiles import data_url
from agent._api._provider import resolve_provider
from agent._batch._checks import evaluate_check
from agent._batch._tasks import BatchTask
from agent._cli._run import (
    RunOptions,
    agent_kwargs,
    check_run_options,
    open_run_computer,
    record_failed_start,
)
from agent._cli._run_finishing import run_kwargs
from agent._events import AgentHooks
from agent._pytest._screen_checks import build_check_request, check_spec, parse_answer
from agent._record._claim import claim_run_dir
from agent._record._report import REPORT_FILENAME
from agent._result import RunResult, output_json
from agent._run._validate import dump_items
from agent._safety import AskCallback, SafetyMode
from agent._secrets import Redactor
from agent._watch._server import WatchServer
from agent.demo import DEMO_PASSWORD, DEMO_SECRETS, DEMO_USERNAME, DemoApp
from agent.testing import Dialect, Script, ScriptedResponsesServer
from executors._computer import Computer

__all__ = [
    "Attempt",
    "BatchRunSettings",
    "attempt_options",
    "attempt_record",
    "dumps_record",
    "run_attempt",
    "shares_browser",
    "utc_now",
]

_MAX_ANSWER = 4000


def utc_now() -> str:
    """The time now, UTC, to the millisecond: ``2026-12-02T11:48:11.123Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Attempt:
    """Attempt `number` (1-based) of `task`, recorded in `run_dir` (``rel_dir`` in the batch)."""

    task: BatchTask
    number: int
    run_dir: Path
    rel_dir: str

    @property
    def key(self) -> str:
        """``<task id>#<number>``."""
        return f"{self.task.id}#{self.number}"


@dataclass(frozen=True)
class BatchRunSettings:
    """What every attempt shares: the batch's own run options, secrets, where the file is."""

    base: RunOptions
    secrets: dict[str, str]
    task_dir: Path
    watch: WatchServer | None = None
    """The batch's one watch page (``--watch``): every attempt registers its run with it."""
    ask: Callable[[str], AskCallback] | None = None
    """``--safety ask``: the safety callback of an attempt, by its key (``<task id>#<n>``);
    without it the watch page alone answers (agent/_cli/_batch_ask.py)."""


def attempt_options(base: RunOptions, task: BatchTask, run_dir: Path) -> RunOptions:
    """The run options of one attempt: the batch's, then the task's keys."""
    return dataclasses.replace(base, **dict(task.options), task=task.task, record=run_dir)


def shares_browser(opts: RunOptions) -> bool:
    """Whether a run with `opts` uses the process's shared local Chromium (a context of
    its own in it): a local browser, not isolated, not on a profile directory, not
    headed (a headed one may get a display of its own), not someone else's browser."""
    other = (opts.desktop, opts.x_display, opts.host_desktop, opts.cdp_url, opts.ws_endpoint)
    own = (opts.isolated_browser, opts.user_data_dir, opts.headed)
    return opts.computer == "local" and not any(other) and not any(own)


def _sign_in(app: DemoApp) -> None:
    """Sign the demo shop's one shopper in, as its sign-in form would."""
    form = urllib.parse.urlencode({"username": DEMO_USERNAME, "password": DEMO_PASSWORD})
    # the shop's own loopback http:// URL, never one from a task file
    request = urllib.request.Request(app.url + "signin", data=form.encode(), method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()


@contextlib.contextmanager
def _around(task: BatchTask, opts: RunOptions) -> Iterator[tuple[RunOptions, str | None]]:
    """A demo shop and a scripted model for the attempt, when the task asks for them."""
    with contextlib.ExitStack() as stack:
        demo_url = None
        if task.demo_path is not None:
            app = stack.enter_context(DemoApp())
            if task.demo_path != "/signin":
                _sign_in(app)
            demo_url = app.url
            opts = dataclasses.replace(opts, url=app.url + task.demo_path.lstrip("/"))
        if task.script is not None:
            dialect: Dialect = (
                "openai" if opts.model.startswith(("computer-use", "gpt")) else "lightcone"
            )
            server = stack.enter_context(
                ScriptedResponsesServer(Script(list(task.script)), dialect=dialect)
            )
            opts = dataclasses.replace(
                opts, base_url=server.base_url, provider="custom", api_key=None
            )
        yield opts, demo_url


async def run_attempt(
    attempt: Attempt,
    settings: BatchRunSettings,
    write: Callable[[dict[str, Any]], None],
    hooks: AgentHooks | None = None,
) -> dict[str, Any]:
    """Run `attempt`, hand its attempt record to `write` and return it.

    Cancelled, it writes the record with ``finished: false`` and re-raises.
    """
    task = attempt.task
    started, started_at = time.monotonic(), utc_now()
    opts = attempt_options(settings.base, task, attempt.run_dir)
    secrets = dict(settings.secrets)
    if task.demo_path is not None:
        secrets = {**DEMO_SECRETS, **secrets}
    agents: list[Agent] = []
    final_url: str | None = None
    checks: list[dict[str, Any]] = []
    error: dict[str, str] | None = None
    redact = Redactor(secrets)
    cancelled: asyncio.CancelledError | None = None
    try:
        with (
            _around(task, opts) as (opts, demo_url),
            claim_run_dir(attempt.run_dir, overwrite=True),
        ):
            size = check_run_options(opts)
            provider = resolve_provider(
                api_key=opts.api_key,
                base_url=opts.base_url,
                provider=opts.provider,
                send_env_key=opts.send_env_key,
            )
            redact = Redactor(secrets, provider.api_key)
            kwargs = agent_kwargs(
                opts,
                size=size,
                secrets=secrets,
                safety=cast(SafetyMode, opts.safety or "deny"),
                # agent_kwargs types the run command's sync prompt; Agent takes async too
                ask_callback=cast(Any, settings.ask(attempt.key))
                if opts.safety == "ask" and settings.ask is not None
                else None,
                run_dir=attempt.run_dir,
                hooks=hooks or AgentHooks(),
            )
            kwargs["api_key"] = provider.api_key
            kwargs["run_info"] = {
                **kwargs["run_info"],
                "batch": {"task_id": task.id, "attempt": attempt.number},
            }
            kwargs.update(task.agent)
            kwargs["watch"] = settings.watch
            try:
                async with open_run_computer(opts, size) as computer:
                    agents.append(Agent(computer, **kwargs))
                    result = await agents[0].run(opts.task, **run_kwargs(opts))
                    with contextlib.suppress(Exception):
                        final_url = await computer.current_url()
                    if final_url is None and result.steps:
                        final_url = result.steps[-1].url
                    env = {
                        "SCREENLOOP_RUN_DIR": str(attempt.run_dir.resolve()),
                        "SCREENLOOP_STATUS": result.status,
                        "SCREENLOOP_FINAL_OUTPUT": result.final_output or "",
                        "SCREENLOOP_URL": final_url or "",
                        "SCREENLOOP_TASK_ID": task.id,
                        "SCREENLOOP_ATTEMPT": str(attempt.number),
                        "SCREENLOOP_DEMO_URL": demo_url or "",
                        "SCREENLOOP_OUTPUT": _output_text(result),
                    }
                    checks = await evaluate_check(
                        task.check,
                        result,
                        final_url=final_url,
                        ask=_asker(computer, opts, provider.api_key),
                        cwd=settings.task_dir,
                        env=env,
                        redact=redact,
                    )
            except Exception as exc:
                if not agents:  # the computer or the agent never came up: run.json says why
                    record_failed_start(attempt.run_dir, opts, exc, redact)
                raise
    except asyncio.CancelledError as exc:
        cancelled = exc
    except Exception as exc:  # one attempt's failure is its record, never the batch's end
        error = {"type": type(exc).__name__, "message": redact.text(str(exc))[:2000]}
    result_now = agents[0].last_result if agents else None
    record = attempt_record(
        attempt,
        result_now,
        checks=checks,
        final_url=final_url,
        error=error,
        started_at=started_at,
        time_s=time.monotonic() - started,
        redact=redact,
        cancelled=cancelled is not None,
    )
    write(record)
    if cancelled is not None:
        raise cancelled
    return record


def _asker(computer: Computer, opts: RunOptions, api_key: str | None) -> Any:
    async def ask(question: str) -> bool:
        spec = check_spec()
        with contextlib.suppress(Exception):
            await computer.settle(2.0)
        shot = await computer.screenshot()
        body = build_check_request(opts.model, question, data_url(shot), spec)
        client = AsyncResponsesClient(
            api_key=api_key, base_url=opts.base_url, provider=opts.provider, max_retries=2
        )
        try:
            response = await client.create(body)
        finally:
            await client.aclose()
        value, _ = parse_answer(dump_items(response.output), spec)
        return bool(value)

    return ask


def _output_text(result: RunResult) -> str:
    """The structured output as JSON text ("" without one), for a command check."""
    if result.output is None:
        return ""
    return json.dumps(output_json(result.output), ensure_ascii=False)


def attempt_record(
    attempt: Attempt,
    result: RunResult | None,
    *,
    checks: list[dict[str, Any]],
    final_url: str | None,
    error: dict[str, str] | None,
    started_at: str,
    time_s: float,
    redact: Redactor,
    cancelled: bool = False,
) -> dict[str, Any]:
    """The JSON record of a finished (or cancelled) attempt."""
    status = result.status if result is not None else "error"
    if cancelled:
        status = "cancelled"
    if result is not None and result.error and error is None:
        error = {k: redact.text(str(v))[:2000] for k, v in result.error.items()}
    if status == "running":  # cancelled before the loop could say so
        status = "cancelled"
    finished = status != "cancelled"
    if not checks:
        why = f": {error.get('type')}: {error.get('message')}" if error else ""
        detail = f"the run ended with status {status}{why}"[:2000]
        checks = [{"kind": "status", "ok": False, "detail": detail}]
    passed = finished and all(part["ok"] for part in checks)
    usage = dict(result.usage) if result is not None else {}
    report = attempt.run_dir / REPORT_FILENAME
    answer = result.final_output if result is not None else None
    return {
        "schema_version": 1,
        "task_id": attempt.task.id,
        "attempt": attempt.number,
        "finished": finished,
        "passed": passed,
        "status": status,
        "checks": checks,
        "steps": len(result.steps) if result is not None else 0,
        "usage": usage,
        "tokens": int(usage.get("total_tokens", 0) or 0),
        "time_s": round(time_s, 3),
        "final_output": redact.text(answer)[:_MAX_ANSWER] if answer else None,
        "output": _recorded_output(result, redact),
        "url": redact.text(final_url)[:_MAX_ANSWER] if final_url else None,
        "error": error,
        "run_dir": attempt.rel_dir,
        "report": f"{attempt.rel_dir}/{REPORT_FILENAME}" if report.exists() else None,
        "started_at": started_at,
        "ended_at": utc_now(),
    }


def _recorded_output(result: RunResult | None, redact: Redactor) -> Any:
    """The validated structured output (``--output-schema``), as JSON; None without one.
    A value whose JSON is over the answer's bound is kept as truncated text."""
    if result is None or result.output is None:
        return None
    text = redact.text(json.dumps(output_json(result.output), ensure_ascii=False))
    if len(text) > _MAX_ANSWER:
        return text[:_MAX_ANSWER]
    try:
        return json.loads(text)
    except ValueError:  # a redaction inside an escape: the text is still the record
        return text


def dumps_record(record: dict[str, Any]) -> str:
    """The record as written to its file."""
    return json.dumps(record, ensure_ascii=False, indent=1) + "\n"
