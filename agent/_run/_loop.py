"""One run of the agent loop, as named stages.

    start -> [ build_request -> call_api -> validate -> guard (safety, allowlist)
               -> act (function tools; parse+map, confirm, execute, settle, capture)
               -> record ] x steps -> finish

`RunLoop` owns the run's state (history, steps, usage, the client) and wires
the stages; `RunLoop.run` turns every way a run can end into a status. The
stages beside it take a `RunContext` (agent/_run/_context.py), never the loop:
guard (agent/_run/_guards.py) returns the acknowledged safety checks, which
the loop hands to the act stage (agent/_run/_act.py for computer calls,
agent/_run/_function_calls.py for function tools). Between the client and the
stages everything is the typed protocol models (`Response`, `ComputerCall`,
`ComputerCallOutput`, ...); the history turns them into the request's JSON.

How a run ends:

- completed: the model answers without calls (final output = its text), a
  ``terminate``/``answer``/``done`` action, or a ``done`` function call;
- max_steps, timeout (max_wall_time_s bounds the whole run, model calls included);
- safety_denied: a pending check denied, an action outside ``allowed_actions``,
  or ``confirm`` returning False -- nothing of that response runs past the refusal;
- cancelled: the task was cancelled; the record is finished, held inputs are
  released, and `asyncio.CancelledError` propagates;
- error: an API error, an executor error, a token budget overrun, or a
  `ModelOutputError`. An unparseable action ends the run rather than being
  reported back to the model: computer_call_output has no field for an error
  in either dialect, the parser already accepts every variant models are
  known to emit, and the whole response is validated before any of it runs,
  so the screen is left in a known state and the bad item is in the record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agent._api._client import AsyncResponsesClient
from agent._api._interface import ModelClient, OnRetry, ReportsRetries
from agent._api._output import OutputSpec
from agent._api._protocol import BaseItem, FunctionCallOutput
from agent._api._provider import without_credentials
from agent._api._response import Response
from agent._errors import ScreenloopError, TokenBudgetExceededError
from agent._events import (
    ControlEvent,
    Event,
    ExecutorNotice,
    Finished,
    Nudge,
    ResponseReceived,
    Retry,
    StepStarted,
    TabSwitched,
    WarningEvent,
    event_to_dict,
)
from agent._record._claim import hold_run_dir
from agent._record._recorder import RunRecorder, default_run_dir
from agent._record._report import build_report
from agent._result import RunResult, RunStatus, StepRecord, empty_usage, output_json
from agent._run._act import ComputerCallRunner
from agent._run._context import Acknowledged, AgentConfig, RunContext, Stop, settings_of
from agent._run._control import RunControl
from agent._run._finishing import Finishing
from agent._run._function_calls import call_function
from agent._run._guards import guard_response
from agent._run._history import make_history
from agent._run._validate import (
    ParsedComputerCall,
    ParsedFunctionCall,
    ParsedResponse,
    as_response,
    check_work_limits,
    dump_items,
    read_response,
)
from agent._secrets import Redactor, redacted_logging
from executors._geometry import coordinate_mapping
from sandbox import DomainPolicy

__all__ = ["RunLoop", "raise_if_cancel_swallowed"]

logger = logging.getLogger(__name__)

_STEP_EVENT_KINDS = (TabSwitched, ExecutorNotice, WarningEvent, Retry, Nudge, ControlEvent)
_RELEASE_TIMEOUT_S = 5.0
_CLOSE_TIMEOUT_S = 30.0  # a computer whose browser or display hangs must not hang the run


@dataclass
class _Ended:
    """The model ended the task (no calls, terminate action or done call)."""

    final_output: str | None


class RunLoop:
    """The state of one `Agent.run`, and the wiring of its stages."""

    def __init__(
        self,
        agent: AgentConfig,
        task: str,
        emit: Callable[[Event], Awaitable[None]],
        output: OutputSpec | None = None,
    ) -> None:
        self.agent = agent
        self.task = task
        self._emit_outer = emit
        self.computer = agent.computer
        self.profile = agent.profile
        self.redact = Redactor(agent.secrets, agent.api_key)
        self.ctx = RunContext(
            settings_of(agent), agent.computer, agent.profile, self.redact, self.emit
        )
        self.history = make_history(agent.history, agent.keep_screenshots)
        self.client: ModelClient | None = agent.client
        self.owns_client = agent.client is None
        self.steps: list[StepRecord] = []
        self.current: StepRecord | None = None
        self.usage = empty_usage()
        self.model_s = 0.0
        self.started = time.monotonic()
        self.result = RunResult("running", None, self.steps, self.usage, {}, None)
        self.calls = ComputerCallRunner(self.ctx)
        self.finishing = Finishing(self.ctx, agent.max_steps)
        self.output = output
        self.control = RunControl(self.emit, lambda: self.step_no)  # pause/resume/stop/message
        self._retries: list[Any] = []
        self._restore_on_retry: tuple[ReportsRetries, OnRetry | None] | None = None
        self._run_dir_claim = contextlib.ExitStack()  # released after the record is final

    @property
    def recorder(self) -> RunRecorder | None:
        """The run directory's recorder (None before the run starts or with record=False)."""
        return self.ctx.recorder

    # -- events ---------------------------------------------------------------
    async def emit(self, event: Event) -> None:
        """Deliver an event; executor notices, warnings and retries also go in the step record."""
        if isinstance(event, _STEP_EVENT_KINDS) and self.current is not None:
            self.current.events.append(self.redact(event_to_dict(event)))
        if isinstance(event, WarningEvent):
            logger.warning("step %d: %s", event.step, self.redact.text(event.message))
        await self._emit_outer(event)

    @property
    def step_no(self) -> int:
        """The current step number (0 before the first request)."""
        return self.current.step if self.current else 0

    # -- the run --------------------------------------------------------------
    async def run(self) -> RunResult:
        """Run every stage; map each ending to a status; always finish the record."""
        with redacted_logging(self.redact), self._run_dir_claim:
            return await self._run_redacted()

    async def _run_redacted(self) -> RunResult:
        status: RunStatus = "error"
        final: str | None = None
        error: BaseException | None = None
        self.control.bind()
        try:
            try:
                final = await self._bounded(self._drive())
                if self.output is not None:  # a bad answer: status error, the text kept
                    self.result.output = self.output.parse(final)
                status = "completed"
            except Stop as stop:
                status, final, error = stop.status, stop.final_output, stop.error
            except asyncio.TimeoutError as exc:
                if not self._deadline_passed():
                    raise
                status, error = "timeout", exc
            except ScreenloopError as exc:
                status, error = "error", exc
        except asyncio.CancelledError:
            await self._finish("cancelled", None, None)
            if self.control.absorb_cancel():  # stopped through the control: a result
                return self.result
            raise
        except BaseException as exc:
            await self._finish("error", None, exc)
            raise
        await self._finish(status, final, error)
        return self.result

    def _deadline_passed(self) -> bool:
        limit = self.agent.max_wall_time_s
        return limit is not None and time.monotonic() - self.started >= limit - 1e-3

    async def _bounded(self, coro: Awaitable[str | None]) -> str | None:
        limit = self.agent.max_wall_time_s
        if limit is None:
            return await coro
        return await asyncio.wait_for(
            coro, timeout=max(limit - (time.monotonic() - self.started), 0)
        )

    async def _drive(self) -> str | None:
        new_items = [await self._start()]
        for number in range(1, self.agent.max_steps + 1):
            raise_if_cancel_swallowed()
            step = StepRecord(number, observed=self.calls.last_screenshot)
            self.current = step
            self.steps.append(step)
            try:
                new_items = [*new_items, *await self.control.checkpoint()]
                await self.emit(StepStarted(number))
                ended, new_items = await self._step(step, new_items)
            finally:
                self._record_step(step)
            if ended is not None:
                return ended.final_output
        raise Stop("max_steps", None, None)

    async def _step(
        self, step: StepRecord, new_items: list[BaseItem]
    ) -> tuple[_Ended | None, list[BaseItem]]:
        body = self._build_request(step, new_items)
        response = await self._call_api(step, body)
        parsed = self._validate(step, response)
        self.history.commit(new_items, parsed.id, parsed.output)
        await self._announce(step, parsed)
        self._check_budget()
        if not parsed.has_calls:
            answer = "\n".join(parsed.messages).strip() or None
            nudge = await self.finishing.text_only(step, answer, self.output)
            return (_Ended(answer), []) if nudge is None else (None, nudge)
        acknowledged = await guard_response(self.ctx, step, parsed)
        return await self._act(step, parsed, acknowledged)

    # -- stages ---------------------------------------------------------------
    async def _start(self) -> BaseItem:
        """Build the client and the recorder, take the first screenshot; the first input item."""
        agent = self.agent
        if self.client is None:
            self.client = AsyncResponsesClient(
                api_key=agent.api_key,
                base_url=agent.base_url,
                provider=agent.provider,
                on_retry=self._retries.append,
            )
        else:
            self._chain_retries()
        if agent.record:
            run_dir = agent.run_dir or default_run_dir(agent.runs_root, self.task)
            # one writer per run directory, as `screenloop run` holds it (agent/_record/_claim.py)
            self._run_dir_claim.enter_context(hold_run_dir(run_dir, overwrite=agent.overwrite))
            self.ctx.recorder = RunRecorder(run_dir, self.redact)
            self.ctx.recorder.start(self._summary())
            self.result.run_dir = run_dir
        _, url = await self.calls.capture(0, settle=True)
        if self.recorder is not None:
            self.recorder.update(initial_screenshot=self.calls.last_screenshot)
        return self.profile.first_message(self.task, url)

    def _chain_retries(self) -> None:
        """Record the retries of a client we were given too (its own callback still runs)."""
        client = self.client
        if not isinstance(client, ReportsRetries):
            return
        previous = client.on_retry
        self._restore_on_retry = (client, previous)

        def on_retry(event: Any) -> None:
            self._retries.append(event)
            if previous is not None:
                previous(event)

        client.on_retry = on_retry

    def _summary(self) -> dict[str, Any]:
        agent, computer = self.agent, self.computer
        summary: dict[str, Any] = {
            "task": self.task,
            "model": agent.model,
            "provider": getattr(self.client, "provider", None) or self.profile.name,
            "dialect": self.profile.dialect,
            "base_url": without_credentials(
                getattr(self.client, "base_url", None) or agent.base_url
            ),
            "executor": {
                "kind": agent.environment,
                "class": type(computer).__name__,
                "start_url": getattr(computer, "start_url", None),
                "launch": list(getattr(computer, "launch", None) or []),
                "device_scale_factor": getattr(computer, "device_scale_factor", 1),
            },
            # the X display a desktop run drove (":N" and its screen size), to attach to
            "x_display": _x_display(computer),
            "display": {"width": agent.display.width, "height": agent.display.height},
            "coordinate_space": agent.coordinate_space,
            "coordinate_mapping": coordinate_mapping(agent.coordinate_space),
            "wire": agent.profile.wire(agent.environment),
            "history": agent.history,
            "safety_mode": agent.safety.mode,
            "max_steps": agent.max_steps,
            "finishing": self.finishing.summary(),
        }
        if self.output is not None:
            summary["output_schema"] = {"name": self.output.name, "schema": self.output.schema}
        policy = getattr(computer, "policy", None)
        if isinstance(policy, DomainPolicy):
            # replay applies the policy the run was recorded under
            summary["executor"]["policy"] = policy.to_json()
        for key, value in agent.run_info.items():
            if key == "executor" and isinstance(value, dict):
                summary["executor"].update(value)
            else:
                summary[key] = value
        return summary

    def _build_request(self, step: StepRecord, new_items: list[BaseItem]) -> dict[str, Any]:
        t0 = time.monotonic()
        agent = self.agent
        body: dict[str, Any] = {"model": agent.model}
        if agent.instructions:
            body["instructions"] = agent.instructions
        body.update(self.history.request_fields(new_items))
        body["tools"] = [
            self.profile.computer_tool(agent.display, agent.environment),
            *(t.to_tool() for t in agent.tools),
        ]
        if agent.reasoning_effort:
            body["reasoning"] = {"effort": agent.reasoning_effort}
        if self.output is not None:
            body["text"] = self.output.text_format()
        truncation = agent.truncation or self.profile.truncation
        if truncation:
            body["truncation"] = truncation
        body.update(agent.extra_body)
        step.request = body
        step.timings["request_build_s"] = time.monotonic() - t0
        return body

    async def _call_api(
        self, step: StepRecord, body: dict[str, Any]
    ) -> Response | Mapping[str, Any]:
        assert self.client is not None  # built by _start
        t0 = time.monotonic()
        try:
            return await self.client.create(body, stream=self.agent.stream)
        finally:
            elapsed = time.monotonic() - t0
            step.timings["model_s"] = elapsed
            self.model_s += elapsed
            for retry in self._retries:
                await self.emit(
                    Retry(
                        step.step,
                        int(getattr(retry, "attempt", 0)),
                        float(getattr(retry, "delay", 0.0)),
                        str(getattr(retry, "reason", "")),
                    )
                )
            self._retries.clear()

    def _validate(self, step: StepRecord, response: Response | Mapping[str, Any]) -> ParsedResponse:
        t0 = time.monotonic()
        try:
            typed = as_response(response)
            step.response_id = typed.id
            step.output = dump_items(typed.output)  # the record keeps the JSON
            parsed = read_response(typed)
            limits = self.agent.max_actions_per_response, self.agent.max_type_chars
            check_work_limits(parsed, *limits)  # before anything of it runs
        finally:
            step.timings["parse_s"] = time.monotonic() - t0
        step.messages = parsed.messages
        step.reasoning = parsed.reasoning
        step.usage = parsed.usage
        for key, value in parsed.usage.items():
            self.usage[key] += value
        return parsed

    async def _announce(self, step: StepRecord, parsed: ParsedResponse) -> None:
        await self.emit(
            ResponseReceived(
                step.step,
                parsed.id,
                tuple(str(i.type) for i in parsed.output),
                parsed.usage,
                step.timings.get("model_s", 0.0),
                tuple(self.redact.text(m) for m in parsed.messages),
                tuple(self.redact.text(r) for r in parsed.reasoning),
            )
        )
        for kind in parsed.unknown_types:
            await self.emit(
                WarningEvent(step.step, "unknown_item", f"unknown output item {kind!r}")
            )

    def _check_budget(self) -> None:
        budget = self.agent.token_budget
        if budget is not None and self.usage["total_tokens"] >= budget:
            raise TokenBudgetExceededError(
                f"used {self.usage['total_tokens']} tokens, budget {budget}"
            )

    async def _act(
        self, step: StepRecord, parsed: ParsedResponse, acknowledged: Acknowledged
    ) -> tuple[_Ended | None, list[BaseItem]]:
        """Run every call in response order; collect the outputs for the next request."""
        outputs: list[BaseItem] = []
        ended: _Ended | None = None
        for call in parsed.calls:
            if isinstance(call, ParsedFunctionCall):
                outcome, final = await call_function(self.ctx, step, call)
                await self.calls.drain(step.step)  # a tool may act on the computer too
                outputs.append(FunctionCallOutput(call_id=call.call_id, output=outcome.output))
                if final is not None:
                    ended = ended or _Ended(final)
            elif isinstance(call, ParsedComputerCall):
                item, terminate = await self.calls.run(step, call, acknowledged.get(call.call_id))
                raise_if_cancel_swallowed()
                if terminate is not None:
                    return _Ended(terminate.result), []
                if item is not None:
                    outputs.append(item)
        notices = self.calls.take_notices()
        if not self.ctx.settings.notices:
            notices = []
        notices += self.calls.take_notes()  # before_action messages: always told
        # stuck and budget lines: not with notices off (agent/_run/_finishing.py)
        notices += await self.finishing.after_actions(step, self.calls.last_shot)
        if notices and outputs:
            # after every call output: both dialects take a user message there
            step.notices = notices
            outputs.append(self.profile.notice_message(notices))
        return ended, outputs

    def _record_step(self, step: StepRecord) -> None:
        t0 = time.monotonic()
        if self.recorder is not None:
            self.recorder.write_step(step.to_json())
            self.recorder.update(steps=len(self.steps), usage=self.usage, timings=self._timings())
            # in memory only (the line is already written): screenshot file + step line + run.json
            step.timings["record_s"] = step.timings.get("record_s", 0.0) + time.monotonic() - t0

    def _timings(self) -> dict[str, float]:
        total = time.monotonic() - self.started
        return {
            "total_s": round(total, 6),
            "model_s": round(self.model_s, 6),
            "runtime_s": round(total - self.model_s, 6),
        }

    async def _finish(
        self, status: RunStatus, final: str | None, error: BaseException | None
    ) -> None:
        """Release held inputs, close what we own, write the final run.json, emit Finished."""
        await self._cleanup()
        err = None
        if error is not None:
            err = {"type": type(error).__name__, "message": self.redact.text(str(error))}
            logger.info("run ended with %s: %s", status, err["message"])
        result = self.result
        result.status, result.final_output, result.error = status, final, err
        result.timings = self._timings()
        if self.recorder is not None:
            self.recorder.finish(
                status=status,
                final_output=final,
                error=err,
                steps=len(self.steps),
                usage=self.usage,
                timings=result.timings,
                output=output_json(result.output),
            )
            _report(self.recorder.run_dir)
        try:
            await self.emit(Finished(self.step_no, status, result))
        except Exception as exc:
            logger.warning("a hook failed on the Finished event: %s", exc)

    async def _cleanup(self) -> None:
        if self._restore_on_retry is not None:
            client, previous = self._restore_on_retry
            client.on_retry = previous
            self._restore_on_retry = None
        try:
            await asyncio.wait_for(self.computer.release_all(), _RELEASE_TIMEOUT_S)
        except Exception as exc:
            logger.warning("release_all failed: %s", exc)
        if self.agent.close_computer:
            try:
                await asyncio.wait_for(self.computer.close(), _CLOSE_TIMEOUT_S)
            except Exception as exc:
                logger.warning("closing the computer failed: %r", exc)
        if self.owns_client and isinstance(self.client, AsyncResponsesClient):
            try:
                await self.client.aclose()
            except Exception as exc:
                logger.warning("closing the client failed: %s", exc)


def raise_if_cancel_swallowed() -> None:
    """Raise CancelledError if this task was cancelled but something swallowed it.

    On Python 3.11, ``asyncio.wait_for`` returns the inner result instead of
    raising when the cancellation arrives as the inner future completes (see
    https://github.com/python/cpython/issues/86296); executors use wait_for
    everywhere, so a cancel could be lost and the run went on to completion.
    ``Task.cancelling()`` still counts the request: honour it at stage boundaries.
    """
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    if cancelling is not None and cancelling() > 0:
        raise asyncio.CancelledError()


def _report(run_dir: Any) -> None:
    """Build report.html; a failure never fails the run."""
    try:
        build_report(run_dir)
    except Exception as exc:
        logger.warning("building report.html failed: %s", exc)


def _x_display(computer: object) -> dict[str, Any] | None:
    name = getattr(computer, "display_name", None)
    if not isinstance(name, str):
        return None
    screen = getattr(computer, "screen_size", None)
    return {
        "name": name,
        "width": screen[0] if screen else None,
        "height": screen[1] if screen else None,
    }
