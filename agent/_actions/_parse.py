"""The lenient action parser: whatever a model emits -> one canonical `Action`.

Accepts every variant listed in ``shared/spec/PROTOCOL.md``: the 14 actions of
the Lightcone reference, Lightcone's extras (``key``, ``triple_click``,
``right_click``, ``hscroll``, ``navigate``, ``terminate``/``answer``/``done``,
``drag`` as ``x, y, end_x, end_y``, ``type`` with ``x, y``, ``click`` without a
button, float coordinates, keys as ``"ctrl+l"`` strings or JSON-encoded list
items, ``scroll`` without ``x, y``, single-``key`` ``key_down``/``key_up``) and
OpenAI's held-modifier ``keys`` on click, double_click, drag, move and scroll.

Anything it does not understand raises `ActionParseError` naming the item id and
the field; no other exception escapes (a property test throws arbitrary JSON at
it). Coordinates stay in model space here, however large: geometry clamps them
later and reports it.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, cast

from agent._actions._model import (
    Action,
    Button,
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
    Terminate,
    TripleClick,
    Type,
    Wait,
)
from agent._errors import ActionParseError
from executors._errors import UnknownKeyError
from executors._keys import normalize_chord, split_chord

__all__ = ["parse_action", "parse_call_actions"]

logger = logging.getLogger(__name__)

MAX_SCROLL_PX = 100_000
"""Scroll deltas beyond this many pixels are refused as nonsense, not executed."""
MAX_WAIT_MS = 600_000
"""Waits longer than ten minutes are refused."""
DEFAULT_WAIT_MS = 1000

_BUTTONS: dict[str, Button] = {
    "left": "left",
    "primary": "left",
    "right": "right",
    "secondary": "right",
    "middle": "middle",
    "wheel": "middle",
    "center": "middle",
    "back": "back",
    "forward": "forward",
}

_TYPE_ALIASES: dict[str, str] = {
    "click": "click",
    "left_click": "click",
    "right_click": "right_click",
    "middle_click": "middle_click",
    "double_click": "double_click",
    "doubleclick": "double_click",
    "dblclick": "double_click",
    "triple_click": "triple_click",
    "tripleclick": "triple_click",
    "drag": "drag",
    "left_click_drag": "drag",
    "move": "move",
    "mouse_move": "move",
    "hover": "move",
    "scroll": "scroll",
    "hscroll": "hscroll",
    "type": "type",
    "type_text": "type",
    "point_and_type": "point_and_type",
    "keypress": "keypress",
    "key_press": "keypress",
    "key": "keypress",
    "hotkey": "keypress",
    "key_down": "key_down",
    "keydown": "key_down",
    "key_up": "key_up",
    "keyup": "key_up",
    "mouse_down": "mouse_down",
    "mousedown": "mouse_down",
    "mouse_up": "mouse_up",
    "mouseup": "mouse_up",
    "wait": "wait",
    "sleep": "wait",
    "screenshot": "screenshot",
    "take_screenshot": "screenshot",
    "navigate": "navigate",
    "goto": "navigate",
    "open_url": "navigate",
    "terminate": "terminate",
    "answer": "terminate",
    "done": "terminate",
    "finish": "terminate",
}

_SUCCESS = frozenset({"success", "succeeded", "successful", "completed", "complete", "done", "ok"})
_FAILURE = frozenset({"failure", "failed", "fail", "error", "infeasible", "aborted", "abort"})


class _Fields:
    """Typed, error-naming access to one raw action's fields."""

    def __init__(self, raw: Mapping[str, Any], item_id: str | None) -> None:
        self.raw = raw
        self.item_id = item_id

    def error(self, field: str, problem: str) -> ActionParseError:
        return ActionParseError(self.item_id, field, problem)

    def has(self, *names: str) -> bool:
        return any(self.raw.get(n) is not None for n in names)

    def first(self, *names: str) -> tuple[str, Any] | None:
        for name in names:
            value = self.raw.get(name)
            if value is not None:
                return name, value
        return None

    def number(self, field: str, value: Any) -> float:
        if isinstance(value, bool):
            raise self.error(field, f"expected a number, got a boolean {value!r}")
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise self.error(field, f"expected a number, got {value!r:.80}") from None
        if not isinstance(value, (int, float)):
            raise self.error(field, f"expected a number, got {type(value).__name__}")
        try:
            result = float(value)
        except OverflowError:
            raise self.error(field, "the number is too large") from None
        if not math.isfinite(result):
            raise self.error(field, f"expected a finite number, got {value!r}")
        return result

    def point(self, *, required: bool = True, prefix: str = "") -> tuple[float, float] | None:
        """(x, y) from ``x``/``y`` or a ``coordinate``-style pair; None when absent."""
        xs, ys = f"{prefix}x", f"{prefix}y"
        if self.has(xs) or self.has(ys):
            if not (self.has(xs) and self.has(ys)):
                missing = ys if self.has(xs) else xs
                raise self.error(missing, f"{xs} and {ys} must be given together")
            return self.number(xs, self.raw[xs]), self.number(ys, self.raw[ys])
        if not prefix:
            found = self.first("coordinate", "coordinates", "position", "point")
            if found is not None:
                return self.pair(found[0], found[1])
        if required:
            raise self.error(xs, "missing coordinates (x and y)")
        return None

    def pair(self, field: str, value: Any) -> tuple[float, float]:
        if isinstance(value, Mapping):
            if "x" not in value or "y" not in value:
                raise self.error(field, "a point needs x and y")
            return self.number(f"{field}.x", value["x"]), self.number(f"{field}.y", value["y"])
        if isinstance(value, (list, tuple)):
            if len(value) != 2:
                raise self.error(field, f"a point needs 2 numbers, got {len(value)}")
            return self.number(f"{field}[0]", value[0]), self.number(f"{field}[1]", value[1])
        raise self.error(field, f"expected a point, got {type(value).__name__}")

    def button(self, default: Button = "left") -> Button:
        value = self.raw.get("button")
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.error("button", f"expected a button name, got {type(value).__name__}")
        button = _BUTTONS.get(value.strip().lower())
        if button is None:
            raise self.error("button", f"unknown button {value!r:.40}")
        return button

    def keys(self, *, required: bool) -> tuple[str, ...]:
        """Canonical key names from ``keys`` (list or chord string) or ``key``."""
        found = self.first("keys", "key")
        if found is None:
            if required:
                raise self.error("keys", "missing keys")
            return ()
        field, value = found
        names: list[str] = []
        self._collect_keys(field, value, names, depth=0)
        if not names and required:
            raise self.error(field, "no keys given")
        try:
            return tuple(normalize_chord(names))
        except UnknownKeyError as exc:  # pragma: no cover - names are canonical already
            raise self.error(field, str(exc)) from exc

    def _collect_keys(self, field: str, value: Any, out: list[str], depth: int) -> None:
        if depth > 3:
            raise self.error(field, "keys are nested too deeply")
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("[") and stripped.endswith("]") and len(stripped) > 1:
                # a JSON-encoded list of keys inside a string
                try:
                    decoded = json.loads(stripped)
                except (ValueError, RecursionError):
                    decoded = None
                if isinstance(decoded, list):
                    self._collect_keys(field, decoded, out, depth + 1)
                    return
            try:
                out.extend(split_chord(value))
            except UnknownKeyError as exc:
                raise self.error(field, f"unknown key {value!r:.60}") from exc
            return
        if isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                self._collect_keys(f"{field}[{index}]", item, out, depth + 1)
            return
        raise self.error(field, f"expected a key name, got {type(value).__name__}")

    def text(self, *names: str, required: bool = True) -> str | None:
        found = self.first(*names)
        if found is None:
            if required:
                raise self.error(names[0], "missing text")
            return None
        field, value = found
        if not isinstance(value, str):
            raise self.error(field, f"expected a string, got {type(value).__name__}")
        return value

    def scroll_delta(self, names: tuple[str, ...]) -> int | None:
        found = self.first(*names)
        if found is None:
            return None
        field, value = found
        delta = self.number(field, value)
        if abs(delta) > MAX_SCROLL_PX:
            raise self.error(field, f"scroll delta {delta:g} px is beyond ±{MAX_SCROLL_PX}")
        return round(delta)


