"""Recorded actions: in words, and back to canonical actions.

steps.jsonl records each action's ``screen`` form (screen pixels, after
mapping). Everything that reads that form back lives here, beside the action
models, so that a new action type is taught to the whole house in this one
folder: `describe_action` (the report, the live view and replay's messages
say it in a few words), `describe_screen_action` (the same with secret
placeholders masked) and `action_from_screen` (replay re-executes it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

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
from agent._errors import RunDirectoryError
from agent._secrets import SECRET_PATTERN

__all__ = [
    "action_from_screen",
    "describe_action",
    "describe_screen_action",
    "drag_path",
    "mask_placeholders",
    "num",
    "pt",
    "screen_of",
    "scroll_words",
    "short",
    "to_float",
]


def num(value: object) -> str:
    """A coordinate or amount without a needless ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def pt(x: object, y: object) -> str:
    """An ``(x, y)`` point in words."""
    return f"({num(x)}, {num(y)})"


def short(text: str, limit: int = 48) -> str:
    """`text` cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scroll_words(dx: float, dy: float) -> str:
    """``down 480 px``, ``left 20 px``: a scroll amount in words."""
    parts = []
    if dy:
        parts.append(f"{'down' if dy > 0 else 'up'} {num(abs(dy))} px")
    if dx:
        parts.append(f"{'right' if dx > 0 else 'left'} {num(abs(dx))} px")
    return " ".join(parts) or "0 px"


def screen_of(action: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded action's ``screen`` dict (empty when absent)."""
    screen = action.get("screen")
    return screen if isinstance(screen, dict) else {}


def describe_action(action: Mapping[str, Any]) -> str:
    """An action record of steps.jsonl in a few words, in screen pixels.

    ``click (412, 230) left``, ``type 'hello'``, ``keypress ctrl+a``,
    ``drag (10, 10) → (90, 40)``, ``scroll down 480 px at (640, 450)``.
    """
    kind = str(action.get("type") or (action.get("raw") or {}).get("type") or "action")
    s = screen_of(action) or dict(action.get("raw") or {})
    has_xy = "x" in s and "y" in s
    at = f" {pt(s['x'], s['y'])}" if has_xy else ""
    if kind == "click":
        return f"click{at} {s.get('button', 'left')}"
    if kind in ("double_click", "triple_click", "move", "right_click"):
        return kind.replace("_", "-") + at
    if kind in ("mouse_down", "mouse_up"):
        return f"{kind.replace('_', ' ')}{at} {s.get('button', 'left')}".rstrip()
    if kind == "drag":
        path = drag_path(s)
        if len(path) >= 2:
            return f"drag {pt(*path[0])} → {pt(*path[-1])}"
        return "drag"
    if kind == "scroll":
        words = scroll_words(to_float(s.get("scroll_x")), to_float(s.get("scroll_y")))
        return f"scroll {words}" + (f" at{at}" if has_xy else "")
    if kind in ("type", "point_and_type"):
        return f"type {short(str(s.get('text', '')))!r}" + (f" at{at}" if has_xy else "")
    if kind in ("keypress", "key_down", "key_up"):
        keys = s.get("keys") or []
        joined = "+".join(str(k) for k in keys) if isinstance(keys, list) else str(keys)
        return f"{kind.replace('_', ' ')} {joined}".rstrip()
    if kind == "navigate":
        return f"navigate {short(str(s.get('url', '')), 60)}"
    return kind.replace("_", " ")


def to_float(value: object) -> float:
    """`value` as a float; 0.0 when it is not a number."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def drag_path(s: Mapping[str, Any]) -> list[tuple[float, float]]:
    """The points of a recorded drag's ``path`` (objects or pairs)."""
    path = s.get("path")
    points: list[tuple[float, float]] = []
    if isinstance(path, list):
        for p in path:
            if isinstance(p, dict):
                points.append((to_float(p.get("x")), to_float(p.get("y"))))
            elif isinstance(p, (list, tuple)) and len(p) >= 2:
                points.append((to_float(p[0]), to_float(p[1])))
    return points


def mask_placeholders(text: str) -> str:
    """Show each ``{{secret:NAME}}`` placeholder as ``••••NAME``."""
    return SECRET_PATTERN.sub(lambda m: f"••••{m.group(1)}", text)


def describe_screen_action(kind: str, screen: Mapping[str, Any]) -> str:
    """An action in words, in screen pixels, secrets masked: ``type '••••PW'``."""
    return mask_placeholders(describe_action({"type": kind, "screen": dict(screen)}))


# -- back to actions (replay) ------------------------------------------------------------


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
