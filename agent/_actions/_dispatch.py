"""From a canonical action to a `Computer` call, through explicit tables.

`map_action` turns an action's model-space coordinates into screen pixels
(``executors._geometry.model_to_screen``, clamped and reported) and yields the
``screen`` dict recorded in steps.jsonl. `execute_action` performs it. Both
look the action up in a table keyed by our own canonical classes -- never
``getattr`` on anything the model sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
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
    Terminate,
    TripleClick,
    Type,
    Wait,
)
from agent._errors import ConfigurationError
from agent._secrets import resolve_secrets
from executors._computer import Computer, Point, Size
from executors._geometry import CoordinateSpace, model_to_screen

__all__ = [
    "MAX_WAIT_MS",
    "TYPE_CHUNK",
    "MappedAction",
    "execute_action",
    "map_action",
    "type_chunks",
]

MAX_WAIT_MS = 10_000  # a model asking to wait longer gets this, with a warning


@dataclass(frozen=True)
class MappedAction:
    """An action in screen pixels, ready to execute.

    `screen` is the recorded form; `pointer` is where the pointer is afterwards.
    """

    action: Action
    screen: dict[str, Any]
    clamped: bool
    pointer: Point
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Ctx:
    space: CoordinateSpace
    size: Size
    pointer: Point


def _pt(ctx: _Ctx, x: float, y: float) -> tuple[Point, bool]:
    mapped = model_to_screen(x, y, ctx.space, ctx.size)
    return mapped.point, mapped.clamped


def _map_point(a: Any, ctx: _Ctx, **extra: Any) -> MappedAction:
    p, clamped = _pt(ctx, a.x, a.y)
    return MappedAction(a, {"x": p.x, "y": p.y, **extra}, clamped, p)


def _map_click(a: Click, ctx: _Ctx) -> MappedAction:
    return _map_point(a, ctx, button=a.button, keys=list(a.keys))


def _map_multi_click(a: DoubleClick | TripleClick | Move, ctx: _Ctx) -> MappedAction:
    return _map_point(a, ctx, keys=list(a.keys))


def _map_mouse_button(a: MouseDown | MouseUp, ctx: _Ctx) -> MappedAction:
    return _map_point(a, ctx, button=a.button)


def _map_drag(a: Drag, ctx: _Ctx) -> MappedAction:
    points = [_pt(ctx, x, y) for x, y in a.path]
    path = [p for p, _ in points]
    screen = {"path": [[p.x, p.y] for p in path], "keys": list(a.keys)}
    return MappedAction(a, screen, any(c for _, c in points), path[-1] if path else ctx.pointer)


def _map_scroll(a: Scroll, ctx: _Ctx) -> MappedAction:
    if a.x is None or a.y is None:
        p, clamped = ctx.pointer, False
    else:
        p, clamped = _pt(ctx, a.x, a.y)
    screen = {"x": p.x, "y": p.y, "scroll_x": a.scroll_x, "scroll_y": a.scroll_y}
    return MappedAction(a, {**screen, "keys": list(a.keys)}, clamped, p)


def _map_type(a: Type, ctx: _Ctx) -> MappedAction:
    return MappedAction(a, {"text": a.text}, False, ctx.pointer)


def _map_point_and_type(a: PointAndType, ctx: _Ctx) -> MappedAction:
    return _map_point(a, ctx, text=a.text)


def _map_keys(a: Keypress | KeyDown | KeyUp, ctx: _Ctx) -> MappedAction:
    return MappedAction(a, {"keys": list(a.keys)}, False, ctx.pointer)


def _map_wait(a: Wait, ctx: _Ctx) -> MappedAction:
    ms = min(max(int(a.ms), 0), MAX_WAIT_MS)
    warn = (f"wait of {a.ms} ms capped at {MAX_WAIT_MS} ms",) if a.ms > MAX_WAIT_MS else ()
    return MappedAction(a, {"ms": ms}, False, ctx.pointer, warn)


def _map_navigate(a: Navigate, ctx: _Ctx) -> MappedAction:
    return MappedAction(a, {"url": a.url}, False, ctx.pointer)


def _map_nothing(a: Screenshot | Terminate, ctx: _Ctx) -> MappedAction:
    return MappedAction(a, {}, False, ctx.pointer)


_MAPPERS: dict[type, Callable[[Any, _Ctx], MappedAction]] = {
    Click: _map_click,
    DoubleClick: _map_multi_click,
    TripleClick: _map_multi_click,
    Move: _map_multi_click,
    Drag: _map_drag,
    Scroll: _map_scroll,
    Type: _map_type,
    PointAndType: _map_point_and_type,
    Keypress: _map_keys,
    KeyDown: _map_keys,
    KeyUp: _map_keys,
    MouseDown: _map_mouse_button,
    MouseUp: _map_mouse_button,
    Wait: _map_wait,
    Screenshot: _map_nothing,
    Navigate: _map_navigate,
    Terminate: _map_nothing,
}


def map_action(action: Action, space: CoordinateSpace, size: Size, pointer: Point) -> MappedAction:
    """Map `action` to screen pixels; `pointer` is the current pointer (scroll without x, y)."""
    mapper = _MAPPERS.get(type(action))
    if mapper is None:
        raise ConfigurationError(f"no mapping for action class {type(action).__name__!r}")
    return mapper(action, _Ctx(space, size, pointer))


Executor = Callable[[Computer, dict[str, Any], Mapping[str, str]], Awaitable[None]]


async def _click(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    await c.click(s["x"], s["y"], s["button"], s["keys"])


async def _double_click(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    await c.double_click(s["x"], s["y"], s["keys"])


async def _triple_click(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    await c.triple_click(s["x"], s["y"], s["keys"])


async def _drag(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    await c.drag([Point(x, y) for x, y in s["path"]], s["keys"])


async def _move(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    await c.move(s["x"], s["y"], s["keys"])


async def _scroll(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    await c.scroll(s["x"], s["y"], s["scroll_x"], s["scroll_y"], s["keys"])


TYPE_CHUNK = 48
"""Characters typed per executor call: a cancel (Ctrl-C, SIGTERM, --max-time) lands
between chunks, so it stops a long text within one chunk on either executor (a desktop
executor types in a thread that cannot be interrupted mid-call)."""


def type_chunks(text: str, size: int = TYPE_CHUNK) -> list[str]:
    """`text` in pieces of about `size` characters, never splitting a CR LF pair."""
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if text[end - 1] == "\r" and end < len(text) and text[end] == "\n":
            end += 1
        chunks.append(text[start:end])
        start = end
    return chunks


async def _type_text(c: Computer, text: str) -> None:
    for chunk in type_chunks(text):
        await c.type(chunk)


async def _type(c: Computer, s: dict[str, Any], secrets: Mapping[str, str]) -> None:
    await _type_text(c, resolve_secrets(s["text"], secrets))


async def _point_and_type(c: Computer, s: dict[str, Any], secrets: Mapping[str, str]) -> None:
    text = resolve_secrets(s["text"], secrets)  # before clicking: an unknown name acts on nothing
    await c.click(s["x"], s["y"])
    await _type_text(c, text)


async def _keypress(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    await c.keypress(s["keys"])


async def _key_down(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    for key in s["keys"]:
        await c.key_down(key)


async def _key_up(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    for key in s["keys"]:
        await c.key_up(key)


async def _mouse_down(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    await c.mouse_down(s["x"], s["y"], s["button"])


async def _mouse_up(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    await c.mouse_up(s["x"], s["y"], s["button"])


async def _wait(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    await c.wait(s["ms"])


async def _navigate(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    await c.navigate(s["url"])


async def _nothing(c: Computer, s: dict[str, Any], _: Mapping[str, str]) -> None:
    return None


_EXECUTORS: dict[type, Executor] = {
    Click: _click,
    DoubleClick: _double_click,
    TripleClick: _triple_click,
    Drag: _drag,
    Move: _move,
    Scroll: _scroll,
    Type: _type,
    PointAndType: _point_and_type,
    Keypress: _keypress,
    KeyDown: _key_down,
    KeyUp: _key_up,
    MouseDown: _mouse_down,
    MouseUp: _mouse_up,
    Wait: _wait,
    Navigate: _navigate,
    Screenshot: _nothing,
    Terminate: _nothing,
}


async def execute_action(
    computer: Computer, mapped: MappedAction, secrets: Mapping[str, str]
) -> None:
    """Perform a mapped action; secrets in typed text are resolved only here."""
    executor = _EXECUTORS.get(type(mapped.action))
    if executor is None:
        raise ConfigurationError(f"no executor for action class {type(mapped.action).__name__!r}")
    await executor(computer, mapped.screen, secrets)
