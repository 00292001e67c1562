"""Replay: re-execute a run's recorded actions with no model and compare every screenshot.

`replay_run` opens a fresh executor like the recorded one -- the same start
URL (or `url`), a fresh virtual display with the recorded ``launch``
commands, or, for a run recorded by ``screenloop demo`` (``executor.demo`` in
run.json), a fresh demo shop -- then, for the initial screen and after each
step's actions, settles, captures and compares with the recorded screenshot
(`agent._record._imagehash.screen_distance`). A screen that differs is captured again
until it matches or `wait_s` passes (pages and windows take their time); the
first step that still differs is the divergence: both images and a
side-by-side diff PNG are written under ``<run_dir>/replay/`` and replay stops
there.

Actions are replayed from their recorded screen-pixel form (``screen`` in
steps.jsonl), through the same dispatch table the loop uses; typed
``{{secret:NAME}}`` placeholders need the secret's value again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console

from agent._actions._dispatch import execute_action, map_action
from agent._actions._model import (
    Action,
    Click,
    DoubleClick,
    Drag,
    KeyDown,
    Keypress,
    KeyUp,
    MouseDown,
    MouseUp,
    Move,
    Navigate,
    PointAndType,
    Screenshot,
    Scroll,
    TripleClick,
    Type,
    Wait,
)
from agent._errors import ConfigurationError, RunDirectoryError
from agent._record._imagehash import DEFAULT_SCREEN_THRESHOLD, screen_distance, write_diff_image
from executors._computer import Computer, Point, Size

__all__ = [
    "ReplayResult",
    "StepComparison",
    "action_from_screen",
    "replay_command",
    "replay_run",
]

logger = logging.getLogger(__name__)

REPLAY_DIR = "replay"


def _keys(s: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(k) for k in s.get("keys") or ())


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Action]] = {
    "click": lambda s: Click(s["x"], s["y"], s.get("button", "left"), _keys(s)),
    "double_click": lambda s: DoubleClick(s["x"], s["y"], _keys(s)),
    "triple_click": lambda s: TripleClick(s["x"], s["y"], _keys(s)),
    "move": lambda s: Move(s["x"], s["y"], _keys(s)),
    "drag": lambda s: Drag(tuple((p[0], p[1]) for p in s["path"]), _keys(s)),
    "scroll": lambda s: Scroll(
        s.get("x"), s.get("y"), int(s.get("scroll_x", 0)), int(s.get("scroll_y", 0)), _keys(s)
    ),
    "type": lambda s: Type(str(s["text"])),
    "point_and_type": lambda s: PointAndType(s["x"], s["y"], str(s["text"])),
    "keypress": lambda s: Keypress(_keys(s)),
    "key_down": lambda s: KeyDown(_keys(s)),
    "key_up": lambda s: KeyUp(_keys(s)),
    "mouse_down": lambda s: MouseDown(s["x"], s["y"], s.get("button", "left")),
    "mouse_up": lambda s: MouseUp(s["x"], s["y"], s.get("button", "left")),
    "wait": lambda s: Wait(int(s.get("ms", 1000))),
    "navigate": lambda s: Navigate(str(s["url"])),
    "screenshot": lambda s: Screenshot(),
}


def action_from_screen(kind: str, screen: Mapping[str, Any]) -> Action | None:
    """The canonical action, in screen pixels, of a recorded action (None for terminate)."""
    if kind == "terminate":
        return None
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise RunDirectoryError(f"cannot replay a recorded {kind!r} action")
    try:
        return builder(screen)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise RunDirectoryError(f"recorded {kind!r} action is incomplete: {screen!r}") from exc


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


def _load(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    try:
        run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunDirectoryError(f"{run_dir} has no readable run.json: {exc}") from exc
    if not isinstance(run, dict) or run.get("schema_version") != 1:
        raise RunDirectoryError(f"{run_dir}/run.json is not schema version 1")
    steps: list[dict[str, Any]] = []
    try:
        lines = (run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RunDirectoryError(f"{run_dir} has no readable steps.jsonl: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        try:
            steps.append(json.loads(line))
        except ValueError:
            if number == len(lines):  # a torn last line of an interrupted run
                break
            raise RunDirectoryError(f"steps.jsonl line {number} is not JSON") from None
    return run, steps


def _size(run: Mapping[str, Any]) -> Size:
    display = run.get("display") or {}
    try:
        return Size(int(display["width"]), int(display["height"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise RunDirectoryError("run.json has no display size") from exc


# -- the executor ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _open_executor(
    run: Mapping[str, Any], size: Size, url: str | None, secrets: dict[str, str]
) -> AsyncIterator[Computer]:
    executor = run.get("executor") or {}
    kind = executor.get("kind", "browser")
    if kind == "desktop":
        if executor.get("x_display"):
            logger.warning("the run drove an existing display; replaying on a fresh one")
        from agent._cli._run import open_desktop

        launch = [str(c) if isinstance(c, str) else " ".join(c) for c in executor.get("launch", [])]
        async with open_desktop((size.width, size.height), launch) as computer:
            yield computer
        return
    from executors import PlaywrightComputer

    async with contextlib.AsyncExitStack() as stack:
        start_url = url or executor.get("start_url")
        if executor.get("demo"):
            from agent.demo import DEMO_SECRETS, DemoApp

            for name, value in DEMO_SECRETS.items():
                secrets.setdefault(name, value)
            if url is None:
                variant = executor.get("demo_variant", "default")
                start_url = stack.enter_context(DemoApp(variant=variant)).url
        computer = PlaywrightComputer(
            size=(size.width, size.height),
            device_scale_factor=float(executor.get("device_scale_factor") or 1),
            start_url=start_url or "about:blank",
        )
        yield await stack.enter_async_context(computer)


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
    recorded = run_dir / recorded_rel
    if not recorded.exists():
        raise RunDirectoryError(f"recorded screenshot {recorded} is missing")
    expected = recorded.read_bytes()
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


async def replay_run(
    run_dir: str | Path,
    *,
    threshold: float = DEFAULT_SCREEN_THRESHOLD,
    url: str | None = None,
    secrets: Mapping[str, str] | None = None,
    wait_s: float = 3.0,
    settle_s: float = 2.0,
    on_step: Callable[[StepComparison], None] | None = None,
) -> ReplayResult:
    """Replay `run_dir`'s actions on a fresh executor; stop at the first divergent screen."""
    root = Path(run_dir)
    run, steps = _load(root)
    size = _size(run)
    if not 0 <= threshold <= 1:
        raise ConfigurationError(f"threshold must be between 0 and 1, got {threshold}")
    out_dir = root / REPLAY_DIR
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    known = dict(secrets or {})
    result = ReplayResult(root, threshold, [], len(steps))

    def note(c: StepComparison) -> bool:
        result.comparisons.append(c)
        if on_step is not None:
            on_step(c)
        return c.matched

    async with _open_executor(run, size, url, known) as computer:
        try:
            initial = run.get("initial_screenshot")
            if initial and not note(
                await _compare(computer, root, out_dir, 0, initial, threshold, wait_s, settle_s)
            ):
                return result
            pointer = Point(size.width // 2, size.height // 2)
            for step in steps:
                words: list[str] = []
                for record in step.get("actions") or []:
                    action = action_from_screen(str(record.get("type")), record.get("screen") or {})
                    if action is None:
                        continue
                    mapped = map_action(action, "pixels", size, pointer)
                    await execute_action(computer, mapped, known)
                    pointer = mapped.pointer
                    words.append(_describe(action.type, mapped.screen))
                shot = step.get("screenshot")
                if not words or not shot:
                    continue
                comparison = await _compare(
                    computer,
                    root,
                    out_dir,
                    int(step.get("step", 0)),
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


def _describe(kind: str, screen: Mapping[str, Any]) -> str:
    from agent._cli._live import describe_screen_action

    return describe_screen_action(kind, screen)


# -- the command -------------------------------------------------------------------------


def replay_command(
    run_dir: Path,
    *,
    threshold: float = DEFAULT_SCREEN_THRESHOLD,
    url: str | None = None,
    secrets: list[str] | None = None,
    wait_s: float = 3.0,
    json_output: bool = False,
    verbose: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`screenloop replay`; returns the exit status (0 all matched, 7 diverged)."""
    from agent._cli._exit_codes import ExitCode, exit_code_for_exception
    from agent._cli._run import parse_secrets, run_cancellable, setup_logging, signal_exit_code
    from agent._secrets import UnknownSecretError

    out = out or sys.stdout
    err = err or sys.stderr
    console = Console(file=err if json_output else out, highlight=False, soft_wrap=True)
    err_console = Console(file=err, highlight=False, soft_wrap=True)
    try:
        known = parse_secrets(secrets or [])
    except ConfigurationError as exc:
        err_console.print(f"error: {exc}", markup=False)
        return ExitCode.USAGE
    setup_logging(verbose, secrets=known, stream=err)

    def show(c: StepComparison) -> None:
        if json_output:
            return
        what = "; ".join(c.actions) if c.actions else "initial screen"
        mark = "[green]same[/]" if c.matched else "[red]DIFFERENT[/]"
        console.print(f"step {c.step:>3}  {mark}  distance {c.distance:.3f}  ", end="")
        console.print(what, markup=False)

    try:
        result, sig = asyncio.run(
            run_cancellable(
                replay_run(
                    run_dir,
                    threshold=threshold,
                    url=url,
                    secrets=known,
                    wait_s=wait_s,
                    on_step=show,
                )
            )
        )
    except UnknownSecretError as exc:
        err_console.print(f"error: {exc}; pass --secret {exc.name}=VALUE", markup=False)
        return ExitCode.USAGE
    except Exception as exc:
        err_console.print(f"error: {type(exc).__name__}: {exc}", markup=False)
        logger.debug("replay failed", exc_info=True)
        return exit_code_for_exception(exc)
    if sig is not None or result is None:
        return signal_exit_code(sig) if sig is not None else ExitCode.ERROR
    code = ExitCode.COMPLETED if result.ok else ExitCode.REPLAY_DIVERGED
    if json_output:
        data = result.to_json()
        data["exit_code"] = int(code)
        out.write(json.dumps(data) + "\n")
        return code
    div = result.divergence
    if div is None:
        console.print(
            f"all {len(result.comparisons)} screens matched (threshold {result.threshold})"
        )
    else:
        console.print(
            f"[red]first divergence at step {div.step}[/] (distance {div.distance:.3f} > "
            f"{result.threshold})"
        )
        console.print(f"  recorded: {div.recorded}", markup=False)
        console.print(f"  replayed: {div.replayed}", markup=False)
        console.print(f"  diff:     {div.diff}", markup=False)
    return code
