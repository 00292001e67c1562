"""The API key never appears in logs (DEBUG included), exceptions, reprs or recordings."""

from __future__ import annotations

import logging
import socket
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from agent import APIError, AsyncResponsesClient, ResponsesClient, ScreenloopError
from agent.testing import (
    Delay,
    Drop,
    HTTPFault,
    MalformedJSON,
    ScriptedResponsesServer,
    TruncatedSSE,
    message,
    turn,
)

KEY = f"sk-leakcanary-{uuid.uuid4().hex}"
FAST: dict[str, Any] = {
    "backoff_base_s": 0.01,
    "backoff_max_s": 0.02,
    "timeout": 0.3,
    "max_retries": 1,
}
BODY = {"model": "m", "input": "go"}


def everything_about(exc: BaseException) -> str:
    """str, repr, body and the full chained traceback of an exception."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    parts.append(repr(getattr(exc, "body", None)))
    cause: BaseException | None = exc
    while cause is not None:
        parts += [str(cause), repr(cause), repr(vars(cause)) if hasattr(cause, "__dict__") else ""]
        cause = cause.__cause__ or cause.__context__
    return "\n".join(parts)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "agent", "agent.testing", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


ECHO = {"error": {"message": f"Incorrect API key provided: {KEY}", "key": KEY}}

SCENARIOS: list[tuple[str, list[Any], Callable[[ResponsesClient], Any]]] = [
    ("echoed-401", [HTTPFault(status=401, body=ECHO)], lambda c: c.create(BODY)),
    ("echoed-text-400", [HTTPFault(status=400, body=f"bad key {KEY}")], lambda c: c.create(BODY)),
    ("persistent-503", [HTTPFault(status=503, repeat=5, body=ECHO)], lambda c: c.create(BODY)),
    ("drop", [Drop(repeat=5)], lambda c: c.create(BODY)),
    ("timeout", [Delay(seconds=5, repeat=5)], lambda c: c.create(BODY)),
    ("malformed", [MalformedJSON()], lambda c: c.create(BODY)),
    ("truncated-stream", [TruncatedSSE()], lambda c: c.create(BODY, stream=True)),
    ("missing-response", [], lambda c: c.retrieve("resp_missing")),
]


@pytest.mark.parametrize(("name", "script", "call"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_key_absent_from_errors_logs_and_reprs(
    name: str,
    script: list[Any],
    call: Callable[[ResponsesClient], Any],
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    with ScriptedResponsesServer(script, require_api_key=KEY) as srv:
        client = ResponsesClient(base_url=srv.base_url, api_key=KEY, **FAST)
        with client, pytest.raises(APIError) as info:
            call(client)
        # The key really was sent: the server (which requires it) did not answer 401 itself.
        assert not [r for r in srv.requests if r.status == 401 and r.fault is None]
        # What the client sent, as the server recorded it (the scripted answers themselves
        # echo the key on purpose, so they are not part of this).
        recorded = repr([(r.headers, r.body) for r in srv.requests])
        seen = "\n".join([everything_about(info.value), repr(client), recorded, debug_logs.text])
    assert debug_logs.records, "DEBUG logging captured nothing; the test would prove nothing"
    assert KEY not in seen
    assert KEY[-12:] not in seen


async def test_key_absent_async(debug_logs: pytest.LogCaptureFixture) -> None:
    async with ScriptedResponsesServer([HTTPFault(status=401, body=ECHO)]) as srv:
        client = AsyncResponsesClient(base_url=srv.base_url, api_key=KEY, **FAST)
        async with client:
            with pytest.raises(ScreenloopError) as info:
                await client.create(BODY)
            seen = "\n".join([everything_about(info.value), repr(client), debug_logs.text])
    assert KEY not in seen


def test_key_absent_on_connection_refused(debug_logs: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = ResponsesClient(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, **FAST)
    with client, pytest.raises(APIError) as info:
        client.create(BODY)
    assert KEY not in everything_about(info.value) + debug_logs.text + repr(client)


def test_wrong_key_401_does_not_echo_either_key(debug_logs: pytest.LogCaptureFixture) -> None:
    server_key = f"sk-server-{uuid.uuid4().hex}"
    srv = ScriptedResponsesServer([turn(message("x"))], require_api_key=server_key)
    with (
        srv,
        ResponsesClient(base_url=srv.base_url, api_key=KEY, **FAST) as client,
        pytest.raises(APIError, match="Check the API key") as info,
    ):
        client.create(BODY)
    text = everything_about(info.value) + debug_logs.text + repr(srv)
    assert KEY not in text
    assert server_key not in text


def test_env_key_absent_from_repr_and_settings() -> None:
    client = ResponsesClient(provider="lightcone", env={"TZAFON_API_KEY": KEY})
    with client:
        assert KEY not in repr(client)
        assert KEY not in repr(client._core.settings)
        assert client._core.settings.key_source == "TZAFON_API_KEY"
