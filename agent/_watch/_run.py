"""`WatchedRun`: what the watch page knows of one live run, fed by the run's own events.

It is an `AgentHooks`: the Agent hands it every event of the run, and it turns
each into a small JSON entry of an append-only log (redacted with the run's
redactor, secrets as placeholders) that the server streams to the page as
server-sent events. Screenshots are not in the log: an entry names the shot by
number and the server serves the file the recorder wrote.

It also answers the page: controls go to the run's `RunControl`, and `ask`
is the safety callback of a watched run -- the page's Acknowledge / Deny, the
terminal prompt when there is one (first answer wins), a timeout that denies.

The log is written in the run's event loop thread and read by the server's
HTTP threads: a `threading.Condition` guards it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent._actions._recorded import describe_screen_action, mask_placeholders
from agent._events import (
    ActionExecuted,
    ActionStarting,
    AgentHooks,
    ControlEvent,
    Event,
    Finished,
    ResponseReceived,
    SafetyDecision,
    ScreenshotTaken,
    StepStarted,
    event_to_dict,
)
from agent._record._report import REPORT_FILENAME
from agent._safety import AskCallback, SafetyCheck, SafetyPolicy, maybe_await

if TYPE_CHECKING:
    from agent._run._loop import RunLoop

__all__ = ["MAX_LOG_ENTRIES", "WatchedRun", "page_only"]

logger = logging.getLogger(__name__)

MAX_LOG_ENTRIES = 20_000
"""A run's log stops growing here (the page then shows the status and the screenshot only)."""


def page_only(checks: Sequence[SafetyCheck]) -> bool:
    """The ask callback of an agent that watches without one: only the page answers.

    Called without a watch page, it denies.
    """
    return False


