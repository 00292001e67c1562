"""The act stage for computer calls: map, confirm, execute, settle, capture, answer.

`ComputerCallRunner.run` executes one computer_call's actions in order (GA
batches included), then settles and captures once, and returns the
computer_call_output in the profile's dialect -- with ``current_url`` for
browsers and the acknowledged safety checks. A ``terminate`` action stops the
batch and ends the run. An executor error ends the run with status ``error``
after the failed action is recorded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

from agent._actions._dispatch import execute_action, map_action
from agent._actions._model import Action, Terminate
from agent._api._profiles import data_url
from agent._api._protocol import ComputerCallOutput
from agent._errors import ScreenloopError
from agent._events import (
    ActionExecuted,
    ActionStarting,
    ExecutorNotice,
    Nudge,
    ScreenshotTaken,
    TabSwitched,
    WarningEvent,
)
from agent._result import ActionRecord, StepRecord
from agent._run._before_action import ActionInfo, Verdict, decide
from agent._run._context import RunContext
from agent._run._guards import decide_locally
from agent._run._validate import ParsedComputerCall
from agent._safety import maybe_await
from executors._computer import ExecutorEvent, Point, Screenshot
from executors._errors import ExecutorError

__all__ = ["ComputerCallRunner"]

logger = logging.getLogger(__name__)

# Events told to the model by their message when the executor gave no notice text.
_TOLD_BY_DEFAULT = frozenset({"navigation_blocked", "dialog", "download", "file_chooser"})
_MAX_NOTICES = 10
_MAX_NOTICE_CHARS = 300


class ComputerCallRunner:
    """Executes computer calls for one run and keeps the pointer and screenshot state."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        size = ctx.settings.display
        self.pointer = Point(size.width // 2, size.height // 2)
        self.shots = 0
        self.last_screenshot: str | None = None
        self.last_shot: Screenshot | None = None
        self._notices: list[str] = []
        self._notes: list[str] = []

    async def run(
        self,
        step: StepRecord,
        call: ParsedComputerCall,
        acknowledged: list[dict[str, str]] | None = None,
    ) -> tuple[ComputerCallOutput | None, Terminate | None]:
        """Execute `call`; returns (its computer_call_output, or a Terminate action).

        `acknowledged` are the safety checks the guard stage cleared for this call.
        """
        ctx, settings = self.ctx, self.ctx.settings
        last: ActionRecord | None = None
        for index, (raw, action) in enumerate(zip(call.raw_actions, call.actions, strict=True)):
            mapped = map_action(action, settings.coordinate_space, settings.display, self.pointer)
            record = ActionRecord(
                call.call_id, index, action.type, raw, mapped.screen, clamped=mapped.clamped
            )
            step.actions.append(record)
            if mapped.clamped:
                await ctx.emit(
                    WarningEvent(
                        step.step,
                        "clamped",
                        f"{action.type} at {raw.get('x')},{raw.get('y')} was off screen; clamped",
                        {"call_id": call.call_id, "index": index, "screen": mapped.screen},
                    )
                )
            for warning in mapped.warnings:
                await ctx.emit(WarningEvent(step.step, "adjusted", warning))
            if isinstance(action, Terminate):
                await self.capture(step.step, settle=True, step=step)
                return None, action
            screen = ctx.redact(mapped.screen)
            await ctx.emit(ActionStarting(step.step, call.call_id, index, action.type, screen))
            if settings.confirm is not None and action.type not in ("screenshot", "wait"):
                ok = await maybe_await(settings.confirm(action, dict(mapped.screen)))
                if not ok:
                    record.error = "declined by confirm"
                    await decide_locally(
                        ctx,
                        step,
                        call.call_id,
                        f"confirm_{index}",
                        "confirm_declined",
                        f"confirm declined {action.type} {mapped.screen}",
                        "confirm",
                    )
            asks = settings.before_action is not None or bool(settings.action_rules)
            if asks and not await self._before_action(step, call, index, action, record):
                continue  # skipped: the call is still answered with a screenshot
            t0 = time.monotonic()
            try:
                await execute_action(ctx.computer, mapped, settings.secrets)
            except ScreenloopError as exc:
                record.error = f"{type(exc).__name__}: {exc}"
                # what the executor noticed (a crash, a closed tab) explains the failure
                await self.drain(step.step)
                raise
            finally:
                record.action_s = time.monotonic() - t0
                step.timings["action_s"] = step.timings.get("action_s", 0.0) + record.action_s
                await ctx.emit(
                    ActionExecuted(
                        step.step,
                        call.call_id,
                        index,
                        action.type,
                        ctx.redact(mapped.screen),
                        mapped.clamped,
                        record.action_s,
                        record.error,
                    )
                )
            self.pointer = mapped.pointer
            await self.drain(step.step)
            last = record
        _, url = await self.capture(step.step, settle=True, step=step)
        if last is not None:  # the settle after a batch belongs to its last action
            last.settle_s = step.timings.get("settle_s", 0.0)
        current_url = await self._current_url()
        step.url = current_url
        return (
            ctx.profile.screenshot_output(
                call.call_id, url, current_url=current_url, acknowledged=acknowledged
            ),
            None,
        )

    async def _before_action(
        self,
        step: StepRecord,
        call: ParsedComputerCall,
        index: int,
        action: Action,
        record: ActionRecord,
    ) -> bool:
        """Ask the rules and the ``before_action`` hook; False when the action is skipped."""
        ctx, settings = self.ctx, self.ctx.settings
        url = await self._current_url()
        info = ActionInfo(step.step, call.call_id, index, dict(record.screen), url)
        decision = await decide(settings.action_rules, settings.before_action, action, info)
        if decision.verdict is Verdict.EXECUTE:
            return True
        why = ctx.redact.text(decision.text or "")
        by = "before_action" if decision.rule is None else f"action rule {decision.rule}"
        data = {"call_id": call.call_id, "index": index, "type": action.type}
        data.update(verdict=decision.verdict.value, by=by)
        if decision.verdict is Verdict.STOP:
            message = f"{by} stopped {action.type} {record.screen}" + (f": {why}" if why else "")
            await decide_locally(
                ctx, step, call.call_id, f"before_action_{index}", "before_action_stop", message, by
            )
        if decision.verdict is Verdict.SKIP:
            record.error = f"skipped by {by}" + (f": {why}" if why else "")
            line = f"Your {action.type} action was not performed" + (f": {why}" if why else ".")
        else:
            line = why
        self.note(line)
        await ctx.emit(Nudge(step.step, "before_action", line, data))
        return decision.verdict is not Verdict.SKIP

    def note(self, line: str) -> None:
        """A line for the model with the next request, sent even with notices off."""
        if line and line not in self._notes:
            self._notes.append(line)

    def take_notes(self) -> list[str]:
        """The lines given to `note` since the last call, then forget them."""
        notes, self._notes = self._notes, []
        return notes

    async def _current_url(self) -> str | None:
        ctx = self.ctx
        if ctx.settings.environment != "browser":
            return None
        url = await ctx.computer.current_url()
        return ctx.redact.text(url) if url else url

    async def capture(
        self, step_no: int, *, settle: bool, step: StepRecord | None = None
    ) -> tuple[Screenshot, str]:
        """Settle (bounded), take a screenshot, store it; returns it and its data URL."""
        try:
            return await self._capture(step_no, settle=settle, step=step)
        except ExecutorError:
            await self.drain(step_no)  # a crash noticed while capturing explains the failure
            raise

    async def _capture(
        self, step_no: int, *, settle: bool, step: StepRecord | None
    ) -> tuple[Screenshot, str]:
        ctx = self.ctx
        settle_s = 0.0
        if settle:
            t0 = time.monotonic()
            result = await ctx.computer.settle(ctx.settings.settle_max_s)
            settle_s = time.monotonic() - t0
            if not result.stable:
                await ctx.emit(
                    WarningEvent(step_no, "not_settled", f"screen not stable: {result.reason}")
                )
        t0 = time.monotonic()
        shot = await ctx.computer.screenshot()
        t1 = time.monotonic()
        capture_s = t1 - t0
        url = shot.hosted_url or data_url(shot)
        t2 = time.monotonic()
        path = None
        if ctx.recorder is not None:
            path = ctx.recorder.save_screenshot(self.shots, shot, url)
        save_s = time.monotonic() - t2
        self.shots += 1
        self.last_screenshot = path
        self.last_shot = shot
        if step is not None:
            step.screenshot = path
            t = step.timings
            t["settle_s"] = t.get("settle_s", 0.0) + settle_s
            t["capture_s"] = t.get("capture_s", 0.0) + (shot.capture_s or capture_s)
            # base64 of the data URL is encoding; writing the file is recording
            t["encode_s"] = t.get("encode_s", 0.0) + shot.encode_s + (t2 - t1)
            t["record_s"] = t.get("record_s", 0.0) + save_s
        await ctx.emit(
            ScreenshotTaken(
                step_no,
                path,
                shot.width,
                shot.height,
                settle_s,
                shot.capture_s or capture_s,
                shot.encode_s,
            )
        )
        await self.drain(step_no)
        return shot, url

    def _record_download(self, ev: ExecutorEvent) -> ExecutorEvent:
        """List a download in run.json; one saved in the computer's own place moves into
        the run directory's ``downloads/``."""
        recorder = self.ctx.recorder
        if recorder is None:
            return ev
        data = dict(ev.data)
        try:
            data["path"] = recorder.add_download(
                Path(str(data["path"])),
                url=self.ctx.redact.text(str(data.get("url", ""))),
                size=int(str(data.get("size", 0))),
                move=not data.get("kept"),
            )
        except OSError as exc:
            logger.warning("could not keep the download %s: %s", data.get("name"), exc)
            return ev
        return replace(ev, data=data)

    def take_notices(self) -> list[str]:
        """The lines for the model noticed since the last call (redacted), then forget them."""
        notices, self._notices = self._notices[:_MAX_NOTICES], []
        return notices

    async def drain(self, step_no: int) -> None:
        """Turn the executor's pending notices into events (and lines for the model)."""
        emit = self.ctx.emit
        for ev in self.ctx.computer.drain_events():
            if ev.kind == "download" and isinstance(ev.data.get("path"), str):
                ev = self._record_download(ev)
            line = ev.notice or (ev.message if ev.kind in _TOLD_BY_DEFAULT else "")
            if line:
                line = self.ctx.redact.text(" ".join(line.split()))
                if len(line) > _MAX_NOTICE_CHARS:
                    line = line[: _MAX_NOTICE_CHARS - 1] + "…"
                if line not in self._notices:
                    self._notices.append(line)
            if ev.kind == "tab_switched":
                await emit(TabSwitched(step_no, ev.message, dict(ev.data)))
            else:
                await emit(ExecutorNotice(step_no, ev.kind, ev.message, dict(ev.data)))
