"""Figure 6: freshness. Does each screenshot show the effect of the action before it?

The probes (`bench._probe`) change their visible state 0, 100 or 300 ms after
a click, or when a 200 ms loopback request returns. screenloop (a real
`Agent.run`: click, settle, screenshot, record) and a naive baseline (act, then
capture at once: the OpenAI CUA sample's ``page.screenshot()`` on the browser,
Anthropic's tool without its sleeps -- xdotool + scrot -- on the desktop) click
the same probe, interleaved step by step against their own scripted servers.
For every step: was the screenshot fresh (its pixels show the effect), the
step gap (response n arriving to response n+1 arriving, as figure 1), the
settle wait, and when the effect became visible after the click.

The *curve* is what a fixed wait after the input would have caught: for a wait
w, the share of effects that were visible w ms after the click ended. It is the
measurement the desktop's default quiet window is chosen from.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agent.testing import computer_call, message
from bench._baseline import BrowserHands, NaiveDesktopHands, baseline_page, run_baseline
from bench._common import Baton, PageServer, ServerProcess, log, spread
from bench._probe import (
    DELAYS,
    PROBE_APP,
    SLOW_PATH,
    SLOW_S,
    button_point,
    probe_page,
    shown_count,
)
from bench._workload import run_screenloop
from executors._computer import Screenshot, Size

__all__ = ["CURVE_MS", "measure_fresh"]

CURVE_MS = (0, 25, 50, 75, 100, 150, 200, 250, 300, 350, 400, 500, 700)


class _Probe:
    """Pairs each click's end (wall clock) with the next screenshot taken after it."""

    def __init__(self) -> None:
        self.pending: float | None = None
        self.pairs: list[tuple[float, bytes]] = []

    def acted(self) -> None:
        self.pending = time.time()

    def shot(self, data: bytes) -> None:
        if self.pending is not None:
            self.pairs.append((self.pending, data))
            self.pending = None


class _ProbeComputer:
    """A computer whose clicks and screenshots feed a `_Probe` (the rest delegates)."""

    def __init__(self, inner: Any, probe: _Probe) -> None:
        self._inner = inner
        self._probe = probe

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def click(self, *args: Any, **kwargs: Any) -> None:
        await self._inner.click(*args, **kwargs)
        self._probe.acted()

    async def screenshot(self) -> Screenshot:
        shot = await self._inner.screenshot()
        self._probe.shot(shot.data)
        return shot


class _ProbeHands:
    """Baseline hands whose actions and captures feed a `_Probe`."""

    def __init__(self, inner: Any, probe: _Probe) -> None:
        self._inner = inner
        self._probe = probe
        self.environment = inner.environment

    async def act(self, a: dict[str, Any]) -> None:
        await self._inner.act(a)
        self._probe.acted()

    async def capture(self) -> tuple[bytes, float]:
        png, encode_s = await self._inner.capture()
        self._probe.shot(png)
        return png, encode_s


MIXED = "mixed"  # a block cycling through every delay, step by step


def _block_delay(delay: str, i: int) -> str:
    return DELAYS[i % len(DELAYS)] if delay == MIXED else delay


def _turns(size: Size, delays: list[str], steps: int, reps: int) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    for delay in delays:
        for _ in range(reps):
            for i in range(steps):
                x, y = button_point(_block_delay(delay, i), size.width, size.height)
                turns.append({"output": [computer_call("click", x=x, y=y)]})
            turns.append({"output": [message("done")]})
    return turns


class _Side:
    """One side's probe, effect count so far and trials."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.probe = _Probe()
        self.count = 0
        self.trials: list[dict[str, Any]] = []

    def judge(
        self,
        delay: str,
        rep: int,
        size: Size,
        effects: list[float],
        windows: list[dict[str, float]],
    ) -> None:
        """Turn the run's (click, screenshot) pairs into trials; advance the count."""
        for i, (clicked, png) in enumerate(self.probe.pairs):
            expected = self.count + i + 1
            shown = shown_count(png, size.width, size.height)
            w = windows[i] if i < len(windows) else {}
            visible = effects[expected - 1] if expected - 1 < len(effects) else float("nan")
            self.trials.append(
                {
                    "side": self.name,
                    "delay": delay,
                    "effect": _block_delay(delay, i),
                    "rep": rep,
                    "fresh": shown == expected % 8,
                    "effect_after_s": visible - clicked,
                    "gap_s": w.get("total", float("nan")),
                    "settle_s": w.get("settle", 0.0),
                    "capture_s": w.get("capture", 0.0) + w.get("encode", 0.0),
                    "png_bytes": len(png),
                }
            )
        self.count += len(self.probe.pairs)
        self.probe = _Probe()


