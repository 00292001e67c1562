"""`screenloop doctor --calibrate`: which coordinate space does this model + API really use?

Sources disagree on whether the Responses API returns Northstar coordinates on
a 0-999 grid or as pixels of ``display_width/height``; a wrong guess sends every
click astray and nothing says so. Calibration measures it:

1. A real Chromium (headless) shows a page with five labelled targets at known,
   asymmetric positions (`TARGETS`, fractions of the display).
2. For each target, one request (the run's dialect: tool, first message with the
   screenshot; ``store: false``) asks the model to click it; the click's raw
   model coordinates are kept (nothing is executed yet).
3. `analyse` maps the raw points through every coordinate space and picks the
   one that lands nearest the targets, with the mean offset left over. The two
   0-999 mappings (``int(v / 1000 * dim)``, ``round(v * (dim - 1) / 999)``)
   differ by at most ~1.3 px, under what a model's clicks resolve: when they
   tie, the default ``normalized`` (Lightcone's examples) is kept, and the
   report says so.
4. Proof by effect: each raw point, mapped with the chosen space, is clicked on
   the page, whose own listener says which target (if any) was hit.

The report says the space, the offset, the hits and the flag to pass
(``--coordinates ...``). Calibration costs five model calls.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from rich.console import Console

from agent._api._interface import ModelClient
from agent._api._profiles import ProviderProfile, data_url
from agent._run._validate import dump_items, read_response
from executors._computer import Point, Size
from executors._geometry import COORDINATE_SPACES, CoordinateSpace, model_to_screen

__all__ = [
    "TARGETS",
    "Calibration",
    "Sample",
    "analyse",
    "calibrate",
    "calibrate_command",
    "calibration_page",
    "target_points",
]

TARGETS: tuple[tuple[str, float, float], ...] = (
    ("A", 0.125, 1 / 6),
    ("B", 0.86, 0.25),
    ("C", 0.234, 5 / 6),
    ("D", 0.766, 0.778),
    ("E", 0.5, 0.5),
)
"""Label and centre (fractions of width and height) of each target; no two mirror each other."""

RADIUS = 22
"""Target radius, CSS pixels."""

FIT_PX = 18.0
"""A space whose mean miss is over this many pixels does not explain the clicks."""

OFFSET_PX = 4.0
"""A mean offset over this many pixels (in the chosen space) is reported."""

TIE_PX = 1.5
"""Two spaces whose mean misses are this close cannot be told apart."""


def target_points(size: Size) -> list[tuple[str, Point]]:
    """Each target's label and centre in screen pixels of `size`."""
    return [
        (label, Point(round(fx * size.width), round(fy * size.height))) for label, fx, fy in TARGETS
    ]


def calibration_page(size: Size) -> str:
    """The page: the targets, and a listener recording which one each click hit."""
    circles = "".join(
        f'<div class="t" id="t{label}" style="left:{p.x - RADIUS}px;top:{p.y - RADIUS}px">'
        f"{label}</div>"
        for label, p in target_points(size)
    )
    return (
        "<!doctype html><html><head><style>"
        "html,body{margin:0;width:100%;height:100%;background:#fff;overflow:hidden}"
        f".t{{position:absolute;width:{2 * RADIUS}px;height:{2 * RADIUS}px;border-radius:50%;"
        "background:#d22;color:#fff;font:bold 22px sans-serif;display:flex;"
        "align-items:center;justify-content:center;user-select:none}"
        "</style></head><body>"
        f"{circles}<script>window.__hits=[];document.addEventListener('click',e=>"
        "{const t=e.target.closest('.t');window.__hits.push({x:e.clientX,y:e.clientY,"
        "target:t?t.id.slice(1):null})},true)</script></body></html>"
    )


def _task(label: str) -> str:
    return (
        f"Calibration: click once on the centre of the red circle labelled {label}. "
        "Do nothing else."
    )


@dataclass
class Sample:
    """One target: where it is (screen pixels) and where the model clicked (model space)."""

    label: str
    target: tuple[int, int]
    raw: tuple[float, float] | None
    hit: str | None = None
    """Which target the mapped click hit on the page (None: none, or not clicked)."""


