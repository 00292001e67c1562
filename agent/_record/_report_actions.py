"""Actions in the report: the overlay drawn on the screenshot (words: agent/_actions/_recorded.py).

Markers are placed in percentages of the display size from run.json (screen
pixels, the space of each action's ``screen`` field), so they stay on target at
any zoom; drag paths and scroll arrows are SVG in a ``viewBox`` of the display
size. Every string is HTML-escaped; secrets, already ``{{secret:NAME}}``
placeholders in the record, are shown as a masked chip naming the secret.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent._actions._recorded import (
    describe_action,
    drag_path,
    num,
    screen_of,
    scroll_words,
    to_float,
)
from agent._record._report_run import ReportRun
from agent._secrets import SECRET_PATTERN
from executors._computer import Size
from executors._geometry import GeometryError, model_to_screen

__all__ = ["Overlay", "draw_action", "esc", "figure_html", "meta_html", "text_html"]

_POINT_KINDS = {"click", "double_click", "triple_click", "move", "mouse_down", "mouse_up",
                "point_and_type", "right_click"}  # fmt: skip


# ---- HTML pieces ------------------------------------------------------------------------------


def esc(value: object) -> str:
    """`value` as HTML-escaped text."""
    return html.escape(str(value), quote=True)


def meta_html(meta: Iterable[tuple[str, object]]) -> str:
    """The header's ``<dl class="meta">`` of (label, value) pairs; empty values left out."""
    return (
        '<dl class="meta">'
        + "".join(
            f'<div><dt>{esc(k)}</dt><dd title="{esc(v)}">{esc(v)}</dd></div>'
            for k, v in meta
            if v not in (None, "")
        )
        + "</dl>"
    )


def text_html(value: object) -> str:
    """Escape model text, then show each secret placeholder as a masked chip."""
    return SECRET_PATTERN.sub(
        lambda m: f'<span class="secret" title="secret {m.group(1)}">•••• {m.group(1)}</span>',
        esc(value),
    )


def _pct(value: float, total: int) -> str:
    return f"{value * 100 / total:.4f}%"


@dataclass
class Overlay:
    """What a step's actions add to its screenshot: markers, SVG shapes, captions."""

    markers: list[str] = field(default_factory=list)
    svg: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)


def _marker(
    kind: str, x: float, y: float, size: Size, tag: str, *, index: int, extra: str = ""
) -> str:
    flip = " flip" if x > size.width * 0.72 else ""
    return (
        f'<div class="marker {kind}{extra}{flip}" data-action="{index}" data-x="{num(x)}"'
        f' data-y="{num(y)}" style="left: {_pct(x, size.width)}; top: {_pct(y, size.height)}">'
        '<span class="ring"></span><span class="dot"></span>'
        f'<span class="tag">{esc(tag)}</span></div>'
    )


def _keys_html(keys: object) -> str:
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list) or not keys:
        return ""
    return "+".join(f"<kbd>{esc(k)}</kbd>" for k in keys)


def draw_action(
    action: Mapping[str, Any], index: int, count: int, run: ReportRun, size: Size, overlay: Overlay
) -> None:
    """Add one action's markers, paths and captions to `overlay`."""
    kind = str(action.get("type") or "")
    s = screen_of(action)
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
        path = drag_path(s)
        if path:
            points = " ".join(f"{num(px)},{num(py)}" for px, py in path)
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
        dx, dy = to_float(s.get("scroll_x")), to_float(s.get("scroll_y"))
        words = scroll_words(dx, dy)
        if has_xy:
            x, y = float(s["x"]), float(s["y"])
            length = max(size.width, size.height) * 0.08
            norm = (dx * dx + dy * dy) ** 0.5 or 1.0
            x2, y2 = x + dx / norm * length, y + dy / norm * length
            overlay.svg.append(
                f'<line class="scroll" data-action="{index}" x1="{num(x)}" y1="{num(y)}"'
                f' x2="{x2:.1f}" y2="{y2:.1f}" marker-end="url(#arrow-scroll)"></line>'
            )
            overlay.markers.append(
                _marker(
                    "scroll", x, y, size, f"{prefix}scroll {words}", index=index, extra=unmapped
                )
            )
        else:
            overlay.captions.append(
                f'<span class="chip">{esc(prefix)}scroll {esc(words)} at the pointer</span>'
            )
    if kind in ("type", "point_and_type"):
        overlay.captions.append(
            f'<span class="chip" data-action="{index}">{esc(prefix)}type'
            f" <q>{text_html(s.get('text', ''))}</q></span>"
        )
    elif kind in ("keypress", "key_down", "key_up"):
        words = {"keypress": "keys", "key_down": "hold", "key_up": "release"}[kind]
        overlay.captions.append(
            f'<span class="chip" data-action="{index}">{esc(prefix)}{words}'
            f" {_keys_html(s.get('keys'))}</span>"
        )
    elif kind == "navigate":
        overlay.captions.append(
            f'<span class="chip" data-action="{index}">{esc(prefix)}navigate'
            f" <q>{esc(s.get('url', ''))}</q></span>"
        )
    elif kind not in _POINT_KINDS and kind not in ("drag", "scroll"):
        overlay.captions.append(
            f'<span class="chip" data-action="{index}">{esc(prefix)}{esc(describe_action(action))}'
            "</span>"
        )


def _map_raw(action: Mapping[str, Any], run: ReportRun, size: Size) -> dict[str, Any]:
    raw = action.get("raw")
    if not isinstance(raw, dict):
        return {}
    space = run.summary.get("coordinate_space", "pixels")
    if space == "normalized" and "coordinate_mapping" not in run.summary:
        space = "normalized-999"  # recorded before issue 17, when that was the only mapping
    out = dict(raw)
    try:
        if "x" in raw and "y" in raw:
            p = model_to_screen(raw["x"], raw["y"], space, size).point
            out["x"], out["y"] = p.x, p.y
        path = drag_path(raw)
        if path:
            out["path"] = [list(model_to_screen(x, y, space, size).point) for x, y in path]
    except (GeometryError, TypeError):
        return {}
    return out


def figure_html(image: str | None, size: Size, overlay: Overlay | None, alt: str) -> str:
    """A screenshot with its overlay (if any) as a ``<figure>``."""
    body = (
        f'<img src="{image}" alt="{esc(alt)}" width="{size.width}" height="{size.height}">'
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
