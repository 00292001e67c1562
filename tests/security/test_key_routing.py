"""Keys go only where they belong; credentials in a base URL are never recorded (issue 13,
row 10 and the base-URL item of row 12).

The scripted server requires the key: an environment key sent to a custom
base URL would let the run complete; now the server answers 401 unless the
user passes the key for that URL or opts in with ``send_env_key``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent import Agent
from agent._api._provider import resolve_provider, without_credentials
from agent.testing import RecordingComputer, ScriptedResponsesServer, message, turn

KEY = "tk-env-canary-0123456789"


@pytest.mark.parametrize("opt_in", [False, True])
async def test_an_environment_key_is_not_sent_to_a_custom_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opt_in: bool
) -> None:
    monkeypatch.setenv("TZAFON_API_KEY", KEY)
    monkeypatch.delenv("LIGHTCONE_BASE_URL", raising=False)
    with ScriptedResponsesServer([turn(message("done"))], require_api_key=KEY) as server:
        settings = resolve_provider(base_url=server.base_url, send_env_key=opt_in)
        agent = Agent(
            RecordingComputer((200, 100)),
            base_url=server.base_url,
            api_key=settings.api_key,
            run_dir=tmp_path / "run",
        )
        result = await agent.run("hello")
    if opt_in:
        assert result.status == "completed", result.error
    else:
        assert result.status == "error" and result.error is not None
        assert result.error["type"] == "AuthenticationError"
    assert KEY not in (tmp_path / "run" / "run.json").read_text()


def test_the_key_goes_to_the_base_url_configured_beside_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {"TZAFON_API_KEY": KEY, "LIGHTCONE_BASE_URL": "http://127.0.0.1:9"}
    assert resolve_provider(env=env).api_key == KEY
    assert resolve_provider(base_url="http://127.0.0.1:9/v1", env=env).api_key == KEY
    assert resolve_provider(base_url="http://127.0.0.1:10/v1", env=env).api_key is None


async def test_base_url_credentials_are_not_recorded(tmp_path: Path) -> None:
    with ScriptedResponsesServer([turn(message("done"))]) as server:
        plain = server.base_url
        base = plain.replace("http://", "http://ann:hunter2-url-pw@")
        agent = Agent(
            RecordingComputer((200, 100)), base_url=base, api_key="k-123", run_dir=tmp_path / "r"
        )
        result = await agent.run("hello")
    assert result.status == "completed", result.error
    run = json.loads((tmp_path / "r" / "run.json").read_text())
    assert run["base_url"] == plain
    for path in (tmp_path / "r").rglob("*.*"):
        assert "hunter2-url-pw" not in path.read_text(errors="replace"), path
    assert without_credentials("http://a:b@h:1/v1?x=1") == "http://h:1/v1?x=1"


def test_base_url_credentials_are_not_in_errors_or_reprs() -> None:
    from agent._api._client import ResponsesClient
    from agent._errors import APIConnectionError

    client = ResponsesClient(
        base_url="http://ann:pw-in-url-77@127.0.0.1:9/v1", api_key="k-123", max_retries=0
    )
    assert "pw-in-url-77" not in repr(client)
    with pytest.raises(APIConnectionError) as caught:
        client.create({"model": "m", "input": []})
    assert "pw-in-url-77" not in str(caught.value)
    assert "127.0.0.1:9" in str(caught.value)