def _click(f: _Fields, button: Button | None = None) -> Action:
    x, y = cast("tuple[float, float]", f.point())
    return Click(x, y, button or f.button(), f.keys(required=False))


def _left_only(f: _Fields, kind: str) -> None:
    if f.has("button") and f.button() != "left":
        raise f.error("button", f"{kind} is left-button only")


def _double_click(f: _Fields) -> Action:
    _left_only(f, "double_click")
    x, y = cast("tuple[float, float]", f.point())
    return DoubleClick(x, y, f.keys(required=False))


def _triple_click(f: _Fields) -> Action:
    _left_only(f, "triple_click")
    x, y = cast("tuple[float, float]", f.point())
    return TripleClick(x, y, f.keys(required=False))


def _drag(f: _Fields) -> Action:
    keys = f.keys(required=False)
    path_value = f.raw.get("path")
    if path_value is not None:
        if not isinstance(path_value, (list, tuple)):
            raise f.error("path", f"expected a list of points, got {type(path_value).__name__}")
        path = tuple(f.pair(f"path[{i}]", p) for i, p in enumerate(path_value))
    elif f.has("end_x", "end_y"):
        start = f.point(required=False) or f.point(prefix="start_")
        end = f.point(prefix="end_")
        path = (cast("tuple[float, float]", start), cast("tuple[float, float]", end))
    else:
        raise f.error("path", "a drag needs a path or x, y, end_x, end_y")
    if len(path) < 2:
        raise f.error("path", f"a drag needs at least 2 points, got {len(path)}")
    return Drag(path, keys)


