"""``--safety ask`` in a batch: the attempts' safety questions, one at a time.

Every attempt of a batch runs in one event loop; an attempt whose model raises
pending safety checks asks through its own callback (`BatchAsk.for_attempt`),
and the callbacks share one lock: the terminal shows one question at a time,
headed by the attempt that asks (``lamp-price#2 asks:``), while the other
attempts keep running (the prompt reads the terminal in a thread). With
``--watch`` the same question is on the watch page too, and the first answer
wins (agent/_watch/_run.py): the terminal prompt is then abandoned, or never
shown if the page answered while the attempt waited for its turn.

Without a terminal and without a watch page nobody could answer: the batch
command refuses ``safety: ask`` before anything starts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from agent._cli._watch import TerminalAsk
from agent._safety import SafetyCheck

__all__ = ["BatchAsk"]


class BatchAsk:
    """The batch's terminal, asked by one attempt at a time."""

    def __init__(
        self,
        console: Console,
        *,
        watch: bool,
        stdin: TextIO | None = None,
        paused: Callable[[], AbstractContextManager[None]] | None = None,
    ) -> None:
        self.console = console
        self.watch = watch
        self.stdin = stdin
        self.paused = paused or contextlib.nullcontext
        """Stops the live progress while a question is on the terminal."""
        self._lock: asyncio.Lock | None = None
        self.waiting = 0
        """Attempts waiting for their turn at the terminal now."""
        self.asking = 0
        """Questions on the terminal now (never more than one)."""
        self.most_waiting = 0

    def lock(self) -> asyncio.Lock:
        if self._lock is None:  # made in the batch's loop, at the first question
            self._lock = asyncio.Lock()
        return self._lock

    def for_attempt(self, key: str) -> AttemptAsk:
        """The safety callback of attempt `key` (``<task id>#<number>``)."""
        return AttemptAsk(self, key)


class AttemptAsk:
    """One attempt's safety callback: waits for the terminal, then asks y/N there."""

    decided_by = "terminal"

    def __init__(self, owner: BatchAsk, key: str) -> None:
        self.owner = owner
        self.key = key
        self._prompt: TerminalAsk | None = None

    def abandon(self) -> None:
        """The watch page answered first."""
        if self._prompt is not None:
            self._prompt.abandon()

    async def __call__(self, checks: Sequence[SafetyCheck]) -> bool:
        owner = self.owner
        owner.waiting += 1
        owner.most_waiting = max(owner.most_waiting, owner.waiting)
        try:
            await owner.lock().acquire()
        finally:
            owner.waiting -= 1
        try:
            owner.asking += 1
            prompt = TerminalAsk(owner.console, None, owner.stdin)
            if not owner.watch:
                prompt.question = "Acknowledge and let the model continue? [y/N] "
            self._prompt = prompt
            with owner.paused():
                owner.console.print(f"[bold cyan]{escape(self.key)}[/] asks:")
                thread = asyncio.ensure_future(asyncio.to_thread(prompt, list(checks)))
                try:
                    return bool(await asyncio.shield(thread))
                except asyncio.CancelledError:
                    while not thread.done():  # the thread stops reading within a select tick
                        prompt.stop()
                        await asyncio.wait({thread}, timeout=0.5)
                    raise
        finally:
            self._prompt = None
            owner.asking -= 1
            owner.lock().release()
