"""Lightcone's Computers API actions, both ways: canonical actions → action objects, and back.

The action objects are the SDK's `ComputerActionParam` (tzafon/types/
computer_action_param.py): ``{"type": ..., ...}`` with ``type`` one of click,
double_click, right_click, drag, type, keypress, scroll, wait, screenshot,
go_to_url, key_down, key_up, mouse_down, mouse_up (and more this runtime does
not use). `LightconeComputer` builds them here; `screenloop serve-computers`
reads them back with `perform` onto a local `Computer`, so both sides agree
by construction and the tests of one prove the other.

Keys travel under the names Lightcone's docs use (``Control``, ``Enter``,
``a``: Playwright's names); the reading side folds any spelling with
`normalize_key`. A button rides in the action's ``button`` field.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Mapping, Sequence
from typing import Any, cast

from executors._computer import Button, Computer, ImageFormat, Point, Screenshot
from executors._errors import ActionFailedError
from executors._keys import normalize_key, playwright_key

__all__ = [
    "BUTTONS",
    "SUPPORTED_TYPES",
    "click",
    "decode_image",
    "drag",
    "key",
    "keypress",
    "mouse",
    "navigate",
    "perform",
    "screenshot",
    "screenshot_result",
    "scroll",
    "type_text",
    "wait",
]

BUTTONS: tuple[Button, ...] = ("left", "right", "middle", "back", "forward")

SUPPORTED_TYPES = frozenset(
    {
        "click",
        "double_click",
        "right_click",
        "drag",
        "type",
        "keypress",
        "scroll",
        "wait",
        "screenshot",
        "go_to_url",
        "key_down",
        "key_up",
        "mouse_down",
        "mouse_up",
    }
)
"""The action types `perform` understands (what LightconeComputer sends)."""

Action = dict[str, Any]


def key(kind: str, canonical: str) -> Action:
    """``key_down`` or ``key_up`` of one canonical key."""
    return {"type": kind, "key": playwright_key(canonical)}


def keypress(keys: Sequence[str]) -> Action:
    """A chord: every key down in order, then up in reverse."""
    return {"type": "keypress", "keys": [playwright_key(k) for k in keys]}


def click(kind: str, x: int, y: int, button: Button = "left") -> Action:
    """``click``, ``double_click`` or ``right_click`` (a right ``click`` is sent as right_click)."""
    if kind == "click" and button == "right":
        return {"type": "right_click", "x": x, "y": y}
    action: Action = {"type": kind, "x": x, "y": y}
    if kind == "click" and button != "left":
        action["button"] = button
    return action


def mouse(kind: str, x: int, y: int, button: Button = "left") -> Action:
    """``mouse_down`` or ``mouse_up`` at a point."""
    return {"type": kind, "x": x, "y": y, "button": button}


def drag(path: Sequence[Point], button: Button = "left") -> Action:
    """A drag along `path` (the end points also as x1/y1/x2/y2, for servers without paths)."""
    first, last = path[0], path[-1]
    action: Action = {
        "type": "drag",
        "x1": first.x,
        "y1": first.y,
        "x2": last.x,
        "y2": last.y,
        "path": [{"x": p.x, "y": p.y} for p in path],
    }
    if button != "left":
        action["button"] = button
    return action


def scroll(x: int, y: int, dx: int, dy: int) -> Action:
    """Scroll by pixel deltas with the pointer at (x, y)."""
    return {"type": "scroll", "x": x, "y": y, "dx": dx, "dy": dy}


def type_text(text: str) -> Action:
    return {"type": "type", "text": text}


def wait(ms: int) -> Action:
    return {"type": "wait", "ms": ms}


def navigate(url: str) -> Action:
    return {"type": "go_to_url", "url": url}


def screenshot() -> Action:
    """A screenshot with its bytes inline and the page's context (its URL)."""
    return {"type": "screenshot", "base64": True, "include_context": True}


# -- results -----------------------------------------------------------------------------


def screenshot_result(result: Mapping[str, Any] | None) -> tuple[bytes | None, str | None]:
    """The bytes (when inline) and the hosted URL of a screenshot action's result."""
    if not result:
        return None, None
    url = result.get("screenshot_url")
    data: bytes | None = None
    for name in ("base64", "screenshot_base64", "image_base64"):
        value = result.get(name)
        if isinstance(value, str) and value:
            data = _b64(value)
            break
    if isinstance(url, str) and url.startswith("data:"):
        data = data or _b64(url.partition(",")[2])
        url = None
    return data, url if isinstance(url, str) and url else None


