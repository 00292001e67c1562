"""Runs that finish: stuck detection, the step-budget notice, text-only answers.

`Finishing` is a stage beside the act stage, taking a `RunContext`; the loop
asks it twice per step:

- `after_actions` (a step that acted): what to tell the model with the next
  request -- a nudge when it is stuck, the step-budget notice once -- or
  `Stop` with status ``stuck`` when it stays stuck after the nudge;
- `text_only` (a response with no calls): with the ``nudge`` policy, a
  "continue" message to send instead of ending the run, up to
  ``text_only_nudges`` times; None ends the run as before.

Stuck: each acting step leaves a mark, what it did (the actions in screen
pixels, points on an 8 px grid, and the function calls) and the screen after
it (a screen fingerprint, agent/_record/_imagehash.py, compared over 8 px
tiles: one changed digit is another screen, a blinking caret is not; a screen is
fingerprinted only when its step did what one of the two before it did, so a
run that makes progress pays nothing). The same
mark N times in a row is the same action on an unchanged screen; marks
alternating A, B, A, B... is a cycle between two screens (N counts whole
cycles). Steps that only look or wait (``screenshot``,
``wait``) leave no mark: they neither repeat nor break a pattern. At
``stuck_after`` repeats the model is nudged; at ``stuck_after +
stuck_stop_after`` the run stops with ``stuck``.
What the model is told goes through the notices channel (after the call
outputs, a user ``input_text`` message) and into the step's ``notices``; each
decision is a `Nudge` event in the step's ``events``.

With notices off (``notices=False``, ``--notices off``) nothing the user did not
ask for is injected: the stuck detector still stops a run with ``stuck`` but
never nudges (its `Nudge` event says ``told: false``), and the budget notice is
not sent. A ``nudge`` text-only policy is a choice of its own and still nudges.
run.json's ``finishing`` records what was in force (``stuck_nudge``,
``budget_notice``, ``notices``).
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any

from agent._actions._recorded import describe_screen_action
from agent._api._output import OutputSpec
from agent._api._protocol import BaseItem
from agent._errors import ModelOutputError, StuckError
from agent._events import Nudge
from agent._record._imagehash import (
    CHECK_TILE_PX,
    fingerprint_distance,
    screen_fingerprint,
)
from agent._result import StepRecord
from agent._run._context import RunContext, Stop
from executors._computer import Screenshot

__all__ = ["Finishing"]

_GRID_PX = 8
_SAME_SCREEN = 0.005
"""`fingerprint_distance` (8 px tiles) at or below this is the same screen: stricter than a
check's 0.02, which a counter going from 5 to 6 stays under; an unchanged page is 0."""
_PASSIVE = frozenset({"screenshot", "wait"})
_MAX_MARKS = 64

TEXT_ONLY_NUDGE = (
    "You answered without acting, but the task does not look finished. Continue with the "
    "next action. If the task really is finished, give your final answer again."
)


@dataclass
class _Mark:
    did: str
    words: str
    shot: bytes | None
    """The screenshot, kept until fingerprinted or too old to be compared first."""
    blind: bool = False
    """No screenshot at all (a run whose steps only called functions)."""
    screen: str | None = None

    def same(self, other: _Mark) -> bool:
        if self.did != other.did:
            return False
        if self.blind or other.blind:
            return self.blind and other.blind
        if self.screen is None or other.screen is None:
            return False
        distance = fingerprint_distance(self.screen, other.screen, tile_px=CHECK_TILE_PX)
        return distance <= _SAME_SCREEN


