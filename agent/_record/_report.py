"""``report.html``: one self-contained page a person would rather read than logs.

Built from a run directory (docs/run-directory.md, schema version 1): status
and final answer at the top, then a timeline with one card per step: the
screenshot the model saw with its actions drawn on it (click markers labelled
with the button, drag paths, scroll arrows, typed text and key chords),
reasoning summaries, messages, safety decisions, function calls, events,
per-phase timings and token usage. ``j``/``k`` or the arrow keys move between
steps; clicking a screenshot enlarges it.

Design decisions:

- **Images are embedded** as ``data:`` URLs so the file can be mailed, attached
  to a CI run or opened from anywhere. Each screenshot file is embedded once
  (a step shows the screenshot it *observed*; the last one appears as the final
  screen). Files up to `EMBED_AS_IS_BYTES` are embedded in their recorded
  format; larger ones are re-encoded as JPEG (quality 85, at most 1600 px wide)
  to keep long runs small.
- **Markers are placed in percentages** of the display size from run.json
  (screen pixels, the space of each action's ``screen`` field), so they stay on
  target at any zoom; drag paths and scroll arrows are SVG in a
  ``viewBox`` of the display size.
- **Model text is never trusted**: every string is HTML-escaped, the page's
  Content-Security-Policy allows only its own nonce-tagged script and
  ``data:`` images, and no model text is ever placed inside a script.
- Secrets are already ``{{secret:NAME}}`` placeholders in the record; they are
  shown as a masked chip naming the secret, never a value.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent._errors import RunDirectoryError
from agent._record._report_assets import PHASE_COLORS, report_css, report_js
from executors._computer import Size
from executors._geometry import GeometryError, model_to_screen

__all__ = ["EMBED_AS_IS_BYTES", "REPORT_FILENAME", "build_report", "describe_action"]

logger = logging.getLogger(__name__)

REPORT_FILENAME = "report.html"
EMBED_AS_IS_BYTES = 512 * 1024
_JPEG_MAX_WIDTH = 1600
_SECRET = re.compile(r"\{\{secret:([A-Za-z0-9_.\-]+)\}\}")
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
_POINT_KINDS = {"click", "double_click", "triple_click", "move", "mouse_down", "mouse_up",
                "point_and_type", "right_click"}  # fmt: skip


# ---- reading the run directory -----------------------------------------------------------


@dataclass
class _Run:
    root: Path
    summary: dict[str, Any]
    steps: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


def _load(run_dir: Path) -> _Run:
    run_json = run_dir / "run.json"
    if not run_dir.is_dir():
        raise RunDirectoryError(f"{run_dir} is not a directory (pass a run directory)")
    try:
        summary = json.loads(run_json.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RunDirectoryError(f"{run_dir} has no run.json; is it a run directory?") from exc
    except (OSError, ValueError) as exc:
        raise RunDirectoryError(f"{run_json} is not readable JSON: {exc}") from exc
    if not isinstance(summary, dict):
        raise RunDirectoryError(f"{run_json} does not hold a JSON object")
    version = summary.get("schema_version")
    if version != 1:
        raise RunDirectoryError(
            f"{run_json} has schema_version {version!r}; this screenloop reads version 1"
        )
    run = _Run(run_dir, summary, [])
    steps_file = run_dir / "steps.jsonl"
    if steps_file.exists():
        for number, line in enumerate(steps_file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                step = json.loads(line)
            except ValueError:
                # a run killed mid-write leaves a torn last line: show the rest
                run.notes.append(f"steps.jsonl line {number} is not valid JSON and was skipped.")
                continue
            if isinstance(step, dict):
                run.steps.append(step)
    return run


class _Images:
    """Screenshot files as data URLs, each file read once."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[str, str | None] = {}

    def data_url(self, rel: object) -> str | None:
        if not isinstance(rel, str) or not rel:
            return None
        if rel not in self._cache:
            self._cache[rel] = self._encode(rel)
        return self._cache[rel]

    def _encode(self, rel: str) -> str | None:
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            logger.warning("report: screenshot %s is missing", rel)
            return None
        data = path.read_bytes()
        mime = _MIME.get(path.suffix.lower())
        if mime is None or len(data) > EMBED_AS_IS_BYTES:
            data, mime = _as_jpeg(data), "image/jpeg"
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _as_jpeg(data: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
        if rgb.width > _JPEG_MAX_WIDTH:
            height = round(rgb.height * _JPEG_MAX_WIDTH / rgb.width)
            rgb = rgb.resize((_JPEG_MAX_WIDTH, height), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        rgb.save(out, format="JPEG", quality=85, optimize=True)
        return out.getvalue()


# ---- words ---------------------------------------------------------------------------------


def _num(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _pt(x: object, y: object) -> str:
    return f"({_num(x)}, {_num(y)})"


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _scroll_words(dx: float, dy: float) -> str:
    parts = []
    if dy:
        parts.append(f"{'down' if dy > 0 else 'up'} {_num(abs(dy))} px")
    if dx:
        parts.append(f"{'right' if dx > 0 else 'left'} {_num(abs(dx))} px")
    return " ".join(parts) or "0 px"


def _where(action: Mapping[str, Any]) -> dict[str, Any]:
    screen = action.get("screen")
    return screen if isinstance(screen, dict) else {}


def describe_action(action: Mapping[str, Any]) -> str:
    """An action record of steps.jsonl in a few words, in screen pixels.

    ``click (412, 230) left``, ``type 'hello'``, ``keypress ctrl+a``,
    ``drag (10, 10) → (90, 40)``, ``scroll down 480 px at (640, 450)``.
    """
    kind = str(action.get("type") or (action.get("raw") or {}).get("type") or "action")
    s = _where(action) or dict(action.get("raw") or {})
    has_xy = "x" in s and "y" in s
    at = f" {_pt(s['x'], s['y'])}" if has_xy else ""
    if kind == "click":
        return f"click{at} {s.get('button', 'left')}"
    if kind in ("double_click", "triple_click", "move", "right_click"):
        return kind.replace("_", "-") + at
    if kind in ("mouse_down", "mouse_up"):
        return f"{kind.replace('_', ' ')}{at} {s.get('button', 'left')}".rstrip()
    if kind == "drag":
        path = _drag_path(s)
        if len(path) >= 2:
            return f"drag {_pt(*path[0])} → {_pt(*path[-1])}"
        return "drag"
    if kind == "scroll":
        words = _scroll_words(_f(s.get("scroll_x")), _f(s.get("scroll_y")))
        return f"scroll {words}" + (f" at{at}" if has_xy else "")
    if kind in ("type", "point_and_type"):
        return f"type {_short(str(s.get('text', '')))!r}" + (f" at{at}" if has_xy else "")
    if kind in ("keypress", "key_down", "key_up"):
        keys = s.get("keys") or []
        joined = "+".join(str(k) for k in keys) if isinstance(keys, list) else str(keys)
        return f"{kind.replace('_', ' ')} {joined}".rstrip()
    if kind == "navigate":
        return f"navigate {_short(str(s.get('url', '')), 60)}"
    return kind.replace("_", " ")


def _f(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _drag_path(s: Mapping[str, Any]) -> list[tuple[float, float]]:
    path = s.get("path")
    points: list[tuple[float, float]] = []
    if isinstance(path, list):
        for p in path:
            if isinstance(p, dict):
                points.append((_f(p.get("x")), _f(p.get("y"))))
            elif isinstance(p, (list, tuple)) and len(p) >= 2:
                points.append((_f(p[0]), _f(p[1])))
    return points


# ---- HTML pieces ------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _text(value: object) -> str:
    """Escape model text, then show each secret placeholder as a masked chip."""
    return _SECRET.sub(
        lambda m: f'<span class="secret" title="secret {m.group(1)}">•••• {m.group(1)}</span>',
        _e(value),
    )


def _pct(value: float, total: int) -> str:
    return f"{value * 100 / total:.4f}%"


def _secs(value: object) -> str:
    v = _f(value)
    if v < 0.01:
        return f"{v * 1000:.1f} ms"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def _phase_bar(timings: Mapping[str, Any], legend: Literal["all", "top"]) -> str:
    phases = [(k, _f(v)) for k, v in timings.items() if k.endswith("_s") and k != "total_s"]
    phases = [(k, v) for k, v in phases if v > 0]
    phases.sort(key=lambda kv: list(PHASE_COLORS).index(kv[0]) if kv[0] in PHASE_COLORS else 99)
    total = sum(v for _, v in phases)
    if total <= 0:
        return ""
    spans = "".join(
        f'<span style="width: {v * 100 / total:.3f}%; background: {PHASE_COLORS.get(k, "#cbd5e1")}"'
        f' title="{_e(k[:-2])} {_secs(v)}"></span>'
        for k, v in phases
    )
    out = f'<div class="phasebar">{spans}</div>'
    if legend:
        shown = phases if legend == "all" else sorted(phases, key=lambda kv: -kv[1])[:4]
        items = "".join(
            f'<span><i style="background: {PHASE_COLORS.get(k, "#cbd5e1")}"></i>'
            f"{_e(k[:-2].replace('_', ' '))} {_secs(v)}</span>"
            for k, v in phases
            if (k, v) in shown
        )
        out += f'<div class="legend">{items}</div>'
    return out


def _tokens(usage: object) -> str:
    if not isinstance(usage, dict):
        return ""
    i, o = int(_f(usage.get("input_tokens"))), int(_f(usage.get("output_tokens")))
    t = int(_f(usage.get("total_tokens"))) or i + o
    if not t:  # scripted models report no usage; "0 tokens" on every step is noise
        return ""
    return f"{t:,} tokens ({i:,} in, {o:,} out)"


@dataclass
class _Overlay:
    markers: list[str] = field(default_factory=list)
    svg: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)


def _marker(
    kind: str, x: float, y: float, size: Size, tag: str, *, index: int, extra: str = ""
) -> str:
    flip = " flip" if x > size.width * 0.72 else ""
    return (
        f'<div class="marker {kind}{extra}{flip}" data-action="{index}" data-x="{_num(x)}"'
        f' data-y="{_num(y)}" style="left: {_pct(x, size.width)}; top: {_pct(y, size.height)}">'
        '<span class="ring"></span><span class="dot"></span>'
        f'<span class="tag">{_e(tag)}</span></div>'
    )


def _keys_html(keys: object) -> str:
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list) or not keys:
        return ""
    return "+".join(f"<kbd>{_e(k)}</kbd>" for k in keys)


def _draw(
    action: Mapping[str, Any], index: int, count: int, run: _Run, size: Size, overlay: _Overlay
) -> None:
    kind = str(action.get("type") or "")
    s = _where(action)
    unmapped = ""
    if not s:  # not mapped (e.g. it failed before execution): draw the raw point, faded
        s, unmapped = _map_raw(action, run, size), " unmapped"
    prefix = f"{index + 1} · " if count > 1 else ""
    has_xy = isinstance(s.get("x"), (int, float)) and isinstance(s.get("y"), (int, float))
    if kind in _POINT_KINDS and has_xy:
        x, y = float(s["x"]), float(s["y"])
        button = str(s.get("button", "left"))
        label = {
            "click": f"{button} click",
            "double_click": "double-click",
            "triple_click": "triple-click",
            "right_click": "right click",
            "move": "move",
            "mouse_down": f"{button} down",
            "mouse_up": f"{button} up",
            "point_and_type": "click + type",
        }[kind]
        css = "move" if kind == "move" else ("right" if "right" in (button, kind) else "click")
        overlay.markers.append(
            _marker(css, x, y, size, prefix + label, index=index, extra=unmapped)
        )
    elif kind == "drag":
        path = _drag_path(s)
        if path:
            points = " ".join(f"{_num(px)},{_num(py)}" for px, py in path)
            overlay.svg.append(
                f'<polyline class="path" data-action="{index}" points="{points}"'
                ' marker-end="url(#arrow-drag)"></polyline>'
            )
            overlay.markers.append(
                _marker("drag", *path[0], size, prefix + "drag", index=index, extra=unmapped)
            )
            if len(path) > 1:
                overlay.markers.append(
                    _marker("drag-end", *path[-1], size, "", index=index, extra=unmapped)
                )
    elif kind == "scroll":
        dx, dy = _f(s.get("scroll_x")), _f(s.get("scroll_y"))
        words = _scroll_words(dx, dy)
        if has_xy:
            x, y = float(s["x"]), float(s["y"])
            length = max(size.width, size.height) * 0.08
            norm = (dx * dx + dy * dy) ** 0.5 or 1.0
            x2, y2 = x + dx / norm * length, y + dy / norm * length
            overlay.svg.append(
                f'<line class="scroll" data-action="{index}" x1="{_num(x)}" y1="{_num(y)}"'
                f' x2="{x2:.1f}" y2="{y2:.1f}" marker-end="url(#arrow-scroll)"></line>'
            )
            overlay.markers.append(
                _marker(
                    "scroll", x, y, size, f"{prefix}scroll {words}", index=index, extra=unmapped
                )
            )
        else:
            overlay.captions.append(
                f'<span class="chip">{_e(prefix)}scroll {_e(words)} at the pointer</span>'
            )
    if kind in ("type", "point_and_type"):
        overlay.captions.append(
            f'<span class="chip" data-action="{index}">{_e(prefix)}type'
            f" <q>{_text(s.get('text', ''))}</q></span>"
        )
    elif kind in ("keypress", "key_down", "key_up"):
        words = {"keypress": "keys", "key_down": "hold", "key_up": "release"}[kind]
        overlay.captions.append(
            f'<span class="chip" data-action="{index}">{_e(prefix)}{words}'
            f" {_keys_html(s.get('keys'))}</span>"
        )
    elif kind == "navigate":
        overlay.captions.append(
            f'<span class="chip" data-action="{index}">{_e(prefix)}navigate'
            f" <q>{_e(s.get('url', ''))}</q></span>"
        )
    elif kind not in _POINT_KINDS and kind not in ("drag", "scroll"):
        overlay.captions.append(
            f'<span class="chip" data-action="{index}">{_e(prefix)}{_e(describe_action(action))}'
            "</span>"
        )


def _map_raw(action: Mapping[str, Any], run: _Run, size: Size) -> dict[str, Any]:
    raw = action.get("raw")
    if not isinstance(raw, dict):
        return {}
    space = run.summary.get("coordinate_space", "pixels")
    out = dict(raw)
    try:
        if "x" in raw and "y" in raw:
            p = model_to_screen(raw["x"], raw["y"], space, size).point
            out["x"], out["y"] = p.x, p.y
        path = _drag_path(raw)
        if path:
            out["path"] = [list(model_to_screen(x, y, space, size).point) for x, y in path]
    except (GeometryError, TypeError):
        return {}
    return out


def _figure(image: str | None, size: Size, overlay: _Overlay | None, alt: str) -> str:
    body = (
        f'<img src="{image}" alt="{_e(alt)}" width="{size.width}" height="{size.height}">'
        if image
        else '<div class="missing">no screenshot recorded</div>'
    )
    parts = [f'<figure class="shot" style="aspect-ratio: {size.width} / {size.height}">', body]
    if overlay is not None:
        parts.append(
            f'<svg class="overlay" viewBox="0 0 {size.width} {size.height}"'
            ' preserveAspectRatio="none" aria-hidden="true">' + "".join(overlay.svg) + "</svg>"
        )
        parts.append('<div class="markers">' + "".join(overlay.markers) + "</div>")
        if overlay.captions:
            parts.append('<div class="captions">' + "".join(overlay.captions) + "</div>")
    parts.append("</figure>")
    return "".join(parts)


def _block(title: str, inner: str, css: str = "") -> str:
    return f'<div class="block {css}"><h3>{_e(title)}</h3>{inner}</div>' if inner else ""


def _list_of(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _action_rows(step: Mapping[str, Any], run: _Run) -> str:
    rows = []
    space = run.summary.get("coordinate_space", "")
    for action in _list_of(step.get("actions")):
        if not isinstance(action, dict):
            continue
        raw = _dict(action.get("raw"))
        bits = [f'<span class="kind">{_text(describe_action(action))}</span>']
        coords = []
        if "x" in raw and "y" in raw:
            coords.append(f"model {_pt(raw['x'], raw['y'])} {_e(space)}")
        timings = _dict(action.get("timings"))
        if timings:
            coords.append(" + ".join(f"{_e(k[:-2])} {_secs(v)}" for k, v in timings.items()))
        if coords:
            bits.append(f'<div class="coords">{" · ".join(coords)}</div>')
        if action.get("clamped"):
            bits.append('<div class="warn">clamped onto the screen</div>')
        if action.get("error"):
            bits.append(f'<div class="errtext">{_text(_err(action["error"]))}</div>')
        rows.append("<li>" + "".join(bits) + "</li>")
    return f"<ol>{''.join(rows)}</ol>" if rows else ""


def _err(error: object) -> str:
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {error.get('message', '')}"
    return str(error)


def _safety_html(step: Mapping[str, Any]) -> str:
    out = []
    for check in _list_of(step.get("safety")):
        if not isinstance(check, dict):
            continue
        decision = str(check.get("decision", "unknown"))
        css = "acknowledged" if decision == "acknowledged" else "denied"
        out.append(
            f'<div class="safety {css}"><b>Safety check {_e(decision)}'
            f" by {_e(check.get('decided_by', '?'))}</b>"
            f'<span class="mono">{_e(check.get("code", ""))}</span> '
            f"{_text(check.get('message', ''))}"
            f'<div class="why">check {_e(check.get("id", ""))} on {_e(check.get("call_id", ""))}'
            "</div></div>"
        )
    return "".join(out)


def _step_html(
    step: Mapping[str, Any], position: int, run: _Run, images: _Images, size: Size
) -> str:
    number = step.get("step", position + 1)
    actions = [a for a in _list_of(step.get("actions")) if isinstance(a, dict)]
    overlay = _Overlay()
    for index, action in enumerate(actions):
        _draw(action, index, len(actions), run, size, overlay)
    for check in _list_of(step.get("safety")):
        if isinstance(check, dict):
            ok = check.get("decision") == "acknowledged"
            overlay.captions.append(
                f'<span class="chip {"safety-ack" if ok else "safety-deny"}">safety check'
                f" {_e(check.get('code', ''))} {_e(check.get('decision', ''))}</span>"
            )
    what = "; ".join(describe_action(a) for a in actions) or (
        "answer" if step.get("messages") else "no action"
    )
    timings = _dict(step.get("timings"))
    duration = sum(_f(v) for k, v in timings.items() if k.endswith("_s"))
    head = (
        f'<div class="step-head"><span class="num">Step {_e(number)}</span>'
        f'<span class="what">{_text(what)}</span>'
        + (f'<span class="url">{_e(step["url"])}</span>' if step.get("url") else "")
        + (f'<span class="dur">{_secs(duration)}</span>' if duration else "")
        + "</div>"
    )
    details = [
        _block(
            "Reasoning",
            "".join(f"<p>{_text(t)}</p>" for t in _list_of(step.get("reasoning"))),
            "reasoning",
        ),
        _block(
            "Message", "".join(f"<p>{_text(t)}</p>" for t in _list_of(step.get("messages"))), "msg"
        ),
        _block("Actions", _action_rows(step, run), "actions"),
        _block("Safety", _safety_html(step)),
        _block(
            "Function calls",
            "".join(
                f'<p class="fn"><span class="mono">{_e(fc.get("name", "?"))}'
                f"({_text(fc.get('arguments', ''))})</span> → "
                + (
                    f'<span class="errtext">{_text(_err(fc["error"]))}</span>'
                    if fc.get("error")
                    else _text(_short(str(fc.get("output", "")), 300))
                )
                + "</p>"
                for fc in _list_of(step.get("function_calls"))
                if isinstance(fc, dict)
            ),
        ),
        _block(
            "Events",
            "".join(
                f'<p class="ev"><span class="mono">{_e(ev.get("kind", "?"))}</span> '
                f"{_text(ev.get('message', ''))}</p>"
                for ev in _list_of(step.get("events"))
                if isinstance(ev, dict)
            ),
        ),
    ]
    meta = [_phase_bar(timings, legend="top"), _e(_tokens(step.get("usage")))]
    if step.get("response_id"):
        meta.append(f'<span class="mono">{_e(step["response_id"])}</span>')
    details.append('<div class="stepmeta">' + "".join(m for m in meta if m) + "</div>")
    figure = _figure(
        images.data_url(step.get("observed")),
        size,
        overlay,
        f"The screen the model saw before step {number}",
    )
    return (
        f'<section class="step" id="step-{_e(number)}" data-step="{_e(number)}">{head}'
        f'<div class="step-body">{figure}<div class="details">{"".join(details)}</div></div>'
        "</section>"
    )


def _toc(steps: Sequence[Mapping[str, Any]]) -> str:
    items = []
    for position, step in enumerate(steps):
        number = step.get("step", position + 1)
        actions = [a for a in _list_of(step.get("actions")) if isinstance(a, dict)]
        what = (
            describe_action(actions[0])
            if actions
            else ("answer" if step.get("messages") else "no action")
        )
        if len(actions) > 1:
            what += f" +{len(actions) - 1}"
        flags = ""
        if step.get("safety"):
            flags = " flag"
        if any(a.get("error") for a in actions):
            flags = " flag bad"
        items.append(
            f'<li><a href="#step-{_e(number)}" class="{flags.strip()}">'
            f'<span class="n">{_e(number)}</span><span class="w">{_text(what)}</span></a></li>'
        )
    return '<nav class="toc" aria-label="Steps"><ol>' + "".join(items) + "</ol></nav>"


def _header(run: _Run) -> str:
    s = run.summary
    status = str(s.get("status") or "unknown")
    known = {"completed", "error", "safety_denied", "max_steps", "timeout", "cancelled", "running"}
    css = status if status in known else "unknown"
    parts = [
        '<header class="run">',
        '<div class="brandrow"><span>screenloop run report</span>'
        '<span class="hint"><kbd>j</kbd> <kbd>k</kbd> or <kbd>←</kbd> <kbd>→</kbd>'
        " move between steps · click a screenshot to enlarge it</span></div>",
        f'<div class="titlerow"><h1>{_text(s.get("task", "(no task recorded)"))}</h1>'
        f'<span class="status st-{css}" id="status">{_e(status.replace("_", " "))}</span></div>',
    ]
    if s.get("final_output"):
        parts.append(
            '<div class="answer" id="final-output"><span class="label">Final answer</span>'
            f"{_text(s['final_output'])}</div>"
        )
    if s.get("error"):
        parts.append(
            '<div class="answer err" id="run-error"><span class="label">Error</span>'
            f"{_text(_err(s['error']))}</div>"
        )
    if status == "running":
        parts.append(
            '<div class="answer err"><span class="label">Unfinished</span>'
            "The run had not finished when this report was built.</div>"
        )
    executor = _dict(s.get("executor"))
    display = _dict(s.get("display"))
    timings = _dict(s.get("timings"))
    meta = [
        ("Model", s.get("model")),
        ("Provider", s.get("provider")),
        ("Executor", executor.get("kind")),
        ("Start URL", executor.get("start_url")),
        ("Launch", " ; ".join(map(str, executor.get("launch") or [])) or None),
        ("Display", f"{display.get('width')}×{display.get('height')}" if display else None),
        ("Coordinates", s.get("coordinate_space")),
        ("History", s.get("history")),
        ("Safety", s.get("safety_mode")),
        ("Steps", s.get("steps", len(run.steps))),
        ("Tokens", _tokens(s.get("usage"))),
        (
            "Time",
            (
                f"{_secs(timings.get('total_s'))} (model {_secs(timings.get('model_s'))}, "
                f"runtime {_secs(timings.get('runtime_s'))})"
            )
            if timings
            else None,
        ),
        ("Started", s.get("started_at")),
    ]
    parts.append(
        '<dl class="meta">'
        + "".join(
            f'<div><dt>{_e(k)}</dt><dd title="{_e(v)}">{_e(v)}</dd></div>'
            for k, v in meta
            if v not in (None, "")
        )
        + "</dl>"
    )
    totals: dict[str, float] = {}
    for step in run.steps:
        for k, v in (step.get("timings") or {}).items():
            if isinstance(k, str) and k.endswith("_s"):
                totals[k] = totals.get(k, 0.0) + _f(v)
    bar = _phase_bar(totals, legend="all")
    if bar:
        parts.append(f'<div class="phases">{bar}</div>')
    parts.append("</header>")
    return "".join(parts)


def _display_size(run: _Run) -> Size:
    display = run.summary.get("display")
    if isinstance(display, dict):
        try:
            width, height = int(display["width"]), int(display["height"])
            if width > 0 and height > 0:
                return Size(width, height)
        except (KeyError, TypeError, ValueError):
            pass
    for rel in [run.summary.get("initial_screenshot")] + [s.get("observed") for s in run.steps]:
        if isinstance(rel, str) and (run.root / rel).is_file():
            from PIL import Image

            with Image.open(run.root / rel) as image:
                return Size(image.width, image.height)
    return Size(1280, 720)


def _render(run: _Run) -> str:
    size = _display_size(run)
    images = _Images(run.root)
    nonce = secrets.token_urlsafe(16)
    steps_html = "".join(
        _step_html(step, position, run, images, size) for position, step in enumerate(run.steps)
    )
    last: object = run.summary.get("initial_screenshot")
    for step in run.steps:
        last = step.get("screenshot") or last
    # the final screen gets its own card unless the last step (an answer) already shows it
    shown = run.steps[-1].get("observed") if run.steps else None
    final = (
        '<section class="step final" id="final"><h2>Final screen</h2>'
        + _figure(images.data_url(last), size, None, "The screen at the end of the run")
        + "</section>"
        if last and last != shown
        else ""
    )
    notes = "".join(f'<p class="notes">{_e(n)}</p>' for n in run.notes)
    defs = (
        '<svg width="0" height="0" style="position: absolute" aria-hidden="true"><defs>'
        + "".join(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="6" refY="5" markerWidth="5"'
            f' markerHeight="5" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"'
            f' fill="{color}"></path></marker>'
            for name, color in (("drag", "#ea580c"), ("scroll", "#7c3aed"))
        )
        + "</defs></svg>"
    )
    csp = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'"
    )
    title = _short(str(run.summary.get("task") or "run"), 80)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>screenloop · {_e(title)}</title>\n<style>{report_css()}</style>\n</head>\n<body>\n"
        f'{defs}{_header(run)}\n<div class="layout">{_toc(run.steps)}<main>{notes}'
        f"{steps_html}{final}</main></div>\n"
        f'<script nonce="{nonce}">{report_js()}</script>\n</body>\n</html>\n'
    )


def build_report(
    run_dir: str | os.PathLike[str], output: str | os.PathLike[str] | None = None
) -> Path:
    """Write ``report.html`` for a run directory and return its path.

    `output` defaults to ``<run_dir>/report.html``; the file is replaced
    atomically. Works on unfinished runs (status ``running``) and skips a torn
    last line of steps.jsonl. Raises `RunDirectoryError` when `run_dir` is not a
    readable schema-1 run directory.
    """
    root = Path(run_dir)
    run = _load(root)
    page = _render(run)
    target = Path(output) if output is not None else root / REPORT_FILENAME
    fd, tmp = tempfile.mkstemp(prefix=".report.", suffix=".html", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    logger.info("report written to %s (%d steps, %d bytes)", target, len(run.steps), len(page))
    return target