def _move(f: _Fields) -> Action:
    x, y = cast("tuple[float, float]", f.point())
    return Move(x, y, f.keys(required=False))


def _scroll(f: _Fields, horizontal: bool = False) -> Action:
    point = f.point(required=False)
    dx = f.scroll_delta(("scroll_x", "delta_x", "dx"))
    if horizontal:
        # hscroll is horizontal by name: its amount never scrolls vertically
        if dx is None:
            dx = f.scroll_delta(("amount", "delta", "scroll_amount", "pixels"))
        if dx is None:
            raise f.error("scroll_x", "hscroll needs scroll_x (pixels)")
        dy = None
    else:
        dy = f.scroll_delta(("scroll_y", "delta_y", "dy"))
    if dx is None and dy is None:
        raise f.error("scroll_x" if horizontal else "scroll_y", "missing scroll amount")
    x, y = point if point is not None else (None, None)
    return Scroll(x, y, dx or 0, dy or 0, f.keys(required=False))


def _type(f: _Fields) -> Action:
    text = cast("str", f.text("text", "content", "value"))
    point = f.point(required=False)
    if point is not None:
        return PointAndType(point[0], point[1], text)
    return Type(text)


def _point_and_type(f: _Fields) -> Action:
    text = cast("str", f.text("text", "content", "value"))
    x, y = cast("tuple[float, float]", f.point())
    return PointAndType(x, y, text)


def _keypress(f: _Fields) -> Action:
    return Keypress(f.keys(required=True))


def _key_down(f: _Fields) -> Action:
    return KeyDown(f.keys(required=True))


def _key_up(f: _Fields) -> Action:
    return KeyUp(f.keys(required=True))


def _mouse_down(f: _Fields) -> Action:
    x, y = cast("tuple[float, float]", f.point())
    return MouseDown(x, y, f.button())


def _mouse_up(f: _Fields) -> Action:
    x, y = cast("tuple[float, float]", f.point())
    return MouseUp(x, y, f.button())


def _wait(f: _Fields) -> Action:
    found = f.first("ms", "milliseconds", "duration_ms", "time_ms")
    scale = 1.0
    if found is None:
        found = f.first("seconds", "secs", "duration", "time")
        scale = 1000.0
    if found is None:
        return Wait(DEFAULT_WAIT_MS)
    field, value = found
    ms = f.number(field, value) * scale
    if ms < 0 or ms > MAX_WAIT_MS:
        raise f.error(field, f"a wait of {ms:g} ms is outside 0..{MAX_WAIT_MS}")
    return Wait(round(ms))


def _screenshot(f: _Fields) -> Action:
    return Screenshot()


def _navigate(f: _Fields) -> Action:
    url = cast("str", f.text("url", "href")).strip()
    if not url:
        raise f.error("url", "empty URL")
    return Navigate(url)


