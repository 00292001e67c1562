"""The lenient action parser: every dialect in PROTOCOL.md -> one canonical action."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import ActionParseError
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
from agent._actions._parse import MAX_SCROLL_PX, parse_action, parse_call_actions

# --- the 14 actions of the reference, as the SDK types them -----------------
REFERENCE = [
    ({"type": "click", "button": "left", "x": 10, "y": 20}, Click(10, 20, "left")),
    ({"type": "click", "button": "right", "x": 10, "y": 20}, Click(10, 20, "right")),
    ({"type": "click", "button": "wheel", "x": 10, "y": 20}, Click(10, 20, "middle")),
    ({"type": "click", "button": "back", "x": 1, "y": 2}, Click(1, 2, "back")),
    ({"type": "click", "button": "forward", "x": 1, "y": 2}, Click(1, 2, "forward")),
    ({"type": "double_click", "x": 5, "y": 6}, DoubleClick(5, 6)),
    (
        {"type": "drag", "path": [{"x": 1, "y": 2}, {"x": 3, "y": 4}, {"x": 5, "y": 6}]},
        Drag(((1, 2), (3, 4), (5, 6))),
    ),
    ({"type": "keypress", "keys": ["CTRL", "L"]}, Keypress(("ctrl", "l"))),
    ({"type": "move", "x": 7, "y": 8}, Move(7, 8)),
    ({"type": "screenshot"}, Screenshot()),
    (
        {"type": "scroll", "x": 100, "y": 200, "scroll_x": 0, "scroll_y": 300},
        Scroll(100, 200, 0, 300),
    ),
    ({"type": "type", "text": "hello <world> é"}, Type("hello <world> é")),
    ({"type": "wait"}, Wait()),
    ({"type": "point_and_type", "x": 3, "y": 4, "text": "abc"}, PointAndType(3, 4, "abc")),
    ({"type": "mouse_down", "x": 3, "y": 4}, MouseDown(3, 4)),
    ({"type": "mouse_up", "x": 3, "y": 4}, MouseUp(3, 4)),
    ({"type": "key_down", "keys": ["SHIFT"]}, KeyDown(("shift",))),
    ({"type": "key_up", "keys": ["SHIFT"]}, KeyUp(("shift",))),
]

# --- what Lightcone's models emit beyond the schema -------------------------
LIGHTCONE = [
    ({"type": "key", "keys": "ctrl+l"}, Keypress(("ctrl", "l"))),
    ({"type": "key", "key": "Return"}, Keypress(("enter",))),
    ({"type": "triple_click", "x": 1, "y": 2}, TripleClick(1, 2)),
    ({"type": "right_click", "x": 1, "y": 2}, Click(1, 2, "right")),
    ({"type": "hscroll", "x": 1, "y": 2, "scroll_x": -120}, Scroll(1, 2, -120, 0)),
    ({"type": "hscroll", "amount": 40}, Scroll(None, None, 40, 0)),
    (
        {"type": "navigate", "url": "https://example.com/a?b=c"},
        Navigate("https://example.com/a?b=c"),
    ),
    ({"type": "terminate", "result": "42"}, Terminate("42")),
    ({"type": "terminate", "status": "success"}, Terminate(None, "success")),
    ({"type": "terminate", "status": "failure", "text": "no"}, Terminate("no", "failure")),
    ({"type": "terminate", "status": "The price is $5"}, Terminate("The price is $5")),
    ({"type": "answer", "text": "Paris"}, Terminate("Paris")),
    ({"type": "done"}, Terminate()),
    ({"type": "done", "result": {"total": 3}}, Terminate('{"total": 3}')),
    ({"type": "drag", "x": 1, "y": 2, "end_x": 30, "end_y": 40}, Drag(((1, 2), (30, 40)))),
    (
        {"type": "drag", "start_x": 1, "start_y": 2, "end_x": 3, "end_y": 4},
        Drag(((1, 2), (3, 4))),
    ),
    ({"type": "type", "text": "hi", "x": 3, "y": 4}, PointAndType(3, 4, "hi")),
    ({"type": "click", "x": 1, "y": 2}, Click(1, 2, "left")),
    ({"type": "click", "x": 10.5, "y": 20.25}, Click(10.5, 20.25)),
    ({"type": "click", "x": "10", "y": " 20.5 "}, Click(10, 20.5)),
    ({"type": "keypress", "keys": "CTRL+SHIFT+K"}, Keypress(("ctrl", "shift", "k"))),
    ({"type": "keypress", "keys": ["ctrl+l"]}, Keypress(("ctrl", "l"))),
    ({"type": "keypress", "keys": ['["ctrl", "a"]']}, Keypress(("ctrl", "a"))),
    ({"type": "keypress", "keys": '["Control", "Enter"]'}, Keypress(("ctrl", "enter"))),
    ({"type": "keypress", "keys": ["+"]}, Keypress(("+",))),
    ({"type": "keypress", "keys": ["ctrl", "+"]}, Keypress(("ctrl", "+"))),
    ({"type": "keypress", "keys": ["/"]}, Keypress(("/",))),
    ({"type": "keypress", "keys": ["A"]}, Keypress(("A",))),
    ({"type": "keypress", "keys": ["["]}, Keypress(("[",))),
    ({"type": "scroll", "scroll_y": -200}, Scroll(None, None, 0, -200)),
    ({"type": "scroll", "scroll_x": 10.6, "scroll_y": 0}, Scroll(None, None, 11, 0)),
    ({"type": "key_down", "key": "Control"}, KeyDown(("ctrl",))),
    ({"type": "key_up", "key": "ctrl"}, KeyUp(("ctrl",))),
    ({"type": "wait", "ms": 250}, Wait(250)),
    ({"type": "wait", "seconds": 1.5}, Wait(1500)),
    ({"type": "wait", "duration": 2}, Wait(2000)),
    ({"type": "mouse_down", "x": 3, "y": 4, "button": "right"}, MouseDown(3, 4, "right")),
    ({"type": "mouse_up", "x": 3, "y": 4, "button": "middle"}, MouseUp(3, 4, "middle")),
    # spelling variants of the type and coordinate pairs
    ({"type": "DoubleClick", "x": 1, "y": 2}, DoubleClick(1, 2)),
    ({"type": "left_click", "coordinate": [5, 6]}, Click(5, 6)),
    ({"type": "double-click", "position": {"x": 1, "y": 2}}, DoubleClick(1, 2)),
    ({"type": "Click", "x": 1, "y": 2, "button": "RIGHT"}, Click(1, 2, "right")),
]

# --- OpenAI's held-modifier keys --------------------------------------------
OPENAI = [
    (
        {"type": "click", "button": "left", "x": 1, "y": 2, "keys": ["CTRL"]},
        Click(1, 2, "left", ("ctrl",)),
    ),
    (
        {"type": "double_click", "x": 1, "y": 2, "keys": ["SHIFT", "ALT"]},
        DoubleClick(1, 2, ("shift", "alt")),
    ),
    (
        {"type": "drag", "path": [{"x": 1, "y": 2}, {"x": 3, "y": 4}], "keys": ["SHIFT"]},
        Drag(((1, 2), (3, 4)), ("shift",)),
    ),
    ({"type": "move", "x": 1, "y": 2, "keys": ["META"]}, Move(1, 2, ("meta",))),
    (
        {"type": "scroll", "x": 1, "y": 2, "scroll_x": 0, "scroll_y": 100, "keys": ["CTRL"]},
        Scroll(1, 2, 0, 100, ("ctrl",)),
    ),
    ({"type": "click", "x": 1, "y": 2, "keys": []}, Click(1, 2)),
    ({"type": "keypress", "keys": ["CMD", "ARROWLEFT"]}, Keypress(("meta", "left"))),
    ({"type": "keypress", "keys": ["ESC"]}, Keypress(("escape",))),
    ({"type": "keypress", "keys": ["SPACE"]}, Keypress(("space",))),
    ({"type": "keypress", "keys": ["PAGEDOWN"]}, Keypress(("pagedown",))),
]


@pytest.mark.parametrize(("raw", "expected"), REFERENCE + LIGHTCONE + OPENAI)
def test_parse_action(raw: dict[str, Any], expected: Action) -> None:
    action = parse_action(raw, item_id="cu_1")
    assert action == expected
    assert type(action) is type(expected)


BAD = [
    ([], "action"),
    ("click", "action"),
    (None, "action"),
    ({}, "type"),
    ({"type": 3}, "type"),
    ({"type": "zoom", "x": 1}, "type"),
    ({"type": "__exit__"}, "type"),
    ({"type": "click"}, "x"),
    ({"type": "click", "x": 1}, "y"),
    ({"type": "click", "y": 1}, "x"),
    ({"type": "click", "x": True, "y": 1}, "x"),
    ({"type": "click", "x": 1, "y": math.nan}, "y"),
    ({"type": "click", "x": math.inf, "y": 1}, "x"),
    ({"type": "click", "x": "1e999", "y": 1}, "x"),
    ({"type": "click", "x": 10**400, "y": 1}, "x"),
    ({"type": "click", "x": [1], "y": 1}, "x"),
    ({"type": "click", "x": "left", "y": 1}, "x"),
    ({"type": "click", "x": 1, "y": 2, "button": "thumb"}, "button"),
    ({"type": "click", "x": 1, "y": 2, "button": 1}, "button"),
    ({"type": "click", "x": 1, "y": 2, "keys": ["hyperdrive"]}, "keys[0]"),
    ({"type": "click", "x": 1, "y": 2, "keys": [None]}, "keys[0]"),
    ({"type": "click", "coordinate": [1, 2, 3]}, "coordinate"),
    ({"type": "click", "coordinate": "1,2"}, "coordinate"),
    ({"type": "double_click", "x": 1, "y": 2, "button": "right"}, "button"),
    ({"type": "drag", "path": [{"x": 1, "y": 2}]}, "path"),
    ({"type": "drag", "path": "1,2 3,4"}, "path"),
    ({"type": "drag", "path": [{"x": 1}, {"x": 2, "y": 3}]}, "path[0]"),
    ({"type": "drag", "x": 1, "y": 2}, "path"),
    ({"type": "drag", "end_x": 1, "end_y": 2}, "start_x"),
    ({"type": "scroll", "x": 1, "y": 2}, "scroll_y"),
    ({"type": "scroll", "scroll_y": "down"}, "scroll_y"),
    ({"type": "scroll", "scroll_y": MAX_SCROLL_PX + 1}, "scroll_y"),
    ({"type": "hscroll", "scroll_y": 100}, "scroll_x"),
    ({"type": "type"}, "text"),
    ({"type": "type", "text": 5}, "text"),
    ({"type": "type", "text": "a", "x": 1}, "y"),
    ({"type": "point_and_type", "text": "a"}, "x"),
    ({"type": "keypress"}, "keys"),
    ({"type": "keypress", "keys": []}, "keys"),
    ({"type": "keypress", "keys": "ctrl+nope"}, "keys"),
    ({"type": "keypress", "keys": {"ctrl": True}}, "keys"),
    ({"type": "keypress", "keys": [["ctrl"], 5]}, "keys[1]"),
    ({"type": "key_down"}, "keys"),
    ({"type": "mouse_down"}, "x"),
    ({"type": "wait", "ms": -5}, "ms"),
    ({"type": "wait", "seconds": 10**6}, "seconds"),
    ({"type": "wait", "ms": "soon"}, "ms"),
    ({"type": "navigate"}, "url"),
    ({"type": "navigate", "url": "  "}, "url"),
    ({"type": "navigate", "url": ["x"]}, "url"),
    ({"type": "terminate", "status": 3}, "status"),
]


@pytest.mark.parametrize(("raw", "field"), BAD)
def test_rejects_with_item_id_and_field(raw: object, field: str) -> None:
    with pytest.raises(ActionParseError) as info:
        parse_action(raw, item_id="cu_9")
    assert info.value.item_id == "cu_9"
    assert info.value.field == field
    assert "cu_9" in str(info.value)
    assert field in str(info.value)


def test_json_string_action_is_accepted() -> None:
    assert parse_action('{"type": "click", "x": 1, "y": 2}') == Click(1, 2)


def test_huge_coordinates_are_kept_for_geometry_to_clamp() -> None:
    assert parse_action({"type": "move", "x": 1e12, "y": -5}) == Move(1e12, -5)


CALLS = [
    (
        {"type": "computer_call", "id": "cu_1", "call_id": "c1", "action": {"type": "screenshot"}},
        [Screenshot()],
    ),
    (
        {
            "type": "computer_call",
            "id": "cu_2",
            "call_id": "c2",
            "actions": [
                {"type": "click", "x": 1, "y": 2},
                {"type": "type", "text": "x"},
                {"type": "keypress", "keys": ["ENTER"]},
            ],
        },
        [Click(1, 2), Type("x"), Keypress(("enter",))],
    ),
    (
        {"id": "cu_3", "actions": [], "action": {"type": "wait"}},
        [Wait()],
    ),
]


@pytest.mark.parametrize(("call", "expected"), CALLS)
def test_parse_call_actions(call: dict[str, Any], expected: list[Action]) -> None:
    assert parse_call_actions(call) == expected


@pytest.mark.parametrize(
    ("call", "field"),
    [
        ({"type": "computer_call", "id": "cu_4", "call_id": "c4"}, "action"),
        ({"id": "cu_4", "actions": []}, "action"),
        ({"id": "cu_4", "actions": {"type": "click"}}, "actions"),
        ({"id": "cu_4", "actions": [{"type": "screenshot"}, {"type": "fly"}]}, "actions[1].type"),
        ("computer_call", "computer_call"),
    ],
)
def test_parse_call_actions_rejects(call: object, field: str) -> None:
    with pytest.raises(ActionParseError) as info:
        parse_call_actions(call)
    assert info.value.field == field


# --- property tests: arbitrary JSON in, an Action or ActionParseError out ---

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([10**400, -(10**400), 2**63, 1e308])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["ctrl+l", '["a", "b"]', "1e999", "nan", "+", "-", "", " ", "[[[["])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

ACTION_TYPES = sorted(
    {str(raw["type"]) for raw, _ in REFERENCE + LIGHTCONE + OPENAI}
    | {"hscroll", "keypress", "key_down", "wait", "terminate", "answer", "done", "drag"}
)
coordinates = st.integers(-100, 5000) | st.floats(-1e4, 1e4)
key_names = st.sampled_from(["CTRL", "shift", "a", "A", "ctrl+l", "Enter", "+", "/", "nope", "é"])
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "x": coordinates,
    "y": coordinates,
    "button": st.sampled_from(["left", "right", "wheel", "middle", "back", "forward", "thumb"]),
    "keys": st.lists(key_names, max_size=4) | key_names,
    "key": key_names,
    "path": st.lists(st.fixed_dictionaries({"x": coordinates, "y": coordinates}), max_size=4),
    "text": st.text(max_size=8),
    "url": st.text(max_size=8),
    "scroll_x": st.integers(-2000, 2000),
    "scroll_y": st.integers(-2000, 2000),
    "end_x": coordinates,
    "end_y": coordinates,
    "start_x": coordinates,
    "start_y": coordinates,
    "coordinate": st.tuples(coordinates, coordinates).map(list),
    "ms": st.integers(-10, 5000),
    "seconds": st.floats(0, 10),
    "duration": st.integers(0, 10),
    "result": st.text(max_size=8),
    "status": st.sampled_from(["success", "failure", "whatever"]),
    "amount": st.integers(-500, 500),
}


_XY = ("x", "y")
REQUIRED: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ["click", "left_click", "right_click", "double_click", "doubleclick", "triple_click"], _XY
    ),
    **dict.fromkeys(["move", "mouse_down", "mouse_up"], _XY),
    "drag": ("path",),
    "scroll": ("scroll_y",),
    "hscroll": ("scroll_x",),
    "type": ("text",),
    "point_and_type": ("x", "y", "text"),
    **dict.fromkeys(["keypress", "key", "key_down", "key_up"], ("keys",)),
    "navigate": ("url",),
}


@st.composite
def valid_looking(draw: st.DrawFn) -> dict[str, Any]:
    """An action dict with a known type and mostly well-typed fields, sometimes junk."""
    raw: dict[str, Any] = {"type": draw(st.sampled_from(ACTION_TYPES))}
    required = REQUIRED.get(raw["type"].lower().replace("-", "_"), ())
    names = [n for n in required if draw(st.integers(0, 9)) > 0]
    names += draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=3, unique=True))
    for name in names:
        junk = draw(st.integers(0, 9)) == 0
        raw[name] = draw(json_values if junk else FIELDS[name])
    return raw


def _check(raw: object) -> None:
    try:
        action = parse_action(raw, item_id="cu_p")
    except ActionParseError as exc:
        assert exc.item_id == "cu_p"
        assert isinstance(exc.field, str) and exc.field
        return
    assert isinstance(action, Action.__args__)  # type: ignore[attr-defined]
    for name in ("x", "y"):
        value = getattr(action, name, None)
        assert value is None or (isinstance(value, float) and math.isfinite(value))


_SETTINGS = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(json_values)
def test_property_arbitrary_json(raw: object) -> None:
    _check(raw)


@_SETTINGS
@given(valid_looking())
def test_property_valid_looking_actions(raw: dict[str, Any]) -> None:
    _check(raw)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "call_id", "action", "actions"]), json_values))
def test_property_calls(call: dict[str, Any]) -> None:
    try:
        actions = parse_call_actions(call)
    except ActionParseError:
        return
    assert actions and all(isinstance(a, Action.__args__) for a in actions)  # type: ignore[attr-defined]