async def _interleave(
    size: Size,
    delays: list[str],
    reps: int,
    sides: list[_Side],
    runs: dict[str, Any],
    effects: Any,
) -> list[float]:
    """Run every (delay, rep) block with all sides taking turns; the load averages.

    The side going first rotates with each repetition.
    """
    loads: list[float] = []
    names = [side.name for side in sides]
    for delay in delays:
        for rep in range(reps):
            order = names[rep % len(names) :] + names[: rep % len(names)]
            baton = Baton(order)
            windows = await asyncio.gather(*(runs[n](baton) for n in names))
            for side, side_windows in zip(sides, windows, strict=True):
                landed = await effects(side, side.count + len(side.probe.pairs))
                side.judge(delay, rep, size, landed, side_windows)
            loads.append(os.getloadavg()[0])
            log(f"fresh: {delay} rep {rep} done (load {loads[-1]:.1f})")
    return loads


async def _browser(size: Size, delays: list[str], steps: int, reps: int) -> dict[str, Any]:
    from executors import PlaywrightComputer

    turns = _turns(size, delays, steps, reps)
    sl_side, base_side = _Side("screenloop"), _Side("baseline")
    pages_spec = {"/": probe_page(size.width, size.height), SLOW_PATH: "ok"}
    with (
        PageServer(pages_spec, delays={SLOW_PATH: SLOW_S}) as pages,
        ServerProcess(turns) as sl_srv,
        ServerProcess(turns) as base_srv,
    ):
        url = pages.url("/")
        async with (
            baseline_page(size, url) as page,
            PlaywrightComputer(size=size, start_url=url) as computer,
        ):
            pages_of = {"screenloop": computer.page, "baseline": page}

            async def sl(baton: Baton) -> list[dict[str, float]]:
                probe = _ProbeComputer(computer, sl_side.probe)
                return (
                    await run_screenloop(probe, sl_srv.base_url, steps=steps, baton=baton)
                ).windows

            async def base(baton: Baton) -> list[dict[str, float]]:
                hands = _ProbeHands(BrowserHands(page), base_side.probe)
                return await run_baseline(hands, base_srv.base_url, size, baton=baton)

            async def effects(side: _Side, n: int) -> list[float]:
                p = pages_of[side.name]
                await p.wait_for_function(f"window.__effects.length >= {n}", timeout=10_000)
                return [t / 1000 for t in await p.evaluate("window.__effects")]

            sides = [sl_side, base_side]
            runs = {"screenloop": sl, "baseline": base}
            loads = await _interleave(size, delays, reps, sides, runs, effects)
    return _summarize(sl_side.trials + base_side.trials, delays, loads, ["screenloop", "baseline"])


async def _read_stamps(path: Path, n: int, timeout_s: float = 10.0) -> list[float]:
    deadline = time.monotonic() + timeout_s
    while True:
        lines = (await asyncio.to_thread(path.read_text)).split()
        if len(lines) >= n or time.monotonic() > deadline:
            return [float(v) for v in lines]
        await asyncio.sleep(0.02)


async def _wait_drawn(display: str, size: Size, timeout_s: float = 20.0) -> None:
    """Until the probe app's box is on screen (its first colour at the box point)."""
    import mss

    from bench._probe import PALETTE, box_point

    x, y = box_point(size.width, size.height)
    deadline = time.monotonic() + timeout_s
    with mss.MSS(display=display) as sct:
        while time.monotonic() < deadline:
            shot = sct.grab({"left": x, "top": y, "width": 1, "height": 1})
            if tuple(shot.pixel(0, 0)) == PALETTE[0]:
                await asyncio.sleep(0.3)  # the buttons are drawn with the box
                return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the probe app did not show on {display}")


# the desktop's sides: screenloop as configured, screenloop settling the way it did
# before change notification (grab comparison, no floor: "today"), and the naive tool
DESKTOP_SIDES = ("screenloop", "screenloop-grabs", "baseline")
_GRABS = {"change_notification": False, "min_response_s": 0.0}