@dataclass
class Calibration:
    """What calibration found; `to_json` is what ``--json`` prints."""

    size: tuple[int, int]
    samples: list[Sample]
    misses: dict[str, float] = field(default_factory=dict)
    """Mean distance (px) from target to mapped click, per coordinate space."""
    space: CoordinateSpace | None = None
    offset: tuple[float, float] = (0.0, 0.0)
    """Mean (dx, dy) in pixels left in the chosen space."""
    tie: list[str] = field(default_factory=list)
    """Spaces that explain the clicks as well as `space` (the two 0-999 mappings)."""
    hits: int = 0

    @property
    def flag(self) -> str | None:
        """The flag to pass to ``screenloop run`` (None when no space explains the clicks)."""
        return f"--coordinates {self.space}" if self.space else None

    def advice(self) -> list[str]:
        """Lines for the user: what was found and what to do."""
        answered = [s for s in self.samples if s.raw is not None]
        if not answered:
            return ["the model clicked none of the targets; no space can be measured"]
        if self.space is None:
            best = min(self.misses, key=lambda k: self.misses[k])
            return [
                f"no coordinate space explains the clicks (best: {best}, "
                f"{self.misses[best]:.0f} px mean miss); the model may not see the targets "
                "or answers in another space (a different declared display size?)"
            ]
        lines = [f"the model + API use {self.space}: pass {self.flag}"]
        if self.tie:
            lines.append(
                f"{', '.join(self.tie)} fit as well (the 0-999 mappings differ by <= 1.3 px, "
                "below what clicks resolve); the default normalized follows Lightcone's examples"
            )
        dx, dy = self.offset
        if math.hypot(dx, dy) > OFFSET_PX:
            lines.append(
                f"the clicks are offset by ({dx:+.0f}, {dy:+.0f}) px on average; no flag "
                "corrects that: check the display size the model is told and the screenshot size"
            )
        lines.append(f"{self.hits}/{len(self.samples)} mapped clicks hit their target on the page")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "size": list(self.size),
            "space": self.space,
            "flag": self.flag,
            "offset": [round(v, 1) for v in self.offset],
            "misses": {k: round(v, 1) for k, v in self.misses.items()},
            "tie": self.tie,
            "hits": self.hits,
            "samples": [asdict(s) for s in self.samples],
            "advice": self.advice(),
        }


def analyse(samples: Sequence[Sample], size: Size) -> Calibration:
    """Pick the coordinate space that maps the raw clicks nearest their targets."""
    result = Calibration((size.width, size.height), list(samples))
    answered = [s for s in samples if s.raw is not None]
    if not answered:
        return result
    deltas: dict[str, list[tuple[float, float]]] = {}
    for space in COORDINATE_SPACES:
        pairs: list[tuple[float, float]] = []
        for s in answered:
            assert s.raw is not None
            p = model_to_screen(s.raw[0], s.raw[1], space, size).point
            pairs.append((float(p.x - s.target[0]), float(p.y - s.target[1])))
        deltas[space] = pairs
        result.misses[space] = sum(math.hypot(dx, dy) for dx, dy in pairs) / len(pairs)

    def spread(space: str) -> float:
        """Mean miss around the mean offset: an offset alone does not rule a space out."""
        pairs = deltas[space]
        mx = sum(d[0] for d in pairs) / len(pairs)
        my = sum(d[1] for d in pairs) / len(pairs)
        return sum(math.hypot(dx - mx, dy - my) for dx, dy in pairs) / len(pairs)

    score: Callable[[str], float] = result.misses.__getitem__
    if min(map(score, COORDINATE_SPACES)) > FIT_PX:
        score = spread
    lowest = min(map(score, COORDINATE_SPACES))
    if lowest > FIT_PX:
        return result
    # on a tie the default normalized wins (the two 0-999 mappings are ~1 px apart)
    near = [k for k in COORDINATE_SPACES if score(k) <= lowest + TIE_PX]
    best = min(near, key=lambda k: (k != "normalized", score(k)))
    result.tie = [k for k in near if k != best]
    result.space = best
    pairs = deltas[best]
    result.offset = (
        sum(d[0] for d in pairs) / len(pairs),
        sum(d[1] for d in pairs) / len(pairs),
    )
    return result