class WatchedRun(AgentHooks):
    """One run as the watch page sees it: a log of entries, its screenshots, its answers."""

    def __init__(self, run_id: str, loop: RunLoop, task: str, *, approval_timeout_s: float) -> None:
        self.id = run_id
        self._loop = loop
        self.redact = loop.redact
        self.control = loop.control
        self.task = loop.redact.text(task)
        self.approval_timeout_s = approval_timeout_s
        self.status = "running"
        self.started = time.time()
        self._t0 = time.monotonic()
        self._cond = threading.Condition()
        self._log: list[dict[str, Any]] = []
        self._shots: list[Path] = []
        self._pending: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[bool]]] = {}
        self.report: Path | None = None
        self.on_start: list[Any] = []
        agent = loop.agent
        self._add(
            {
                "kind": "run",
                "id": run_id,
                "task": self.task,
                "model": agent.model,
                "environment": agent.environment,
                "max_steps": agent.max_steps,
                "safety": agent.safety.mode,
                "started": self.started,
            }
        )

    # -- the log (any thread) ------------------------------------------------------------
    def _add(self, entry: dict[str, Any]) -> None:
        with self._cond:
            if len(self._log) >= MAX_LOG_ENTRIES and entry["kind"] not in ("finished",):
                return
            entry = self.redact(entry)
            entry["seq"] = len(self._log)
            entry["t"] = round(time.monotonic() - self._t0, 3)
            self._log.append(entry)
            self._cond.notify_all()

    @property
    def finished(self) -> bool:
        """True once the run has ended (the log is complete)."""
        return self.status != "running"

    def entries(self, since: int, wait_s: float) -> list[dict[str, Any]]:
        """Entries from `since` on; waits up to `wait_s` for one when there is none yet."""
        with self._cond:
            if since >= len(self._log) and not self.finished:
                self._cond.wait(wait_s)
            return list(self._log[since:])

    def wake(self) -> None:
        """Wake every waiting reader (the server is closing)."""
        with self._cond:
            self._cond.notify_all()

    def shot(self, n: int) -> Path | None:
        """The file of screenshot `n` of this run (None: no such shot)."""
        with self._cond:
            return self._shots[n] if 0 <= n < len(self._shots) else None

    def summary(self) -> dict[str, Any]:
        """The run in one line, for a list of runs."""
        with self._cond:
            steps = sum(1 for e in self._log if e["kind"] == "step_started")
        return {"id": self.id, "task": self.task, "status": self.status, "steps": steps}

    # -- the run's events (its event loop) -----------------------------------------------
    async def on_event(self, event: Event) -> None:
        """Every event of the run becomes one entry of the log."""
        try:
            self._add(self._entry(event))
        except Exception as exc:  # the page is a view: it never fails the run
            logger.warning("the watch page missed a %s event: %s", event.kind, exc)

    def _entry(self, event: Event) -> dict[str, Any]:
        if isinstance(event, StepStarted):
            for callback in self.on_start:
                callback()
            self.on_start.clear()
            return {"kind": "step_started", "step": event.step}
        if isinstance(event, ResponseReceived):
            return {
                "kind": "response",
                "step": event.step,
                "model_s": event.model_s,
                "messages": [mask_placeholders(m) for m in event.messages],
                "reasoning": [mask_placeholders(r) for r in event.reasoning],
                "output_types": list(event.output_types),
            }
        if isinstance(event, (ActionStarting, ActionExecuted)):
            entry = {
                "kind": event.kind,
                "step": event.step,
                "call_id": event.call_id,
                "index": event.index,
                "type": event.type,
                "screen": event.screen,
                "words": describe_screen_action(event.type, event.screen),
            }
            if isinstance(event, ActionExecuted):
                entry.update(action_s=event.action_s, error=event.error)
            return entry
        if isinstance(event, ScreenshotTaken):
            return self._screenshot(event)
        if isinstance(event, SafetyDecision):
            return {**event_to_dict(event)}
        if isinstance(event, ControlEvent):
            return {**event_to_dict(event), "message": mask_placeholders(event.message)}
        if isinstance(event, Finished):
            return self._finished(event)
        data = event_to_dict(event)
        return {
            "kind": data.get("kind"),
            "step": data.get("step"),
            "message": str(data.get("message") or data.get("reason") or data.get("name") or ""),
        }

    def _screenshot(self, event: ScreenshotTaken) -> dict[str, Any]:
        run_dir = self._loop.result.run_dir
        n = None
        if event.path is not None and run_dir is not None:
            with self._cond:
                n = len(self._shots)
                self._shots.append(Path(run_dir) / event.path)
        return {
            "kind": "screenshot",
            "step": event.step,
            "n": n,
            "width": event.width,
            "height": event.height,
            "settle_s": event.settle_s,
            "capture_s": event.capture_s,
        }

    def _finished(self, event: Finished) -> dict[str, Any]:
        result = event.result
        report = Path(result.run_dir) / REPORT_FILENAME if result.run_dir else None
        self.report = report if report is not None and report.is_file() else None
        with self._cond:
            for _, future in self._pending.values():
                future.get_loop().call_soon_threadsafe(_settle, future, False)
        self.status = event.status
        return {
            "kind": "finished",
            "step": event.step,
            "status": event.status,
            "final_output": mask_placeholders(result.final_output or ""),
            "error": (result.error or {}).get("message"),
            "report": self.report is not None,
            "run_dir": str(result.run_dir) if result.run_dir else None,
            "timings": result.timings,
        }

    # -- safety approvals ----------------------------------------------------------------
    def policy(self, base: SafetyPolicy) -> SafetyPolicy:
        """`base` with its callback asking the page too (deny-only policies are unchanged)."""
        if base.callback is None:
            return base
        other = base.callback

        async def ask(checks: Sequence[SafetyCheck]) -> bool:
            return await self.ask(checks, other)

        return replace(base, callback=ask)

    async def ask(self, checks: Sequence[SafetyCheck], other: AskCallback | None = None) -> bool:
        """Show the checks on the page and wait for Acknowledge / Deny, or `other`'s answer
        (the terminal prompt), whichever comes first; the timeout denies."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bool] = loop.create_future()
        approval_id = secrets.token_hex(8)
        with self._cond:
            self._pending[approval_id] = (loop, answer)
        self._add(
            {
                "kind": "approval",
                "id": approval_id,
                "step": self._loop.step_no,
                "checks": [{"code": c.code or c.id, "message": c.message} for c in checks],
                "timeout_s": self.approval_timeout_s,
            }
        )
        rival: asyncio.Future[Any] | None = None
        if other is not None and other is not page_only:
            rival = asyncio.ensure_future(_ask_other(other, checks))
        waiting: set[asyncio.Future[Any]] = {answer} | ({rival} if rival else set())
        ok, by = False, "cancelled"  # the run was stopped while the check waited
        try:
            done, _ = await asyncio.wait(
                waiting, timeout=self.approval_timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
            by = "timeout"
            if answer in done:
                ok, by = answer.result(), "watch"
            elif rival is not None and rival in done:
                ok, by = rival.result() is True, str(getattr(other, "decided_by", "callback"))
        finally:
            with self._cond:
                self._pending.pop(approval_id, None)
            if rival is not None and not rival.done():
                abandon = getattr(other, "abandon", None)
                if callable(abandon):
                    abandon()
                rival.cancel()
            decision = "acknowledged" if ok else "denied"
            self._add(
                {"kind": "approval_closed", "id": approval_id, "decision": decision, "by": by}
            )
        await self._loop.emit(
            ControlEvent(
                self._loop.step_no,
                "safety_answer",
                by,
                f"safety check {decision} by {by}",
                {"decision": decision, "codes": [c.code or c.id for c in checks]},
            )
        )
        return ok

    def answer(self, approval_id: str, ok: bool) -> bool:
        """The page's answer to a pending approval (any thread); False if none is pending."""
        with self._cond:
            pending = self._pending.get(approval_id)
        if pending is None:
            return False
        loop, future = pending
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, future, ok)
            return True
        return False


def _settle(future: asyncio.Future[bool], ok: bool) -> None:
    if not future.done():
        future.set_result(ok)


async def _ask_other(other: AskCallback, checks: Sequence[SafetyCheck]) -> Any:
    """Ask the other callback: a sync one (a blocking terminal prompt) runs in a thread."""
    if asyncio.iscoroutinefunction(other):
        return await other(list(checks))
    try:
        return await maybe_await(await asyncio.to_thread(other, list(checks)))
    except Exception as exc:
        logger.warning("the safety callback failed (%s); the page may still answer", exc)
        await asyncio.Event().wait()  # never answers: the page or the timeout decides
        return False