async def _desktop(
    size: Size, delays: list[str], steps: int, reps: int, computer_kwargs: dict[str, Any]
) -> dict[str, Any]:
    from executors import DesktopComputer
    from sandbox import VirtualDisplay

    turns = _turns(size, delays, steps, reps)
    sides = [_Side(name) for name in DESKTOP_SIDES]
    workdir = Path(tempfile.mkdtemp(prefix="bench-fresh-"))
    stamps = {name: workdir / f"{name}.stamps" for name in DESKTOP_SIDES}
    with contextlib.ExitStack() as stack:
        pages = stack.enter_context(PageServer({SLOW_PATH: "ok"}, delays={SLOW_PATH: SLOW_S}))
        displays, servers = {}, {}
        for name in DESKTOP_SIDES:
            display = stack.enter_context(VirtualDisplay(size.width, size.height))
            servers[name] = stack.enter_context(ServerProcess(turns))
            stamps[name].touch()
            display.launch(
                [sys.executable, "-c", PROBE_APP, pages.url(SLOW_PATH), str(stamps[name])]
            )
            await _wait_drawn(display.display, size)
            displays[name] = display
        naive = NaiveDesktopHands(displays["baseline"].display, str(workdir))
        async with (
            DesktopComputer(displays["screenloop"], **computer_kwargs) as computer,
            DesktopComputer(displays["screenloop-grabs"], **_GRABS) as today,
        ):
            by_name = {side.name: side for side in sides}

            def screenloop_side(name: str, comp: Any) -> Any:
                async def run(baton: Baton) -> list[dict[str, float]]:
                    probe = _ProbeComputer(comp, by_name[name].probe)
                    url = servers[name].base_url
                    run_ = await run_screenloop(probe, url, steps=steps, baton=baton, name=name)
                    return run_.windows

                return run

            async def base(baton: Baton) -> list[dict[str, float]]:
                hands = _ProbeHands(naive, by_name["baseline"].probe)
                return await run_baseline(hands, servers["baseline"].base_url, size, baton=baton)

            async def effects(side: _Side, n: int) -> list[float]:
                return await _read_stamps(stamps[side.name], n)

            runs = {
                "screenloop": screenloop_side("screenloop", computer),
                "screenloop-grabs": screenloop_side("screenloop-grabs", today),
                "baseline": base,
            }
            loads = await _interleave(size, delays, reps, sides, runs, effects)
    trials = [t for side in sides for t in side.trials]
    return _summarize(trials, delays, loads, list(DESKTOP_SIDES))


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else float("nan")


def _summarize(
    trials: list[dict[str, Any]], delays: list[str], loads: list[float], sides: list[str]
) -> dict[str, Any]:
    rows = []
    for delay in delays:
        for side in sides:
            sel = [t for t in trials if t["side"] == side and t["delay"] == delay]
            rows.append(
                {
                    "delay": delay,
                    "side": side,
                    "n": len(sel),
                    "fresh": sum(t["fresh"] for t in sel),
                    "fresh_pct": _pct(sum(t["fresh"] for t in sel), len(sel)),
                    "gap_s": spread(t["gap_s"] for t in sel),
                    "settle_s": spread(t["settle_s"] for t in sel),
                    "effect_after_s": spread(t["effect_after_s"] for t in sel),
                    "png_bytes_median": spread(t["png_bytes"] for t in sel)["median"],
                }
            )
    # the curve: when effects became visible after screenloop's own input ended
    # (its click returns when the X server / the page has the input)
    curve: dict[str, dict[str, float]] = {}
    for effect in DELAYS:
        after = [
            t["effect_after_s"]
            for t in trials
            if t["effect"] == effect and t["side"] == "screenloop"
        ]
        curve[effect] = {
            str(w): _pct(sum(1 for a in after if a <= w / 1000), len(after)) for w in CURVE_MS
        }
    gaps: dict[str, dict[str, float | None]] = {}
    for delay in delays:
        med = {r["side"]: r["gap_s"]["median"] for r in rows if r["delay"] == delay}
        base = med.get("baseline")
        gaps[delay] = {s: (med[s] / base if base else None) for s in sides if s != "baseline"}
    return {
        "sides": sides,
        "rows": rows,
        "gap_ratio_vs_baseline_median": gaps,
        "curve_pct_visible_by_wait_ms": curve,
        "loadavg": loads,
        "trials": trials,
    }


def measure_fresh(
    size: list[int],
    delays: list[str] | None = None,
    steps: int = 12,
    reps: int = 2,
    executors: list[str] | None = None,
    desktop_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Figure 6 for the browser and the desktop: freshness and step gap per delay."""
    delays = list(delays or [*DELAYS, MIXED])
    sz = Size(*size)
    out: dict[str, Any] = {}
    for env in executors or ["browser", "desktop"]:
        key = f"{env} {sz.width}x{sz.height}"
        log(f"fresh: {key}, delays {delays}, {reps} reps x {steps} steps, interleaved")
        if env == "browser":
            out[key] = asyncio.run(_browser(sz, delays, steps, reps))
        else:
            out[key] = asyncio.run(_desktop(sz, delays, steps, reps, desktop_kwargs or {}))
    return out
