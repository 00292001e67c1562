"""Agent configuration: profiles, coordinate spaces, the sync facade, streaming, public names."""

from __future__ import annotations

import pytest
from loop_harness import API_KEY, Harness

import agent
from agent import Agent, ConfigurationError
from agent._api._profiles import LIGHTCONE, OPENAI, resolve_profile
from agent.testing import RecordingComputer, ScriptedResponsesServer, computer_call, message, turn


@pytest.mark.parametrize(
    "model, base_url, provider, profile, space",
    [
        ("tzafon.northstar-cua-fast", None, None, LIGHTCONE, "normalized"),
        ("tzafon.northstar-cua-fast-1.6", "https://api.tzafon.ai/v1", None, LIGHTCONE,
         "normalized"),
        ("computer-use-preview", None, None, OPENAI, "pixels"),
        ("anything", "https://api.openai.com/v1", None, OPENAI, "pixels"),
        ("my-vllm-model", "http://127.0.0.1:8000/v1", "custom", LIGHTCONE, "pixels"),
        ("tzafon.northstar-cua-fast", "http://proxy.local/v1", "openai", OPENAI, "pixels"),
    ],
)  # fmt: skip
def test_profile_and_coordinate_space_are_chosen_from_model_url_and_provider(
    model: str, base_url: str | None, provider: str | None, profile: object, space: str
) -> None:
    assert resolve_profile(model, base_url, provider) is profile
    a = Agent(RecordingComputer(), model, base_url=base_url, provider=provider)
    assert (a.profile, a.coordinate_space) == (profile, space)
    other = "pixels" if space == "normalized" else "normalized"
    explicit = Agent(
        RecordingComputer(), model, base_url=base_url, provider=provider, coordinate_space=other
    )
    assert explicit.coordinate_space != space  # an explicit setting wins


def test_bad_configuration_is_refused_at_construction() -> None:
    for kwargs in (
        {"max_steps": 0},
        {"history": "sometimes"},
        {"coordinate_space": "inches"},
        {"safety": "ask"},  # nobody to ask
        {"provider": "nonesuch"},
    ):
        with pytest.raises(ConfigurationError):
            Agent(RecordingComputer(), **kwargs)  # type: ignore[arg-type]


def test_run_sync() -> None:
    with ScriptedResponsesServer([turn(computer_call("wait")), turn(message("synced"))]) as s:
        agent_ = Agent(RecordingComputer((64, 48)), base_url=s.base_url, api_key=API_KEY,
                       record=False)  # fmt: skip
        result = agent_.run_sync("t")
    assert (result.status, result.final_output, len(result.steps)) == ("completed", "synced", 2)


async def test_streaming_requests_give_the_same_run(harness: Harness) -> None:
    result = await harness.run(
        [turn(computer_call("click", x=1, y=1)), turn(message("streamed"))], stream=True
    )
    assert (result.status, result.final_output) == ("completed", "streamed")
    assert all(b["stream"] is True for b in harness.bodies)


def test_public_names() -> None:
    assert agent.__all__ == sorted(agent.__all__)
    for name in ("Agent", "AgentHooks", "RunResult", "SafetyPolicy", "function_tool", "Finished"):
        assert name in agent.__all__
