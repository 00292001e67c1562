"""The official SDK's settings mean the same to screenloop (issue 17): ``LIGHTCONE_BASE_URL``
as an origin, ``LIGHTCONE_CUSTOM_HEADERS`` parsed alike, and the scripted server serving
the SDK itself (its own ``computer_screenshot`` output type, in both dialects).

Real HTTP on loopback: the SDK client and screenloop's client send to the same scripted
server, which records what each sent.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import pytest
from tzafon import Lightcone

from agent._api._client import ResponsesClient
from agent._api._provider import lightcone_custom_headers, resolve_provider, sdk_base_url
from agent._errors import ConfigurationError
from agent.testing import ScriptedResponsesServer, computer_call, message, turn

KEY = "sk-interop-0123"
HEADERS = "X-Team: blue\nX-Trace:  a:b:c \nno colon here\n  X-Spaced  :  v  "


@pytest.mark.parametrize(
    ("env_url", "expected"),
    [
        ("https://api.tzafon.ai", "https://api.tzafon.ai/v1"),  # the SDK's default, as an origin
        ("https://api.tzafon.ai/", "https://api.tzafon.ai/v1"),
        ("https://api.tzafon.ai/v1", "https://api.tzafon.ai/v1"),  # screenloop's older form
        ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1"),
        ("http://gw.local/lightcone", "http://gw.local/lightcone/v1"),  # a prefix, as the SDK
    ],
)
def test_lightcone_base_url_is_read_as_the_sdk_reads_it(env_url: str, expected: str) -> None:
    env = {"TZAFON_API_KEY": KEY, "LIGHTCONE_BASE_URL": env_url}
    settings = resolve_provider(env=env)
    assert (settings.provider, settings.base_url, settings.key_source) == (
        "lightcone", expected, "TZAFON_API_KEY",
    )  # fmt: skip
    assert sdk_base_url(settings.base_url) + "/v1" == expected


def test_a_lightcone_argument_that_is_an_origin_gets_v1() -> None:
    got = resolve_provider(api_key=KEY, base_url="https://api.tzafon.ai", env={})
    assert got.base_url == "https://api.tzafon.ai/v1"
    custom = resolve_provider(api_key=KEY, base_url="http://127.0.0.1:9", env={})
    assert custom.base_url == "http://127.0.0.1:9"  # any other server: as given


def test_custom_headers_parse_like_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIGHTCONE_CUSTOM_HEADERS", HEADERS)
    monkeypatch.setenv("TZAFON_API_KEY", KEY)
    sdk = Lightcone()  # the SDK's own parsing, from the same environment
    ours = lightcone_custom_headers()
    assert ours == {"X-Team": "blue", "X-Trace": "a:b:c", "X-Spaced": "v"}
    assert all(sdk._custom_headers[name] == value for name, value in ours.items())
    with pytest.raises(ConfigurationError, match="Authorization"):
        lightcone_custom_headers({"LIGHTCONE_CUSTOM_HEADERS": "Authorization: Bearer x"})


def _post_both(server: ScriptedResponsesServer, env: dict[str, str]) -> list[dict[str, str]]:
    """One request from the SDK and one from screenloop, both configured by `env` alone."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("OPENAI_API_KEY", raising=False)
        mp.delenv("OPENAI_BASE_URL", raising=False)
        sdk = Lightcone(max_retries=0)
        sdk.responses.create(model="m", input="from the sdk")
        with ResponsesClient(max_retries=0) as client:  # everything from the environment
            client.create({"model": "m", "input": "from screenloop"})
    return [r.headers for r in server.requests]


def test_sdk_settings_reach_the_same_server_with_the_same_headers() -> None:
    script = [turn(message("one")), turn(message("two"))]
    with ScriptedResponsesServer(script, require_api_key=KEY) as server:
        env = {
            "LIGHTCONE_BASE_URL": server.origin,
            "TZAFON_API_KEY": KEY,
            "LIGHTCONE_CUSTOM_HEADERS": HEADERS,
        }
        sdk_headers, our_headers = _post_both(server, env)
        assert [r.path for r in server.requests] == ["/v1/responses", "/v1/responses"]
        assert [r.status for r in server.requests] == [200, 200]
    for name in ("x-team", "x-trace", "x-spaced"):
        assert our_headers[name] == sdk_headers[name]


def test_custom_headers_are_not_sent_to_another_provider() -> None:
    with ScriptedResponsesServer([turn(message("one"))]) as server:
        env = {"LIGHTCONE_CUSTOM_HEADERS": "X-Team: blue"}
        client = ResponsesClient(base_url=server.base_url, api_key="k", env=env, max_retries=0)
        with client:
            client.create({"model": "m", "input": "x"})
        assert "x-team" not in server.requests[0].headers


@pytest.mark.parametrize("dialect", ["lightcone", "openai"])
@pytest.mark.parametrize("output_type", ["input_image", "computer_screenshot"])
def test_the_sdk_drives_the_scripted_server(dialect: Any, output_type: str) -> None:
    script = [turn(computer_call("click", x=1, y=2, button="left")), turn(message("ok"))]
    with ScriptedResponsesServer(script, dialect=dialect) as server:
        sdk = Lightcone(base_url=server.origin, api_key=KEY, max_retries=0)
        tool: Any = {"type": "computer_use_preview", "display_width": 8, "display_height": 8,
                     "environment": "browser"}  # fmt: skip
        first = sdk.responses.create(model="m", input="go", tools=[tool])
        call = first.output[0]
        assert call.type == "computer_call"  # type: ignore[union-attr]
        image = {"type": output_type, "image_url": "data:image/png;base64,AA=="}
        call_id = call.call_id  # type: ignore[union-attr]
        out: Any = {"type": "computer_call_output", "call_id": call_id, "output": image}
        second = sdk.responses.create(
            model="m", previous_response_id=first.id, input=[out], tools=[tool]
        )
        assert second.status == "completed"
        assert server.requests[-1].output_image_types == [output_type]


def test_serve_script_prints_the_url_for_screenloop_and_for_the_sdk(tmp_path: Any) -> None:
    path = tmp_path / "script.json"
    path.write_text('[{"output": [{"type": "message", "role": "assistant", "content": '
                    '[{"type": "output_text", "text": "hi", "annotations": []}]}]}]')  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "serve-script", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        origin = proc.stdout.readline().strip()
        assert base_url == origin + "/v1"
        sdk = Lightcone(base_url=origin, api_key=KEY, max_retries=0)
        response = sdk.responses.create(model="m", input="go")
        assert response.output[0].content[0].text == "hi"  # type: ignore[union-attr]
        assert httpx.get(base_url + "/responses/" + response.id, timeout=60).status_code == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    assert f"LIGHTCONE_BASE_URL={origin}" in err
