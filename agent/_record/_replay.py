"""Replay: re-execute a run's recorded actions with no model and compare every screenshot.

`load_run` reads a run directory; `replay_run` then replays it on a computer
the caller opened like the recorded one (the CLI, agent/_cli/_replay.py, opens
the same start URL, a fresh virtual display with the recorded ``launch``
commands, or a fresh demo shop). For the initial screen and after each step's
actions it settles, captures and compares with the recorded screenshot
(`agent._record._imagehash.screen_distance`). A screen that differs is
captured again until it matches or `wait_s` passes (pages and windows take
their time); the first step that still differs is the divergence: both images
and a side-by-side diff PNG are written under ``<run_dir>/replay/`` and replay
stops there.

Actions are replayed from their recorded screen-pixel form (``screen`` in
steps.jsonl), through the same dispatch table the loop uses; typed
``{{secret:NAME}}`` placeholders need the secret's value again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent._actions._dispatch import execute_action, map_action
from agent._actions._recorded import action_from_screen, describe_action
from agent._errors import ConfigurationError, RunDirectoryError
from agent._record._imagehash import DEFAULT_SCREEN_THRESHOLD, screen_distance, write_diff_image
from agent._record._untrusted import (
    contained,
    decode_image,
    parse_json,
    read_json_object,
    read_text,
)
from executors._computer import Computer, Point, Size

__all__ = [
    "RecordedRun",
    "ReplayResult",
    "StepComparison",
    "check_threshold",
    "load_run",
    "replay_run",
]

logger = logging.getLogger(__name__)

REPLAY_DIR = "replay"


@dataclass
class StepComparison:
    """One compared screen: step 0 is the initial screen."""

    step: int
    distance: float
    matched: bool
    recorded: str
    replayed: str
    actions: list[str] = field(default_factory=list)
    diff: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "step": self.step,
            "distance": round(self.distance, 4),
            "matched": self.matched,
            "recorded": self.recorded,
            "replayed": self.replayed,
            "diff": self.diff,
            "actions": self.actions,
        }


@dataclass
class ReplayResult:
    """The outcome of `replay_run`: every comparison made, up to the first divergence."""

    run_dir: Path
    threshold: float
    comparisons: list[StepComparison]
    steps_total: int

    @property
    def divergence(self) -> StepComparison | None:
        """The first comparison that did not match (replay stops there)."""
        return next((c for c in self.comparisons if not c.matched), None)

    @property
    def ok(self) -> bool:
        """True when every recorded screen was matched."""
        return self.divergence is None

    def to_json(self) -> dict[str, Any]:
        """What ``screenloop replay --json`` prints."""
        div = self.divergence
        return {
            "run_dir": str(self.run_dir),
            "ok": self.ok,
            "threshold": self.threshold,
            "steps": self.steps_total,
            "compared": len(self.comparisons),
            "first_divergence": div.to_json() if div else None,
            "comparisons": [c.to_json() for c in self.comparisons],
        }


# -- reading the run ---------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRun:
    """A run directory as replay needs it: run.json's summary, the steps, the screen size."""

    run_dir: Path
    summary: dict[str, Any]
    steps: list[dict[str, Any]]
    size: Size

    @property
    def executor(self) -> dict[str, Any]:
        """run.json's ``executor``: what the run drove (kind, start_url, launch, demo ...)."""
        executor = self.summary.get("executor")
        return executor if isinstance(executor, dict) else {}


def load_run(run_dir: str | Path) -> RecordedRun:
    """Read `run_dir` (raises `RunDirectoryError` when it is not a readable run)."""
    root = Path(run_dir)
    if not root.is_dir():
        raise RunDirectoryError(f"{root} is not a directory (pass a run directory with run.json)")
    run = read_json_object(root / "run.json")
    if run.get("schema_version") != 1:
        raise RunDirectoryError(f"{root}/run.json is not schema version 1")
    if not isinstance(run.get("executor", {}), dict):
        raise RunDirectoryError(f"{root}/run.json has a malformed executor")
    steps: list[dict[str, Any]] = []
    lines = read_text(root / "steps.jsonl").splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            step = parse_json(line, f"steps.jsonl line {number}")
        except RunDirectoryError:
            if number == len(lines):  # a torn last line of an interrupted run
                break
            raise
        if not isinstance(step, dict):
            raise RunDirectoryError(f"steps.jsonl line {number} is not a JSON object")
        steps.append(step)
    return RecordedRun(root, run, steps, _size(run))


