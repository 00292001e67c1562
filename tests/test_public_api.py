"""The public names of each package are a contract (DESIGN.md): pin them."""

from __future__ import annotations

import importlib

import pytest

# What DESIGN.md, the README and the examples promise; more may be exported.
CONTRACT = {
    "agent": {"Agent", "AgentHooks", "RunResult", "SafetyPolicy", "function_tool", "build_report"},
    "agent.testing": {"RecordingComputer", "ScriptedResponsesServer"},
    "executors": {"Computer", "DesktopComputer", "PlaywrightComputer", "normalize_key"},
    "sandbox": {"DomainPolicy", "VirtualDisplay", "find_chromium"},
}


def _isort_key(name: str) -> tuple[int, str]:
    """CONSTANTS, then Classes, then functions (ruff's RUF022 order)."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return (kind, name)


@pytest.mark.parametrize("module_name", sorted(CONTRACT))
def test_public_names_are_exported_sorted_and_resolve(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names = list(module.__all__)
    assert CONTRACT[module_name] <= set(names)
    assert len(names) == len(set(names))
    assert names == sorted(names, key=_isort_key)
    for name in names:
        assert getattr(module, name) is not None


def test_every_result_field_in_the_contract_exists() -> None:
    from agent import RunResult

    fields = set(RunResult.__dataclass_fields__)
    assert {"status", "final_output", "steps", "usage", "run_dir"} <= fields