class Finishing:
    """Stuck detection, the budget notice and the text-only policy for one run."""

    def __init__(self, ctx: RunContext, max_steps: int) -> None:
        self.ctx = ctx
        self.max_steps = max_steps
        self._marks: list[_Mark | None] = []
        self._nudged = False
        self._budget_told = False
        self.text_only_nudges = 0
        self.stuck_nudges = 0

    def summary(self) -> dict[str, Any]:
        """The settings, for run.json."""
        s = self.ctx.settings
        return {
            "stuck_after": s.stuck_after,
            "stuck_stop_after": s.stuck_stop_after,
            "budget_notice_at": s.budget_notice_at,
            "text_only": s.text_only,
            "text_only_nudges": s.text_only_nudges,
            # what may be injected: with notices off, only what the user chose (text_only)
            "notices": s.notices,
            "stuck_nudge": s.stuck_after is not None and s.notices,
            "budget_notice": s.budget_notice_at is not None and s.notices,
        }

    # -- a step that acted -------------------------------------------------------------
    async def after_actions(self, step: StepRecord, shot: Screenshot | None) -> list[str]:
        """Lines for the model with the next request; raises `Stop` (stuck) when it persists."""
        lines: list[str] = []
        stuck = await self._stuck(step, shot)
        if stuck:
            lines.append(stuck)
        budget = self._budget(step.step)
        if budget:
            lines.append(budget)
            await self.ctx.emit(Nudge(step.step, "budget", budget))
        return lines

    async def _stuck(self, step: StepRecord, shot: Screenshot | None) -> str | None:
        settings = self.ctx.settings
        after = settings.stuck_after
        if after is None:
            return None
        if step.actions and all(a.type in _PASSIVE for a in step.actions):
            return None  # looking or waiting is neither a repeat nor progress
        mark = self._mark(step, shot)
        self._marks = [*self._marks[-_MAX_MARKS + 1 :], mark]
        await self._fingerprint()
        repeats, period = _repeats(self._marks)
        if repeats < after:
            self._nudged = False
            return None
        assert mark is not None
        what = (
            f"done the same thing ({mark.words}) {repeats} times and the screen did not change"
            if period == 1
            else f"gone back and forth between the same two screens {repeats} times"
        )
        data = {"repeats": repeats, "period": period}
        if repeats >= after + settings.stuck_stop_after:
            message = f"stuck: the model has {what}"
            await self.ctx.emit(Nudge(step.step, "stuck", message, {**data, "stopped": True}))
            raise Stop("stuck", None, StuckError(message))
        if self._nudged:
            return None
        self._nudged = True
        if not settings.notices:  # told nothing: the stop above still ends it
            await self.ctx.emit(Nudge(step.step, "stuck", what, {**data, "told": False}))
            return None
        self.stuck_nudges += 1
        line = (
            f"You have {what}. That is not working: do something different (another element, "
            "scrolling, the keyboard, another way to the goal), or finish with what you have."
        )
        await self.ctx.emit(Nudge(step.step, "stuck", line, data))
        return line

    async def _fingerprint(self) -> None:
        """Fingerprint the newest mark and the ones it is compared with, only when they did
        the same thing (a run that makes progress pays nothing); forget older screenshots."""
        last = self._marks[-1]
        if last is not None:
            peers = [m for m in self._marks[-3:-1] if m is not None and m.did == last.did]
            for m in [last, *peers] if peers else []:
                if m.screen is None and m.shot is not None:
                    m.screen = await asyncio.to_thread(screen_fingerprint, m.shot)
        for old in self._marks[:-2]:
            if old is not None:
                old.shot = None

    def _mark(self, step: StepRecord, shot: Screenshot | None) -> _Mark | None:
        did: list[Any] = [[a.type, _on_grid(a.screen)] for a in step.actions if not a.error]
        did += [["fn", f.get("name"), f.get("arguments")] for f in step.function_calls]
        if not did:
            return None
        words = "; ".join(describe_screen_action(a.type, a.screen) for a in step.actions)
        words = words or "; ".join(str(f.get("name")) for f in step.function_calls)
        data = shot.data if shot is not None else None
        return _Mark(json.dumps(did, sort_keys=True, default=str), words, data, data is None)

    def _budget(self, step_no: int) -> str | None:
        share = self.ctx.settings.budget_notice_at
        next_step = step_no + 1
        if (
            share is None
            or not self.ctx.settings.notices
            or self._budget_told
            or next_step > self.max_steps
        ):
            return None
        if next_step < max(2, math.ceil(share * self.max_steps)):
            return None
        self._budget_told = True
        left = self.max_steps - step_no
        return (
            f"Step budget: this is step {next_step} of at most {self.max_steps} "
            f"({left} left, counting this one). Finish the task in the steps left, or give "
            "your final answer with what you have."
        )

    # -- a step that only answered -------------------------------------------------------
    async def text_only(
        self, step: StepRecord, answer: str | None, output: OutputSpec | None
    ) -> list[BaseItem] | None:
        """The items to send instead of ending the run (policy ``nudge``), or None to end it."""
        settings = self.ctx.settings
        if settings.text_only != "nudge" or self.text_only_nudges >= settings.text_only_nudges:
            return None
        if output is not None and _fits(output, answer):
            return None  # a valid structured answer is a finished task
        self.text_only_nudges += 1
        step.notices = [TEXT_ONLY_NUDGE]
        await self.ctx.emit(
            Nudge(
                step.step,
                "text_only",
                TEXT_ONLY_NUDGE,
                {"nudge": self.text_only_nudges, "of": settings.text_only_nudges},
            )
        )
        return [self.ctx.profile.user_message(TEXT_ONLY_NUDGE)]


def _fits(output: OutputSpec, answer: str | None) -> bool:
    try:
        output.parse(answer)
    except ModelOutputError:
        return False
    return True


def _on_grid(screen: dict[str, Any]) -> dict[str, Any]:
    """The action's screen form with points snapped to an 8 px grid (a model's jitter)."""
    out: dict[str, Any] = {}
    for key, value in screen.items():
        if key in ("x", "y") and isinstance(value, (int, float)):
            out[key] = round(value / _GRID_PX)
        else:
            out[key] = value
    return out


def _repeats(marks: list[_Mark | None]) -> tuple[int, int]:
    """How many times the latest pattern repeated: (repeats, period 1 or 2)."""
    last = marks[-1] if marks else None
    if last is None:
        return 0, 1
    run = 1
    while run < len(marks) and (m := marks[-1 - run]) is not None and m.same(last):
        run += 1
    if run > 1 or len(marks) < 4:
        return run, 1
    prev = marks[-2]
    if prev is None or prev.same(last):
        return 1, 1
    length = 2
    while length < len(marks):
        a, b = marks[-1 - length], marks[-1 - length + 2]
        if a is None or b is None or not a.same(b):
            break
        length += 1
    cycles = length // 2
    return (cycles, 2) if cycles >= 2 else (1, 1)
