"""API faults through the whole loop: Agent + scripted server + RecordingComputer.

Each fault is served on the second request (after one action has run, so the
record has a step and screenshots to keep valid). A retryable fault served
once must be survived (the run completes and the retry is in the record); a
fault that cannot be retried ends the run with status ``error`` and the
documented error type. Either way the run directory is complete and valid.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from rel_support import API_KEY, check_run_dir, fast_client

from agent import Agent
from agent.testing import (
    Delay,
    Drop,
    DropMidBody,
    HTTPFault,
    MalformedJSON,
    NotAResponse,
    RecordingComputer,
    ScriptedResponsesServer,
    StreamErrorFault,
    TruncatedSSE,
    computer_call,
    message,
    turn,
)

CLICK = turn(computer_call("click", x=500, y=250))
DONE = turn(message("all done"))

# fault -> the retry reason the client records
RECOVERED: list[tuple[str, Any, str]] = [
    ("429-no-retry-after", HTTPFault(status=429), "HTTP 429"),
    ("429-retry-after", HTTPFault(status=429, retry_after=1), "HTTP 429"),
    ("500", HTTPFault(status=500), "HTTP 500"),
    ("502", HTTPFault(status=502, body="<html>bad gateway</html>"), "HTTP 502"),
    ("503", HTTPFault(status=503), "HTTP 503"),
    ("504", HTTPFault(status=504), "HTTP 504"),
    ("read-timeout", Delay(seconds=5), "timeout"),
    ("connection-dropped", Drop(), "connection error"),
    ("dropped-mid-body", DropMidBody(), "connection error"),
]


async def run_agent(
    tmp_path: Path, script: list[Any], *, stream: bool = False, **client_kw: Any
) -> tuple[Any, RecordingComputer, ScriptedResponsesServer]:
    computer = RecordingComputer((1000, 500))
    with ScriptedResponsesServer(script) as server:
        client = fast_client(server.base_url, **client_kw)
        agent = Agent(
            computer,
            client=client,
            api_key=API_KEY,
            coordinate_space="pixels",
            run_dir=tmp_path / "run",
            stream=stream,
        )
        try:
            result = await agent.run("survive the API")
        finally:
            await client.aclose()
    return result, computer, server


@pytest.mark.parametrize(
    ("name", "fault", "reason", "stream"),
    [
        pytest.param(*r, stream, id=f"{r[0]}-{'sse' if stream else 'json'}")
        for stream in (False, True)
        for r in RECOVERED
        # documented: once SSE events flowed, a broken stream is a StreamError (see FATAL)
        if not (stream and r[0] == "dropped-mid-body")
    ],
)
async def test_retryable_fault_once_is_survived(
    tmp_path: Path, name: str, fault: Any, reason: str, stream: bool
) -> None:
    result, computer, server = await run_agent(tmp_path, [CLICK, fault, DONE], stream=stream)
    assert result.status == "completed", result.error
    assert result.final_output == "all done"
    assert [c.args["x"] for c in computer.calls_named("click")] == [500]
    _, steps = check_run_dir(tmp_path / "run", "completed")
    retries = [e for s in steps for e in s["events"] if e.get("kind") == "retry"]
    assert len(retries) == 1, steps
    assert retries[0]["reason"].startswith(reason)
    assert retries[0]["step"] == 2
    if name == "429-retry-after":
        assert retries[0]["delay_s"] == pytest.approx(1.0)
    # the request after the fault carried the click's screenshot again
    posts = [r for r in server.requests if r.method == "POST"]
    assert posts[-1].body == posts[-2].body


# fault -> (error type recorded, streamed request?)
FATAL: list[tuple[str, list[Any], str, bool]] = [
    ("malformed-json", [MalformedJSON()], "MalformedResponseError", False),
    ("not-a-response", [NotAResponse()], "MalformedResponseError", False),
    (
        "status-failed",
        [turn(status="failed", error={"code": "server_error", "message": "boom"})],
        "ResponseValidationError",
        False,
    ),
    (
        "status-incomplete",
        [
            turn(
                message("half"),
                status="incomplete",
                incomplete_details={"reason": "max_output_tokens"},
            )
        ],
        "ResponseValidationError",
        False,
    ),
    ("truncated-sse", [TruncatedSSE()], "StreamError", True),
    ("dropped-mid-body-sse", [DropMidBody()], "StreamError", True),
    ("sse-error-event", [StreamErrorFault()], "StreamError", True),
    (
        "status-failed-sse",
        [turn(status="failed", error={"code": "x", "message": "boom"})],
        "ResponseValidationError",
        True,
    ),
    ("400", [HTTPFault(status=400)], "BadRequestError", False),
    ("401", [HTTPFault(status=401)], "AuthenticationError", False),
    ("persistent-503", [HTTPFault(status=503, repeat=50)], "ServerError", False),
    ("persistent-429", [HTTPFault(status=429, repeat=50)], "RateLimitError", False),
    ("persistent-timeout", [Delay(seconds=30, repeat=50)], "APITimeoutError", False),
    ("persistent-drop", [Drop(repeat=50)], "APIConnectionError", False),
]


@pytest.mark.parametrize(
    ("name", "faults", "error_type", "stream"), FATAL, ids=[f[0] for f in FATAL]
)
async def test_unrecoverable_fault_ends_with_documented_error(
    tmp_path: Path, name: str, faults: list[Any], error_type: str, stream: bool
) -> None:
    result, computer, _ = await run_agent(tmp_path, [CLICK, *faults, DONE], stream=stream)
    assert result.status == "error"
    assert result.error is not None and result.error["type"] == error_type, result.error
    summary, steps = check_run_dir(tmp_path / "run", "error")
    assert summary["error"]["type"] == error_type
    # the failed step records the id of the response that failed it -- none when no
    # response arrived -- never the id of an earlier turn
    assert len(steps) == 2
    got, earlier = steps[1]["response_id"], steps[0]["response_id"]
    if isinstance(faults[0], dict):  # a response body that says failed/incomplete
        assert got is not None and got != earlier, (got, earlier)
    else:
        assert got is None, got
    assert computer.calls_named("release_all"), "held input was not released"
    assert len(computer.calls_named("click")) == 1  # nothing after the fault ran


@pytest.mark.parametrize(
    ("fault", "client_kw"),
    [
        (HTTPFault(status=503, repeat=1000), {"max_retries": 1000, "retry_budget_s": 3.0}),
        (Drop(repeat=1000), {"max_retries": 1000, "retry_budget_s": 3.0}),
        (Delay(seconds=30, repeat=1000), {"max_retries": 1000, "retry_budget_s": 3.0}),
        (
            HTTPFault(status=429, retry_after=1, repeat=1000),
            {"max_retries": 1000, "retry_budget_s": 3.0},
        ),
    ],
    ids=["503", "drop", "stall", "429-retry-after"],
)
async def test_persistent_outage_ends_within_the_retry_budget(
    tmp_path: Path, fault: Any, client_kw: dict[str, Any]
) -> None:
    """The budget, not max_retries=1000, ends the run (shown by the error, not by a clock)."""
    result, _, server = await run_agent(tmp_path, [CLICK, fault, DONE], **client_kw)
    assert result.status == "error", result.error
    assert result.error is not None
    assert f"retry_budget_s={client_kw['retry_budget_s']:g}" in result.error["message"], (
        result.error
    )
    posts = [r for r in server.requests if r.method == "POST"]
    assert 3 <= len(posts) < 1000  # it did retry, and gave up long before max_retries
    check_run_dir(tmp_path / "run", "error")


async def test_connection_refused_ends_with_connection_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    computer = RecordingComputer((1000, 500))
    client = fast_client(f"http://127.0.0.1:{port}/v1", retry_budget_s=2.0)
    agent = Agent(computer, client=client, api_key=API_KEY, run_dir=tmp_path / "run")
    result = await agent.run("nobody listens")
    await client.aclose()
    assert result.status == "error"
    assert result.error is not None and result.error["type"] == "APIConnectionError"
    message = result.error["message"]
    assert "max_retries=3 reached" in message or "retry_budget_s=2 spent" in message, message
    assert "Check base_url" in result.error["message"]
    summary, steps = check_run_dir(tmp_path / "run", "error")
    assert summary["initial_screenshot"] and len(steps) == 1


async def test_default_agent_client_retries_too(tmp_path: Path) -> None:
    """The client the Agent builds itself (no client= given) survives a transient 503."""
    computer = RecordingComputer((1000, 500))
    with ScriptedResponsesServer([CLICK, HTTPFault(status=503, retry_after=0), DONE]) as server:
        agent = Agent(computer, base_url=server.base_url, api_key=API_KEY, run_dir=tmp_path / "run")
        result = await agent.run("default client")
    assert result.status == "completed", result.error
    check_run_dir(tmp_path / "run", "completed")
