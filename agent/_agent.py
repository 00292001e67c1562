"""`Agent`: drives a model through a task on a `Computer` and returns a `RunResult`.

The Agent holds configuration only; every `run` creates a fresh `RunLoop`
(agent/_run/_loop.py) whose named stages do the work. Three ways to run:

    result = await agent.run(task)            # async
    result = agent.run_sync(task)             # sync facade over the same code
    async for event in agent.iter(task): ...  # events as they happen; the last is Finished
                                              # (wrap in contextlib.aclosing to leave early)

Ownership: the Agent never closes a computer you passed in unless
``close_computer=True``; it always releases held keys and buttons at the end
of a run (success, error or cancel). A client built by the Agent (from
api_key/base_url/provider) lives for one run and is closed at its end; a
client you pass in is yours to close.

Cancellation: cancelling the task running `run` (or Ctrl-C under
`run_sync`) finishes the record with status ``cancelled``, releases held
inputs, then re-raises `asyncio.CancelledError` (KeyboardInterrupt under
`run_sync`), as asyncio code expects. The partial result stays available as
`agent.last_result`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from agent._api._interface import ModelClient
from agent._api._output import output_spec
from agent._api._profiles import (
    ProviderProfile,
    TextOnlyPolicy,
    default_coordinate_space,
    resolve_profile,
    with_wire,
)
from agent._errors import ConfigurationError
from agent._events import AgentHooks, Event, Finished, dispatch_hook
from agent._result import RunResult
from agent._run._before_action import ActionRule, BeforeActionHook, action_rules
from agent._run._context import ConfirmCallback
from agent._run._history import HistoryMode
from agent._run._loop import RunLoop
from agent._run._validate import DEFAULT_MAX_ACTIONS, DEFAULT_MAX_TYPE_CHARS
from agent._safety import AskCallback, SafetyPolicy
from agent._tools import CHOOSE_FILE_TOOL_NAME, FunctionTool, choose_file_tool
from agent._watch._run import WatchedRun, page_only
from agent._watch._server import WatchServer
from executors._computer import ChoosesFiles, Computer, Size
from executors._geometry import COORDINATE_SPACES, CoordinateSpace

__all__ = ["Agent", "ConfirmCallback"]

logger = logging.getLogger(__name__)

ALWAYS_ALLOWED = frozenset({"screenshot", "wait", "terminate"})


class Agent:
    """A computer-use agent: one model, one computer, many runs.

    Args:
        computer: the `Computer` to act on (PlaywrightComputer, DesktopComputer, ...).
        model: the model name sent to the Responses API.
        client: a `ModelClient` (``await client.create(body, stream=...)``), e.g. an
            `AsyncResponsesClient`; built from api_key/base_url/provider when None.
        provider: ``lightcone``, ``openai``, ``custom`` (client resolution), or a
            `ProviderProfile` to force a dialect.
        instructions: system instructions sent with every request.
        coordinate_space: ``pixels``, ``normalized`` (0-999, mapped as Lightcone's
            examples do: ``int(v / 1000 * dim)``) or ``normalized-999`` (0-999,
            ``round(v * (dim - 1) / 999)``); default from the profile/model.
        tool_type, environment_name, output_type: the dialect's wire choices, each
            overriding the profile's alone: the computer tool's ``type``
            (``computer_use``, ``computer_use_preview``, ``computer``), the name
            its ``environment`` gives this computer (``browser``, ``desktop``,
            ``linux``...), and the computer_call_output's image type
            (``input_image`` or ``computer_screenshot``). See docs/interop.md.
        display: the size declared to the model (default: computer.size).
        environment: ``browser`` or ``desktop`` (default: computer.environment).
        max_steps, max_wall_time_s, token_budget: limits (status max_steps,
            timeout, error/TokenBudgetExceededError).
        reasoning_effort, truncation, extra_body: passed through on each request.
        history: ``server`` (previous_response_id) or ``stateless`` (store: false).
        keep_screenshots: stateless mode keeps this many most recent screenshots.
        safety, ask_callback: the safety policy (see `SafetyPolicy`).
        allowed_actions: action types that may run (screenshot, wait and
            terminate always may); any other stops the run with safety_denied.
        confirm: ``confirm(action, screen) -> bool`` before each action; False
            stops the run with safety_denied before that action runs.
        tools: `FunctionTool`s (see `function_tool`); a call to ``done`` ends the run.
            A computer with an upload directory adds the built-in ``choose_file``.
        secrets: name -> value for ``{{secret:NAME}}`` placeholders in typed text.
        run_dir / runs_root / record: where the run directory goes (record=False: none).
            A run holds its directory: another run writing there (this process or
            another) or an earlier run's record in it ends the run with a
            `RunDirectoryError`, unless ``overwrite=True`` (which clears it first).
        hooks: an `AgentHooks` receiving every event.
        settle_max_s: the bound on waiting for the screen to settle after actions.
        max_actions_per_response, max_type_chars: bounds on the work one response may
            ask for (actions in it; characters in one typed text); a response over them
            runs nothing and ends the run with a `WorkLimitError`. None: no bound.
        notices: tell the model, as a short text after the call outputs, what the
            executor noticed that a screenshot cannot show (a dialog, a tab
            opened or closed, a download, a page still loading); recorded in
            each step's ``notices``. False also keeps the stuck nudge and the
            step-budget notice from being sent (a stuck run still stops); a
            ``text_only="nudge"`` policy still nudges, being asked for.
        stream: request server-sent events (the complete response is used either way).
        before_action: ``before_action(action, info) -> Decision | Verdict | None`` before
            each action (may be async): execute, skip (the model is told), stop
            (status safety_denied) or message (run it and tell the model a text).
        action_rules: `ActionRule`s or their JSON form (``{"match": {"type", "text",
            "url"}, "then": "skip|stop|message", "text": ...}``), asked before the hook.
        stuck_after: the same action on an unchanged screen (or a cycle between two
            screens) this many times nudges the model; None: no stuck detection.
        stuck_stop_after: that many more repeats after the nudge end the run (status stuck).
        budget_notice_at: at this share of max_steps the model is told, once, how many
            steps are left; None: never.
        text_only: a response with no calls ends the run (``complete``) or is answered
            with a "continue" message (``nudge``), at most `text_only_nudges` times;
            default: the provider profile's.
        close_computer: close the computer at the end of each run.
        watch: serve a page on 127.0.0.1 to watch and steer each run (live screen,
            steps, pause/resume/stop, a message to the model, safety approvals):
            True (a free port), a port number, or a `WatchServer` (shared, e.g. by
            a batch). Its tokened URL is printed on stderr when the server starts
            (`agent.watch.url`); it serves until `agent.watch.close()` or the
            process ends. With ``safety="ask"`` the page answers the checks (and
            `ask_callback` too, if given: the first answer wins).
        run_info: more fields for run.json's summary, written by the recorder when
            the run starts (``executor`` is merged key by key), e.g. what the
            caller launched, so that replay can start over.
    """

    def __init__(
        self,
        computer: Computer,
        model: str = "tzafon.northstar-cua-fast",
        *,
        client: ModelClient | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        provider: str | ProviderProfile | None = None,
        instructions: str | None = None,
        coordinate_space: CoordinateSpace | None = None,
        display: Size | tuple[int, int] | None = None,
        environment: Literal["browser", "desktop"] | None = None,
        max_steps: int = 50,
        max_wall_time_s: float | None = None,
        token_budget: int | None = None,
        reasoning_effort: str | None = None,
        truncation: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        history: HistoryMode = "server",
        keep_screenshots: int = 3,
        safety: SafetyPolicy | Literal["deny", "ask", "allow"] | None = None,
        ask_callback: AskCallback | None = None,
        allowed_actions: Collection[str] | None = None,
        confirm: ConfirmCallback | None = None,
        tools: Sequence[FunctionTool] = (),
        secrets: Mapping[str, str] | None = None,
        run_dir: str | os.PathLike[str] | None = None,
        runs_root: str | os.PathLike[str] = "runs",
        record: bool = True,
        hooks: AgentHooks | None = None,
        settle_max_s: float = 2.0,
        notices: bool = True,
        stream: bool = False,
        close_computer: bool = False,
        run_info: Mapping[str, Any] | None = None,
        max_actions_per_response: int | None = DEFAULT_MAX_ACTIONS,
        max_type_chars: int | None = DEFAULT_MAX_TYPE_CHARS,
        tool_type: str | None = None,
        environment_name: str | None = None,
        output_type: str | None = None,
        before_action: BeforeActionHook | None = None,
        action_rules: Sequence[ActionRule | Mapping[str, Any]] = (),
        stuck_after: int | None = 3,
        stuck_stop_after: int = 2,
        budget_notice_at: float | None = 0.8,
        text_only: TextOnlyPolicy | None = None,
        text_only_nudges: int = 2,
        watch: bool | int | WatchServer | None = None,
        overwrite: bool = False,
    ) -> None:
        if max_steps < 1:
            raise ConfigurationError("max_steps must be at least 1")
        if history not in ("server", "stateless"):
            raise ConfigurationError(f"history must be 'server' or 'stateless', got {history!r}")
        if keep_screenshots < 1:
            raise ConfigurationError("keep_screenshots must be at least 1")
        if coordinate_space not in (None, *COORDINATE_SPACES):
            raise ConfigurationError(
                f"coordinate_space must be one of {COORDINATE_SPACES}, got {coordinate_space!r}"
            )
        self.computer = computer
        self.model = model
        self.client = client
        self.api_key = api_key
        self.base_url = base_url
        self.provider = provider if isinstance(provider, str) else None
        self.profile = resolve_profile(model, base_url, provider)
        self.instructions = instructions
        self.coordinate_space: CoordinateSpace = coordinate_space or default_coordinate_space(
            self.profile, model
        )
        self.display = Size(*display) if display is not None else Size(*computer.size)
        self.environment = environment or computer.environment
        self.profile = with_wire(
            self.profile,
            self.environment,
            tool_type=tool_type,
            environment_name=environment_name,
            output_type=output_type,
        )
        self.max_steps = max_steps
        self.max_wall_time_s = max_wall_time_s
        self.token_budget = token_budget
        self.reasoning_effort = reasoning_effort
        self.truncation = truncation
        self.extra_body = dict(extra_body or {})
        self.history: HistoryMode = history
        self.keep_screenshots = keep_screenshots
        self.watch, self._announce_watch = _watch_server(watch)
        if self.watch is not None and safety == "ask" and ask_callback is None:
            ask_callback = page_only  # the watch page answers
        self.safety = SafetyPolicy.coerce(safety, ask_callback)
        self.allowed_actions = (
            frozenset(allowed_actions) | ALWAYS_ALLOWED if allowed_actions is not None else None
        )
        self.confirm = confirm
        self.tools = list(tools)
        if (
            isinstance(computer, ChoosesFiles)
            and computer.upload_dir is not None
            and all(t.name != CHOOSE_FILE_TOOL_NAME for t in self.tools)
        ):
            self.tools.append(choose_file_tool(computer))
        names = [t.name for t in self.tools]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"function tool names must be unique, got {names}")
        self.secrets = dict(secrets or {})
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.overwrite = overwrite
        self.runs_root = Path(runs_root)
        self.record = record
        self.hooks = hooks or AgentHooks()
        self.settle_max_s = settle_max_s
        self.notices = notices
        self.stream = stream
        self.close_computer = close_computer
        self.run_info = dict(run_info or {})
        for name, bound in (
            ("max_actions_per_response", max_actions_per_response),
            ("max_type_chars", max_type_chars),
        ):
            if bound is not None and bound < 1:
                raise ConfigurationError(f"{name} must be at least 1 (or None), got {bound}")
        self.max_actions_per_response = max_actions_per_response
        self.max_type_chars = max_type_chars
        self.before_action = before_action
        self.action_rules = action_rules_of(action_rules)
        self.stuck_after, self.stuck_stop_after = check_stuck(stuck_after, stuck_stop_after)
        if budget_notice_at is not None and not 0 < budget_notice_at <= 1:
            raise ConfigurationError(f"budget_notice_at must be in (0, 1], got {budget_notice_at}")
        self.budget_notice_at = budget_notice_at
        if text_only not in (None, "complete", "nudge"):
            raise ConfigurationError(f"text_only must be 'complete' or 'nudge', got {text_only!r}")
        if text_only_nudges < 0:
            raise ConfigurationError(f"text_only_nudges must be >= 0, got {text_only_nudges}")
        self.text_only: TextOnlyPolicy = text_only or self.profile.text_only
        self.text_only_nudges = text_only_nudges
        self.last_result: RunResult | None = None

    def __repr__(self) -> str:
        return (
            f"Agent(model={self.model!r}, profile={self.profile.name!r}, "
            f"environment={self.environment!r}, coordinate_space={self.coordinate_space!r})"
        )

    async def run(self, task: str, *, output_schema: Any = None) -> RunResult:
        """Run `task` to its end and return the result (see the module doc for cancel).

        `output_schema` (a pydantic model or any type pydantic understands) asks for
        the final answer as JSON of that schema (``text.format`` json_schema); the
        validated value is ``result.output``. An answer that does not fit ends the
        run with status ``error`` (`OutputValidationError`), the text kept.
        """
        return await self._run(task, None, output_schema)

    def run_sync(self, task: str, *, output_schema: Any = None) -> RunResult:
        """`run` for synchronous code (starts an event loop; not inside a running one).

        A `PlaywrightComputer` that is not started yet is started in that loop
        and closed at the end (Playwright's objects belong to the loop that made
        them): one `run_sync` per such computer; for several tasks on one
        browser, use ``async with computer:`` and `run`.
        """
        return asyncio.run(self._run_sync(task, output_schema))

    async def _run_sync(self, task: str, output_schema: Any = None) -> RunResult:
        from executors import PlaywrightComputer
        from executors._errors import ExecutorClosedError

        computer = self.computer
        if isinstance(computer, PlaywrightComputer):
            try:
                computer.context  # noqa: B018 - raises when the browser is not started
            except ExecutorClosedError:
                async with computer:
                    return await self.run(task, output_schema=output_schema)
        return await self.run(task, output_schema=output_schema)

    async def iter(self, task: str, *, output_schema: Any = None) -> AsyncIterator[Event]:
        """Run `task`, yielding every event; the last one is `Finished` (holding the result).

        Leaving the loop early cancels the run (recorded as cancelled) when the
        generator is closed: use ``async with contextlib.aclosing(agent.iter(task))``
        to close it at once (otherwise asyncio closes it later, when collected).
        """
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        runner = asyncio.ensure_future(self._run(task, queue.put, output_schema))

        def _done(_: object) -> None:
            queue.put_nowait(None)

        runner.add_done_callback(_done)
        try:
            while True:
                event = await queue.get()
                if event is None:
                    break
                yield event
                if isinstance(event, Finished):
                    break
            await runner  # re-raises a crash or cancellation of the run itself
        finally:
            if not runner.done():
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner

    async def _run(
        self,
        task: str,
        sink: Callable[[Event], Awaitable[None]] | None,
        output_schema: Any = None,
    ) -> RunResult:
        output = output_spec(output_schema) if output_schema is not None else None
        watched: WatchedRun | None = None

        async def emit(event: Event) -> None:
            if watched is not None:  # first: the page shows what a slow hook holds up
                await dispatch_hook(watched, event)
            await dispatch_hook(self.hooks, event)
            if sink is not None:
                await sink(event)

        loop = RunLoop(self, task, emit, output)
        if self.watch is not None:
            watched = self._watch_run(self.watch, loop, task)
        try:
            return await loop.run()
        finally:
            self.last_result = loop.result

    def _watch_run(self, server: WatchServer, loop: RunLoop, task: str) -> WatchedRun:
        watched = server.watch(loop, task)
        if self._announce_watch:  # a server the Agent made: say where it is, once
            self._announce_watch = False
            print(f"screenloop: watch and steer the run at {server.url}", file=sys.stderr)
        settings = loop.ctx.settings
        loop.ctx.settings = replace(settings, safety=watched.policy(settings.safety))
        return watched


def action_rules_of(rules: Sequence[ActionRule | Mapping[str, Any]]) -> tuple[ActionRule, ...]:
    """`action_rules` checked (a single rule or a string is a mistake, not a list)."""
    if isinstance(rules, (Mapping, str)):
        raise ConfigurationError("action_rules must be a list of rules")
    return action_rules(rules)


def check_stuck(after: int | None, stop_after: int) -> tuple[int | None, int]:
    """The stuck thresholds, checked."""
    if after is not None and after < 2:
        raise ConfigurationError(f"stuck_after must be at least 2 (or None), got {after}")
    if stop_after < 0:
        raise ConfigurationError(f"stuck_stop_after must be >= 0, got {stop_after}")
    return after, stop_after


def _watch_server(watch: bool | int | WatchServer | None) -> tuple[WatchServer | None, bool]:
    """The watch server of `Agent(watch=...)`, and whether the Agent made it."""
    if watch is None or watch is False:
        return None, False
    if isinstance(watch, WatchServer):
        return watch, False
    if watch is True:
        return WatchServer(), True
    if isinstance(watch, int):
        return WatchServer(watch), True
    raise ConfigurationError(f"watch must be True, a port or a WatchServer, got {watch!r}")