def _as_text(f: _Fields, field: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise f.error(field, f"cannot read a result from {type(value).__name__}") from exc


def _terminate(f: _Fields) -> Action:
    found = f.first("result", "text", "answer", "output", "message", "final_answer")
    result = _as_text(f, found[0], found[1]) if found is not None else None
    status = "success"
    raw_status = f.raw.get("status")
    if raw_status is not None:
        if isinstance(raw_status, bool):
            status = "success" if raw_status else "failure"
        elif not isinstance(raw_status, str):
            raise f.error("status", f"expected a string, got {type(raw_status).__name__}")
        elif raw_status.strip().lower() in _FAILURE:
            status = "failure"
        elif raw_status.strip().lower() not in _SUCCESS and result is None:
            result = raw_status  # the final text is in ``status`` (a Lightcone variant)
    return Terminate(result, status)


_PARSERS: dict[str, Callable[[_Fields], Action]] = {
    "click": _click,
    "right_click": lambda f: _click(f, "right"),
    "middle_click": lambda f: _click(f, "middle"),
    "double_click": _double_click,
    "triple_click": _triple_click,
    "drag": _drag,
    "move": _move,
    "scroll": _scroll,
    "hscroll": lambda f: _scroll(f, horizontal=True),
    "type": _type,
    "point_and_type": _point_and_type,
    "keypress": _keypress,
    "key_down": _key_down,
    "key_up": _key_up,
    "mouse_down": _mouse_down,
    "mouse_up": _mouse_up,
    "wait": _wait,
    "screenshot": _screenshot,
    "navigate": _navigate,
    "terminate": _terminate,
}


def _as_mapping(raw: object, item_id: str | None) -> Mapping[str, Any]:
    if hasattr(raw, "model_dump") and callable(raw.model_dump):
        raw = raw.model_dump(exclude_unset=True)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise ActionParseError(item_id, "action", f"not an action: {raw!r:.80}") from None
    if not isinstance(raw, Mapping):
        raise ActionParseError(item_id, "action", f"expected an object, got {type(raw).__name__}")
    return raw


def parse_action(raw: object, *, item_id: str | None = None) -> Action:
    """Parse one raw action (a dict from a computer_call) into a canonical `Action`.

    Raises `ActionParseError` (naming ``item_id`` and the field) for anything it
    cannot understand; no other exception escapes.
    """
    data = _as_mapping(raw, item_id)
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ActionParseError(item_id, "type", f"missing or non-string action type: {kind!r:.60}")
    folded = kind.strip().lower().replace("-", "_").replace(" ", "_")
    name = _TYPE_ALIASES.get(folded)
    if name is None:
        raise ActionParseError(item_id, "type", f"unknown action type {kind!r:.60}")
    action = _PARSERS[name](_Fields(data, item_id))
    if folded != action.type:
        logger.debug("action %r read as %s", kind, action.type)
    return action


def parse_call_actions(call: object) -> list[Action]:
    """The canonical actions of one computer_call: its GA ``actions`` list or its ``action``.

    Raises `ActionParseError` when the call has neither, or any action is not understood.
    """
    data: object = call
    if hasattr(call, "model_dump") and callable(call.model_dump):
        data = call.model_dump(exclude_unset=True)
    if not isinstance(data, Mapping):
        raise ActionParseError(
            None, "computer_call", f"expected an object, got {type(call).__name__}"
        )
    raw_id = data.get("id") or data.get("call_id")
    item_id = raw_id if isinstance(raw_id, str) else None
    actions = data.get("actions")
    if actions is not None:
        if not isinstance(actions, list):
            raise ActionParseError(
                item_id, "actions", f"expected a list, got {type(actions).__name__}"
            )
        if actions:
            parsed: list[Action] = []
            for index, raw in enumerate(actions):
                try:
                    parsed.append(parse_action(raw, item_id=item_id))
                except ActionParseError as exc:
                    field = f"actions[{index}].{exc.field}"
                    raise ActionParseError(item_id, field, exc.problem) from exc
            return parsed
    action = data.get("action")
    if action is None:
        raise ActionParseError(
            item_id, "action", "the computer_call has neither action nor actions"
        )
    return [parse_action(action, item_id=item_id)]