def _first_point(response: Any) -> tuple[float, float] | None:
    parsed = read_response(response)
    for call in parsed.computer_calls:
        for action in call.actions:
            x, y = getattr(action, "x", None), getattr(action, "y", None)
            if isinstance(x, (int, float)) and isinstance(y, (int, float)):
                return float(x), float(y)
    return None


async def calibrate(
    client: ModelClient,
    *,
    model: str,
    profile: ProviderProfile,
    size: Size,
    on_sample: Callable[[Sample], None] | None = None,
) -> Calibration:
    """Ask the model to click each target on a real page; analyse; click to prove it."""
    from executors import PlaywrightComputer

    samples: list[Sample] = []
    async with PlaywrightComputer(size=(size.width, size.height)) as computer:
        await computer.page.set_content(calibration_page(size))
        await computer.settle(2.0)
        shot = await computer.screenshot()
        image = data_url(shot)
        for label, target in target_points(size):
            first = profile.first_message(_task(label), image)
            body: dict[str, Any] = {
                "model": model,
                "input": dump_items([first]),
                "tools": [profile.computer_tool(size, "browser")],
                "store": False,
            }
            if profile.truncation:
                body["truncation"] = profile.truncation
            raw = _first_point(await client.create(body))
            sample = Sample(label, (target.x, target.y), raw)
            samples.append(sample)
            if on_sample is not None:
                on_sample(sample)
        result = analyse(samples, size)
        if result.space is not None:
            for sample in samples:
                if sample.raw is None:
                    continue
                p = model_to_screen(sample.raw[0], sample.raw[1], result.space, size).point
                await computer.click(p.x, p.y)
                hits = await computer.page.evaluate("window.__hits")
                sample.hit = hits[-1]["target"] if hits else None
            result.hits = sum(1 for s in samples if s.hit == s.label)
    return result


def calibrate_command(
    *,
    base_url: str | None,
    provider: str | None,
    api_key: str | None,
    model: str,
    display: str,
    json_output: bool,
    out: TextIO,
) -> int:
    """``screenloop doctor --calibrate``: 0 when a space explains the clicks, else 8.

    A missing key or a bad option is a usage error (2); an API or model failure
    exits 5, a browser failure 6 (one line on stderr, never the key).
    """
    from agent._api._client import AsyncResponsesClient
    from agent._api._profiles import resolve_profile
    from agent._api._provider import resolve_provider
    from agent._cli._exit_codes import ExitCode, exit_code_for_exception
    from agent._cli._run import parse_size
    from agent._errors import ScreenloopError

    console = Console(file=out, highlight=False)
    err = Console(file=sys.stderr, highlight=False)
    try:
        size = Size(*parse_size(display))
        settings = resolve_provider(api_key=api_key, base_url=base_url, provider=provider)
    except ScreenloopError as exc:
        err.print(f"error: {exc}", markup=False)
        return ExitCode.USAGE
    profile = resolve_profile(model, settings.base_url, provider or settings.provider)

    def show(sample: Sample) -> None:
        if not json_output:
            raw = "no click" if sample.raw is None else f"({sample.raw[0]:g}, {sample.raw[1]:g})"
            console.print(
                f"target {sample.label} at {sample.target}: model said {raw}", markup=False
            )

    async def main() -> Calibration:
        async with AsyncResponsesClient(
            api_key=settings.api_key, base_url=settings.base_url, provider=settings.provider
        ) as client:
            return await calibrate(client, model=model, profile=profile, size=size, on_sample=show)

    try:
        result = asyncio.run(main())
    except ScreenloopError as exc:
        err.print(f"error: {type(exc).__name__}: {exc}"[:500], markup=False)
        return exit_code_for_exception(exc)
    code = ExitCode.COMPLETED if result.space is not None else ExitCode.CHECKS_FAILED
    if json_output:
        out.write(json.dumps({**result.to_json(), "exit_code": int(code)}) + "\n")
    else:
        for line in result.advice():
            console.print(line, markup=False)
    return code
