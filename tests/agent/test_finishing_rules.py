"""Runs that finish, the pure parts: repeat counting, rule matching, the Agent's checks."""

from __future__ import annotations

from typing import Any

import pytest

from agent import ActionRule, Agent, ConfigurationError, Verdict
from agent._actions._model import Click, Keypress, Navigate, Type
from agent._run._before_action import ActionInfo, decide
from agent._run._finishing import _Mark, _repeats
from agent.testing import RecordingComputer


def mark(did: str, blind: bool = True) -> _Mark:
    return _Mark(did, did, None, blind)


@pytest.mark.parametrize(
    ("dids", "expected"),
    [
        ("A", (1, 1)),
        ("AAA", (3, 1)),
        ("BAAA", (3, 1)),
        ("ABAB", (2, 2)),
        ("ABABAB", (3, 2)),
        ("CABAB", (2, 2)),
        ("ABA", (1, 1)),  # one cycle and a half is not yet a repeat
        ("ABC", (1, 1)),
    ],
)
def test_repeats_count_runs_and_two_screen_cycles(dids: str, expected: tuple[int, int]) -> None:
    assert _repeats([mark(d) for d in dids]) == expected


def test_a_step_without_a_mark_breaks_the_run() -> None:
    assert _repeats([mark("A"), mark("A"), None, mark("A")]) == (1, 1)
    assert _repeats([mark("A"), None]) == (0, 1)


def test_an_unfingerprinted_screen_is_never_the_same() -> None:
    seen = _Mark("A", "a", b"png", False)
    assert not seen.same(_Mark("A", "a", b"png", False))


INFO = ActionInfo(1, "call_1", 0, {}, "http://127.0.0.1:8000/checkout")


async def test_rules_match_type_text_and_url_and_the_first_wins() -> None:
    rules = [
        ActionRule.from_dict({"match": {"type": "keypress", "text": "ctrl\\+w"}, "then": "skip"}),
        ActionRule.from_dict({"match": {"url": "/checkout$"}, "then": "stop", "text": "no"}),
    ]
    assert (await decide(rules, None, Keypress(("ctrl", "w")), INFO)).verdict is Verdict.SKIP
    decision = await decide(rules, None, Click(1, 2), INFO)
    assert decision.verdict is Verdict.STOP and decision.rule == 1 and decision.text == "no"
    elsewhere = ActionInfo(1, "c", 0, {}, "http://127.0.0.1:8000/cart")
    assert (await decide(rules, None, Click(1, 2), elsewhere)).verdict is Verdict.EXECUTE
    typed = ActionRule.from_dict({"match": {"text": "secret"}, "then": "skip"})
    assert typed.matches(Type("a secret"), None)
    assert typed.matches(Navigate("http://x/secret"), None)
    assert not typed.matches(Click(1, 2), None)


async def test_the_hook_may_answer_with_a_verdict_name_or_none() -> None:
    assert (await decide([], lambda a, i: "skip", Click(1, 2), INFO)).verdict is Verdict.SKIP
    assert (await decide([], lambda a, i: None, Click(1, 2), INFO)).verdict is Verdict.EXECUTE
    with pytest.raises(ConfigurationError, match="before_action returned"):
        await decide([], lambda a, i: 42, Click(1, 2), INFO)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"stuck_after": 1},
        {"stuck_stop_after": -1},
        {"budget_notice_at": 0},
        {"budget_notice_at": 1.5},
        {"text_only": "sometimes"},
        {"text_only_nudges": -1},
        {"action_rules": {"match": {}, "then": "stop"}},  # one rule, not a list
        {"action_rules": [{"then": "explode"}]},
    ],
)
def test_the_agent_refuses_settings_that_cannot_work(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Agent(RecordingComputer((100, 100)), **kwargs)


def test_text_only_defaults_to_the_profile_and_output_schema_must_be_a_type() -> None:
    agent = Agent(RecordingComputer((100, 100)))
    assert agent.text_only == agent.profile.text_only == "complete"
    assert Agent(RecordingComputer((100, 100)), text_only="nudge").text_only == "nudge"
    with pytest.raises(ConfigurationError, match="not a JSON-schema dict"):
        agent.run_sync("task", output_schema={"type": "object"})