def _size(run: Mapping[str, Any]) -> Size:
    display = run.get("display") or {}
    try:
        size = Size(int(display["width"]), int(display["height"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise RunDirectoryError("run.json has no display size") from exc
    if not (0 < size.width <= 16384 and 0 < size.height <= 16384):
        raise RunDirectoryError(f"run.json's display size {size} is out of range")
    return size


def check_threshold(threshold: float) -> None:
    """Raise `ConfigurationError` unless 0 <= `threshold` <= 1."""
    if not 0 <= threshold <= 1:
        raise ConfigurationError(f"threshold must be between 0 and 1, got {threshold}")


# -- comparing -------------------------------------------------------------------------


async def _compare(
    computer: Computer,
    run_dir: Path,
    out_dir: Path,
    step: int,
    recorded_rel: str,
    threshold: float,
    wait_s: float,
    settle_s: float,
) -> StepComparison:
    recorded = contained(run_dir, recorded_rel, "recorded screenshot")
    try:
        data = recorded.read_bytes()
    except OSError as exc:
        raise RunDirectoryError(f"recorded screenshot {recorded} is not readable: {exc}") from exc
    expected = decode_image(data, f"recorded screenshot {recorded_rel}").convert("RGB")
    deadline = time.monotonic() + wait_s
    while True:
        await computer.settle(settle_s)
        shot = await computer.screenshot()
        distance = await asyncio.to_thread(screen_distance, expected, shot.data)
        if distance <= threshold or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.1)
    ext = "jpg" if shot.format == "jpeg" else shot.format
    replayed = out_dir / f"{step:04d}.{ext}"
    replayed.write_bytes(shot.data)
    comparison = StepComparison(step, distance, distance <= threshold, str(recorded), str(replayed))
    if not comparison.matched:
        diff = out_dir / f"step-{step:04d}-diff.png"
        await asyncio.to_thread(write_diff_image, expected, shot.data, diff)
        comparison.diff = str(diff)
    return comparison


def _records(step: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    records = step.get("actions") or []
    if not isinstance(records, list) or not all(
        isinstance(r, dict) and isinstance(r.get("screen") or {}, dict) for r in records
    ):
        raise RunDirectoryError(f"step {step.get('step')!r} has malformed actions")
    return records


def _step_number(step: Mapping[str, Any]) -> int:
    number = step.get("step", 0)
    if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number < 10**9:
        raise RunDirectoryError(f"a step has a malformed number {number!r}")
    return number


def _describe(kind: str, screen: Mapping[str, Any]) -> str:
    return describe_action({"type": kind, "screen": dict(screen)})


async def replay_run(
    recorded: RecordedRun,
    computer: Computer,
    *,
    threshold: float = DEFAULT_SCREEN_THRESHOLD,
    secrets: Mapping[str, str] | None = None,
    wait_s: float = 3.0,
    settle_s: float = 2.0,
    on_step: Callable[[StepComparison], None] | None = None,
    describe: Callable[[str, Mapping[str, Any]], str] = _describe,
) -> ReplayResult:
    """Replay `recorded`'s actions on `computer`; stop at the first divergent screen.

    `computer` is fresh, opened like the recorded one; held inputs are
    released at the end. `describe` words each replayed action (kind, screen
    pixels) for `StepComparison.actions`.
    """
    check_threshold(threshold)
    root, size = recorded.run_dir, recorded.size
    out_dir = root / REPLAY_DIR
    try:  # a symlink planted in the run dir is removed, never followed
        if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
            out_dir.unlink()
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir()
    except OSError as exc:
        raise RunDirectoryError(f"cannot write {out_dir}: {exc}") from exc
    known = dict(secrets or {})
    result = ReplayResult(root, threshold, [], len(recorded.steps))

    def note(c: StepComparison) -> bool:
        result.comparisons.append(c)
        if on_step is not None:
            on_step(c)
        return c.matched

    try:
        initial = recorded.summary.get("initial_screenshot")
        if initial and not note(
            await _compare(computer, root, out_dir, 0, initial, threshold, wait_s, settle_s)
        ):
            return result
        pointer = Point(size.width // 2, size.height // 2)
        for step in recorded.steps:
            words: list[str] = []
            for record in _records(step):
                action = action_from_screen(str(record.get("type")), record.get("screen") or {})
                if action is None:
                    continue
                mapped = map_action(action, "pixels", size, pointer)
                await execute_action(computer, mapped, known)
                pointer = mapped.pointer
                words.append(describe(action.type, mapped.screen))
            shot = step.get("screenshot")
            if not words or not shot:
                continue
            comparison = await _compare(
                computer,
                root,
                out_dir,
                _step_number(step),
                shot,
                threshold,
                wait_s,
                settle_s,
            )
            comparison.actions = words
            if not note(comparison):
                return result
    finally:
        with contextlib.suppress(Exception):
            await computer.release_all()
    return result
