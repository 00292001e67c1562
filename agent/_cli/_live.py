"""The live terminal view of a run (rich): step, current action in words, time, tokens, messages.

`LiveView` is an `AgentHooks`: give it to the `Agent` and it follows the run's
events. It draws only when enabled (the CLI enables it when stdout is a
terminal); disabled, it still keeps the state, so a caller can print a summary.
Typed text shows ``{{secret:NAME}}`` placeholders as ``••••NAME``; secret values
never reach events, so they cannot reach the screen.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterator

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from agent._actions._recorded import describe_screen_action, mask_placeholders
from agent._events import (
    ActionExecuted,
    AgentHooks,
    ControlEvent,
    Event,
    ExecutorNotice,
    Finished,
    FunctionCalled,
    ResponseReceived,
    Retry,
    SafetyDecision,
    StepStarted,
    TabSwitched,
    WarningEvent,
)

__all__ = ["LiveView"]


def _secs(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes else f"{seconds:.1f}s"


class LiveView(AgentHooks):
    """Follows a run's events and draws them with rich `Live` (when `enabled`)."""

    def __init__(
        self,
        console: Console,
        task: str,
        *,
        enabled: bool = True,
        lines: bool = False,
        max_steps: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        history: int = 6,
    ) -> None:
        self.console = console
        self.task = task
        self.enabled = enabled
        self.lines = lines
        self.max_steps = max_steps
        self._clock = clock
        self.started = clock()
        self.step = 0
        self.status = "starting"
        self.action: str | None = None
        self.actions: deque[str] = deque(maxlen=history)
        self.messages: deque[str] = deque(maxlen=3)
        self.notes: deque[str] = deque(maxlen=3)
        self.usage = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        self.model_s = 0.0
        self._live: Live | None = None

    # -- lifecycle --------------------------------------------------------------
    def start(self) -> None:
        """Start drawing (no-op when disabled or already drawing)."""
        if self.enabled and self._live is None:
            self._live = Live(
                get_renderable=self.render,
                console=self.console,
                refresh_per_second=4,
                transient=False,
            )
            self._live.start()

    def stop(self) -> None:
        """Stop drawing, leaving the last frame on screen."""
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    def __enter__(self) -> LiveView:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Stop drawing while the terminal is used for something else (a prompt)."""
        was_live = self._live is not None
        self.stop()
        try:
            yield
        finally:
            if was_live:
                self.start()

    # -- feeding ----------------------------------------------------------------
    def note_response(self, messages: list[str], reasoning: list[str]) -> None:
        """The model's text of one response (assistant messages, reasoning summaries)."""
        for text in reasoning:
            if text.strip():
                self.messages.append(f"(thinking) {mask_placeholders(text.strip())}")
        for text in messages:
            if text.strip():
                self.messages.append(mask_placeholders(text.strip()))
        self._refresh()

    async def on_event(self, event: Event) -> None:
        """Update the state from one event."""
        if isinstance(event, StepStarted):
            self.step = event.step
            self.status = "waiting for the model"
        elif isinstance(event, ResponseReceived):
            for key in self.usage:
                self.usage[key] += int(event.usage.get(key, 0) or 0)
            self.model_s += event.model_s
            self.status = "acting"
            self.note_response(list(event.messages), list(event.reasoning))
        elif isinstance(event, ActionExecuted):
            words = describe_screen_action(event.type, event.screen)
            if event.error:
                words += f"  [failed: {event.error}]"
            self.action = words
            self.actions.append(f"{event.step:>3}  {words}")
            self._line(f"step {event.step}: {words}", event.action_s)
        elif isinstance(event, SafetyDecision):
            self.notes.append(
                f"safety {event.code or event.id}: {event.decision} by {event.decided_by}"
            )
        elif isinstance(event, FunctionCalled):
            self.actions.append(f"{event.step:>3}  {event.name}({event.arguments[:40]})")
            self._line(f"step {event.step}: {event.name}({event.arguments[:40]})")
        elif isinstance(event, ControlEvent):
            said = event.control == "message"
            self.notes.append(("to the model: " if said else "") + mask_placeholders(event.message))
        elif isinstance(event, (TabSwitched, ExecutorNotice, WarningEvent)):
            self.notes.append(mask_placeholders(event.message))
        elif isinstance(event, Retry):
            self.notes.append(f"retry {event.attempt} in {event.delay_s:.1f}s: {event.reason}")
        elif isinstance(event, Finished):
            self.status = event.status
        self._refresh()

    def _line(self, text: str, action_s: float | None = None) -> None:
        """One plain line per step when not drawing (`lines`): CI logs show progress."""
        if self.lines and self._live is None:
            took = f"{action_s:.2f}s, " if action_s is not None else ""
            self.console.print(
                f"{text} ({took}{_secs(self.elapsed())} in)", markup=False, highlight=False
            )

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    # -- drawing ----------------------------------------------------------------
    def elapsed(self) -> float:
        """Seconds since the view was created."""
        return self._clock() - self.started

    def render(self) -> RenderableType:
        """The current frame."""
        steps = f"{self.step}/{self.max_steps}" if self.max_steps else str(self.step)
        head = Table.grid(padding=(0, 2))
        head.add_row(
            Text(f"step {steps}", style="bold"),
            Text(_secs(self.elapsed())),
            Text(
                f"tokens {self.usage['input_tokens']} in / {self.usage['output_tokens']} out",
                style="dim",
            ),
            Text(self.status, style="cyan"),
        )
        parts: list[RenderableType] = [
            Text(f"task: {self.task}", overflow="ellipsis", no_wrap=True, style="dim"),
            head,
        ]
        if self.action:
            parts.append(Text.assemble(("now: ", "bold"), self.action))
        if self.actions:
            parts.append(Text("\n".join(self.actions), style="dim"))
        for message in self.messages:
            parts.append(Text(f"model: {message}", style="green", overflow="fold"))
        for note in self.notes:
            parts.append(Text(f"note: {note}", style="yellow", overflow="fold"))
        return Group(*parts)
