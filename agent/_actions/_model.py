"""The canonical, strictly typed computer actions.

Whatever dialect a model speaks, `agent._actions._parse.parse_action` turns each
raw action into exactly one of these. Coordinates are in *model space* (pixels
of the declared display or normalized 0-999, floats allowed) until
`agent._coordinates` maps them to screen pixels; keys are canonical key names
(`executors.normalize_key`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

__all__ = [
    "Action",
    "Click",
    "DoubleClick",
    "Drag",
    "KeyDown",
    "KeyUp",
    "Keypress",
    "MouseDown",
    "MouseUp",
    "Move",
    "Navigate",
    "PointAndType",
    "Screenshot",
    "Scroll",
    "Terminate",
    "TripleClick",
    "Type",
    "Wait",
]

Button = Literal["left", "right", "middle", "back", "forward"]


@dataclass(frozen=True)
class Click:
    """Click a button at (x, y), optionally holding modifier keys."""

    type: ClassVar[str] = "click"
    x: float
    y: float
    button: Button = "left"
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class DoubleClick:
    """Double-click the left button at (x, y)."""

    type: ClassVar[str] = "double_click"
    x: float
    y: float
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class TripleClick:
    """Triple-click the left button at (x, y) (select a line/paragraph)."""

    type: ClassVar[str] = "triple_click"
    x: float
    y: float
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Drag:
    """Press at the first point, move through the rest, release at the last."""

    type: ClassVar[str] = "drag"
    path: tuple[tuple[float, float], ...]
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Move:
    """Move the pointer to (x, y)."""

    type: ClassVar[str] = "move"
    x: float
    y: float
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scroll:
    """Scroll by pixel deltas; at (x, y), or at the pointer when they are None."""

    type: ClassVar[str] = "scroll"
    x: float | None
    y: float | None
    scroll_x: int
    scroll_y: int
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Type:
    """Type text at the focused element."""

    type: ClassVar[str] = "type"
    text: str


@dataclass(frozen=True)
class PointAndType:
    """Click at (x, y), then type text."""

    type: ClassVar[str] = "point_and_type"
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Keypress:
    """Press a chord: all keys down in order, then up in reverse order."""

    type: ClassVar[str] = "keypress"
    keys: tuple[str, ...]


@dataclass(frozen=True)
class KeyDown:
    """Press and hold keys (in order) until a matching key_up."""

    type: ClassVar[str] = "key_down"
    keys: tuple[str, ...]


@dataclass(frozen=True)
class KeyUp:
    """Release held keys (in order)."""

    type: ClassVar[str] = "key_up"
    keys: tuple[str, ...]


@dataclass(frozen=True)
class MouseDown:
    """Press and hold a mouse button at (x, y)."""

    type: ClassVar[str] = "mouse_down"
    x: float
    y: float
    button: Button = "left"


@dataclass(frozen=True)
class MouseUp:
    """Release a mouse button at (x, y)."""

    type: ClassVar[str] = "mouse_up"
    x: float
    y: float
    button: Button = "left"


@dataclass(frozen=True)
class Wait:
    """Wait; the duration is the client's choice unless the model gave one."""

    type: ClassVar[str] = "wait"
    ms: int = 1000


@dataclass(frozen=True)
class Screenshot:
    """Only take a screenshot."""

    type: ClassVar[str] = "screenshot"


@dataclass(frozen=True)
class Navigate:
    """Load a URL in the current tab (browser only)."""

    type: ClassVar[str] = "navigate"
    url: str


@dataclass(frozen=True)
class Terminate:
    """The model declares the task over (Lightcone's terminate/answer/done)."""

    type: ClassVar[str] = "terminate"
    result: str | None = None
    status: str = "success"


Action = (
    Click
    | DoubleClick
    | TripleClick
    | Drag
    | Move
    | Scroll
    | Type
    | PointAndType
    | Keypress
    | KeyDown
    | KeyUp
    | MouseDown
    | MouseUp
    | Wait
    | Screenshot
    | Navigate
    | Terminate
)
