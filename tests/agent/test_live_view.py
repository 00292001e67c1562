"""The live terminal view, rendered to a string: what a person sees while a run goes."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from agent import ActionExecuted, ResponseReceived, SafetyDecision, StepStarted, WarningEvent
from agent._actions._recorded import describe_screen_action, mask_placeholders
from agent._cli._live import LiveView


def _render(view: LiveView) -> str:
    buf = io.StringIO()
    Console(file=buf, width=120, color_system=None).print(view.render())
    return buf.getvalue()


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_view_shows_step_action_in_words_time_tokens_and_notes(tmp_path: Path) -> None:
    clock = _Clock()
    view = LiveView(
        Console(file=io.StringIO()), "buy a lamp", enabled=False, max_steps=9, clock=clock
    )
    await view.on_event(StepStarted(3))
    await view.on_event(
        ResponseReceived(
            3,
            "resp_1",
            ("computer_call",),
            {"input_tokens": 120, "output_tokens": 7, "total_tokens": 127},
            0.4,
        )
    )
    await view.on_event(
        ActionExecuted(
            3, "c1", 0, "click", {"x": 412, "y": 230, "button": "left", "keys": []}, False, 0.01
        )
    )
    await view.on_event(
        ActionExecuted(3, "c1", 1, "type", {"text": "pw {{secret:shop_pw}}"}, False, 0.01)
    )
    await view.on_event(
        SafetyDecision(3, "c1", "sc_1", "sensitive_action", "buying", "acknowledged", "callback")
    )
    await view.on_event(WarningEvent(3, "clamped", "click was off screen; clamped"))
    clock.now += 65.0
    text = _render(view)
    assert "task: buy a lamp" in text
    assert "step 3/9" in text
    assert "1:05" in text
    assert "tokens 120 in / 7 out" in text
    assert "now: type 'pw ••••shop_pw'" in text
    assert "click (412, 230) left" in text
    assert "safety sensitive_action: acknowledged by callback" in text
    assert "clamped" in text
    assert "{{secret" not in text


async def test_view_shows_model_text_when_the_response_arrives() -> None:
    view = LiveView(Console(file=io.StringIO()), "t", enabled=False)
    await view.on_event(StepStarted(1))
    await view.on_event(
        ResponseReceived(
            1,
            "resp_1",
            ("reasoning", "message"),
            {},
            0.1,
            messages=("Signed in.",),
            reasoning=("The form is on the left.",),
        )
    )
    text = _render(view)
    assert "model: (thinking) The form is on the left." in text
    assert "model: Signed in." in text


def test_drawing_to_a_terminal_leaves_the_last_frame() -> None:
    buf = io.StringIO()
    view = LiveView(Console(file=buf, force_terminal=True, width=100), "draw me", enabled=True)
    with view:
        view.note_response(["hello from the model"], [])
    assert "hello from the model" in buf.getvalue()


def test_disabled_view_draws_nothing() -> None:
    buf = io.StringIO()
    view = LiveView(Console(file=buf, force_terminal=True), "quiet", enabled=False)
    with view:
        view.note_response(["not shown"], [])
    assert buf.getvalue() == ""


def test_words_for_actions() -> None:
    assert describe_screen_action("click", {"x": 412, "y": 230, "button": "left"}) == (
        "click (412, 230) left"
    )
    assert describe_screen_action("type", {"text": "hello"}) == "type 'hello'"
    assert mask_placeholders("{{secret:a}} and {{ secret:b }}") == "••••a and ••••b"


async def test_without_a_terminal_each_step_prints_one_line() -> None:
    clock = _Clock()
    out = io.StringIO()
    view = LiveView(
        Console(file=out, width=200), "buy a lamp", enabled=False, lines=True, clock=clock
    )
    await view.on_event(StepStarted(1))
    clock.now += 2.5
    await view.on_event(
        ActionExecuted(
            1, "c1", 0, "click", {"x": 412, "y": 230, "button": "left", "keys": []}, False, 0.12
        )
    )
    await view.on_event(
        ActionExecuted(2, "c2", 0, "type", {"text": "pw {{secret:shop_pw}}"}, False, 0.3)
    )
    lines = out.getvalue().splitlines()
    click = describe_screen_action("click", {"x": 412, "y": 230, "button": "left", "keys": []})
    assert lines[0] == f"step 1: {click} (0.12s, 2.5s in)"
    assert lines[1].startswith("step 2: ") and "shop_pw" in lines[1]
    assert "{{secret" not in out.getvalue()
    assert len(lines) == 2
