"""Safety policies decide every pending check; nothing is acknowledged silently."""

from __future__ import annotations

import pytest

from agent import ConfigurationError, SafetyCheck, SafetyPolicy

CHECKS = [
    SafetyCheck("sc_1", "irrelevant_domain", "off task"),
    SafetyCheck("sc_2", "malicious_instructions", "page says ignore"),
]


async def test_deny_denies_everything() -> None:
    decisions = await SafetyPolicy.deny().decide("call_1", CHECKS)
    assert [(d.decision, d.decided_by) for d in decisions] == [("denied", "policy")] * 2


async def test_allow_all_acknowledges_by_policy() -> None:
    decisions = await SafetyPolicy.allow().decide("call_1", CHECKS)
    assert [(d.decision, d.decided_by) for d in decisions] == [("acknowledged", "policy")] * 2
    assert decisions[0].to_json() == {
        "call_id": "call_1",
        "id": "sc_1",
        "code": "irrelevant_domain",
        "message": "off task",
        "decision": "acknowledged",
        "decided_by": "policy",
    }


async def test_allow_listed_codes_only() -> None:
    decisions = await SafetyPolicy.allow(["irrelevant_domain"]).decide("c", CHECKS)
    assert [(d.decision, d.decided_by) for d in decisions] == [
        ("acknowledged", "allowlist"),
        ("denied", "policy"),
    ]


@pytest.mark.parametrize("answer", [True, False])
async def test_ask_with_sync_and_async_callbacks(answer: bool) -> None:
    seen: list[list[SafetyCheck]] = []

    def sync_cb(checks: list[SafetyCheck]) -> bool:
        seen.append(list(checks))
        return answer

    async def async_cb(checks: list[SafetyCheck]) -> bool:
        return answer

    for cb in (sync_cb, async_cb):
        decisions = await SafetyPolicy.ask(cb).decide("c", CHECKS)
        expected = "acknowledged" if answer else "denied"
        assert [(d.decision, d.decided_by) for d in decisions] == [(expected, "callback")] * 2
    assert seen == [CHECKS]


async def test_allow_listed_codes_then_ask_for_the_rest() -> None:
    policy = SafetyPolicy.allow(["irrelevant_domain"], callback=lambda checks: True)
    decisions = await policy.decide("c", CHECKS)
    assert [d.decided_by for d in decisions] == ["allowlist", "callback"]
    assert all(d.acknowledged for d in decisions)


def test_coerce() -> None:
    assert SafetyPolicy.coerce(None).mode == "deny"
    assert SafetyPolicy.coerce(None, lambda c: True).mode == "ask"
    assert SafetyPolicy.coerce("allow").mode == "allow"
    with pytest.raises(ConfigurationError):
        SafetyPolicy.coerce("ask")
    with pytest.raises(ConfigurationError):
        SafetyPolicy.coerce("sometimes")