def _b64(text: str) -> bytes:
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ActionFailedError(f"the screenshot is not valid base64: {exc}") from None


def decode_image(data: bytes, size: tuple[int, int]) -> Screenshot:
    """A `Screenshot` of encoded image bytes, resized to `size` when the remote sent another."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        fmt = (image.format or "").lower()
        width, height = image.size
    except (UnidentifiedImageError, OSError) as exc:
        raise ActionFailedError(f"the screenshot is not an image: {exc}") from None
    if fmt not in ("png", "jpeg", "webp") or (width, height) != tuple(size):
        out = io.BytesIO()
        image.convert("RGB").resize(size).save(out, format="PNG")
        return Screenshot(out.getvalue(), "png", size[0], size[1])
    return Screenshot(data, cast(ImageFormat, fmt), width, height)


# -- the reading side (serve-computers) --------------------------------------------------


def _num(action: Mapping[str, Any], name: str) -> int:
    value = action.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{action.get('type')} needs a number {name!r}")
    return round(value)


def _button(action: Mapping[str, Any], default: Button = "left") -> Button:
    value = action.get("button", default)
    if value not in BUTTONS:
        raise ValueError(f"unknown button {value!r} (one of {', '.join(BUTTONS)})")
    return cast(Button, value)


def _keys(action: Mapping[str, Any]) -> list[str]:
    keys = action.get("keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise ValueError(f"{action.get('type')} needs a non-empty list of key names 'keys'")
    return [normalize_key(k) for k in keys]


def _path(action: Mapping[str, Any]) -> list[Point]:
    raw = action.get("path")
    if raw:
        if not isinstance(raw, list):
            raise ValueError("drag 'path' must be a list of points")
        return [Point(_num(p, "x"), _num(p, "y")) for p in raw]
    return [
        Point(_num(action, "x1"), _num(action, "y1")),
        Point(_num(action, "x2"), _num(action, "y2")),
    ]


async def perform(computer: Computer, action: Mapping[str, Any]) -> None:
    """Do one non-screenshot action object on a local `Computer`.

    Raises ValueError for an action this reader cannot do or a malformed one.
    """
    kind = action.get("type")
    if kind in ("click", "double_click", "right_click", "mouse_down", "mouse_up"):
        x, y = _num(action, "x"), _num(action, "y")
        if kind == "click":
            await computer.click(x, y, _button(action))
        elif kind == "right_click":
            await computer.click(x, y, "right")
        elif kind == "double_click":
            await computer.double_click(x, y)
        elif kind == "mouse_down":
            await computer.mouse_down(x, y, _button(action))
        else:
            await computer.mouse_up(x, y, _button(action))
    elif kind == "drag":
        path = _path(action)
        if len(path) < 2:
            raise ValueError("drag needs at least two points")
        await computer.drag(path, button=_button(action))
    elif kind == "scroll":
        dx = action.get("dx", action.get("scroll_x", 0))
        dy = action.get("dy", action.get("scroll_y", 0))
        await computer.scroll(
            _num(action, "x"), _num(action, "y"), _num({"v": dx}, "v"), _num({"v": dy}, "v")
        )
    elif kind == "type":
        text = action.get("text")
        if not isinstance(text, str):
            raise ValueError("type needs a string 'text'")
        await computer.type(text)
    elif kind == "keypress":
        await computer.keypress(_keys(action))
    elif kind in ("key_down", "key_up"):
        name = action.get("key")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{kind} needs a key name 'key'")
        if kind == "key_down":
            await computer.key_down(normalize_key(name))
        else:
            await computer.key_up(normalize_key(name))
    elif kind == "wait":
        await computer.wait(max(0, min(_num(action, "ms"), 60_000)))
    elif kind == "go_to_url":
        url = action.get("url")
        if not isinstance(url, str) or not url:
            raise ValueError("go_to_url needs a 'url'")
        await computer.navigate(url)
    else:
        raise ValueError(f"unsupported action type {kind!r}")
