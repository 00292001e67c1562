"""ResponsesClient / AsyncResponsesClient against the real scripted server over loopback."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from pydantic import BaseModel

from agent import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncResponsesClient,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponsesClient,
    ServerError,
)
from agent._api._provider import resolve_provider
from agent._api._retry import RetryEvent, RetryPolicy, RetryState, parse_retry_after
from agent.testing import (
    Delay,
    Drop,
    DropMidBody,
    HTTPFault,
    MalformedJSON,
    NotAResponse,
    ScriptedResponsesServer,
    computer_call,
    message,
    turn,
)

FAST: dict[str, Any] = {"backoff_base_s": 0.01, "backoff_max_s": 0.02, "timeout": 5.0}
BODY = {"model": "scripted", "input": "hello"}


def sync_client(srv: ScriptedResponsesServer, **kw: Any) -> ResponsesClient:
    return ResponsesClient(base_url=srv.base_url, api_key="test-key", **{**FAST, **kw})


def async_client(srv: ScriptedResponsesServer, **kw: Any) -> AsyncResponsesClient:
    return AsyncResponsesClient(base_url=srv.base_url, api_key="test-key", **{**FAST, **kw})


def text_of(response: Any) -> str:
    item = response.output[0]
    item = item if isinstance(item, dict) else item.model_dump()
    return str(item["content"][0]["text"])


RETRIED = [
    pytest.param(HTTPFault(status=408), "HTTP 408", id="408"),
    pytest.param(HTTPFault(status=409), "HTTP 409", id="409"),
    pytest.param(HTTPFault(status=429), "HTTP 429", id="429"),
    pytest.param(HTTPFault(status=500), "HTTP 500", id="500"),
    pytest.param(HTTPFault(status=502, body="bad gateway"), "HTTP 502", id="502-text"),
    pytest.param(HTTPFault(status=503), "HTTP 503", id="503"),
    pytest.param(Drop(), "connection error", id="drop"),
    pytest.param(DropMidBody(), "connection error", id="drop_mid_body"),
    pytest.param(Delay(seconds=60), "timeout", id="stall-timeout"),
]


@pytest.mark.parametrize(("fault", "reason"), RETRIED)
def test_retried_fault_recovers_sync(fault: Any, reason: str) -> None:
    events: list[RetryEvent] = []
    srv = ScriptedResponsesServer([fault, turn(message("recovered"))])
    # timeout: short enough to cut the stall, long enough for the recovered answer on a busy host
    with srv, sync_client(srv, timeout=2.0, on_retry=events.append) as client:
        response = client.create(BODY)
        assert text_of(response) == "recovered"
        assert [r.fault for r in srv.requests] == [fault.kind, None]
    assert len(events) == 1
    assert events[0].attempt == 1
    assert events[0].reason.startswith(reason)


@pytest.mark.parametrize(("fault", "reason"), RETRIED)
async def test_retried_fault_recovers_async(fault: Any, reason: str) -> None:
    events: list[RetryEvent] = []
    srv = ScriptedResponsesServer([fault, turn(message("recovered"))])
    async with srv, async_client(srv, timeout=2.0, on_retry=events.append) as client:
        response = await client.create(BODY)
        assert text_of(response) == "recovered"
        assert len(srv.requests) == 2
    assert [e.reason.startswith(reason) for e in events] == [True]


NOT_RETRIED = [
    pytest.param(
        HTTPFault(status=400, body={"error": {"message": "Invalid 'model': nope"}}),
        BadRequestError,
        "Invalid 'model': nope",
        id="400",
    ),
    pytest.param(
        HTTPFault(status=400, body="plain text refusal"),
        BadRequestError,
        "plain text refusal",
        id="400-text",
    ),
    pytest.param(
        HTTPFault(status=401, body={"error": {"message": "Incorrect API key provided"}}),
        AuthenticationError,
        "Incorrect API key provided",
        id="401",
    ),
    pytest.param(
        HTTPFault(status=403, body={"error": {"message": "model not allowed"}}),
        PermissionDeniedError,
        "model not allowed",
        id="403",
    ),
    pytest.param(
        HTTPFault(status=404, body={"detail": "no such model"}),
        NotFoundError,
        "no such model",
        id="404-detail",
    ),
    pytest.param(
        HTTPFault(status=422, body={"message": "input too long"}),
        BadRequestError,
        "input too long",
        id="422",
    ),
    pytest.param(
        HTTPFault(status=418, body={"error": {"message": "teapot"}}),
        APIStatusError,
        "teapot",
        id="418",
    ),
    pytest.param(MalformedJSON(), MalformedResponseError, "not JSON", id="malformed_json"),
    pytest.param(
        NotAResponse(), MalformedResponseError, "not a response object", id="not_a_response"
    ),
]


@pytest.mark.parametrize(("fault", "error", "text"), NOT_RETRIED)
def test_non_retried_fault_raises_typed_error_sync(fault: Any, error: type, text: str) -> None:
    with ScriptedResponsesServer([fault, turn(message("never served"))]) as srv:
        with sync_client(srv) as client, pytest.raises(error) as info:
            client.create(BODY)
        assert len(srv.requests) == 1
    assert text in str(info.value)
    if isinstance(info.value, APIStatusError):
        assert info.value.status_code == fault.status


@pytest.mark.parametrize(("fault", "error", "text"), NOT_RETRIED)
async def test_non_retried_fault_raises_typed_error_async(
    fault: Any, error: type, text: str
) -> None:
    srv = ScriptedResponsesServer([fault, turn(message("never served"))])
    async with srv, async_client(srv) as client:
        with pytest.raises(error) as info:
            await client.create(BODY)
        assert len(srv.requests) == 1
    assert text in str(info.value)


def test_error_messages_say_what_to_do_next() -> None:
    script = [HTTPFault(status=401), HTTPFault(status=404), HTTPFault(status=429, repeat=5)]
    with ScriptedResponsesServer(script) as srv, sync_client(srv, max_retries=0) as client:
        with pytest.raises(AuthenticationError, match="Check the API key"):
            client.create(BODY)
        with pytest.raises(NotFoundError, match="Check base_url"):
            client.create(BODY)
        with pytest.raises(RateLimitError, match="raise max_retries"):
            client.create(BODY)


def test_retry_after_seconds_is_honoured() -> None:
    events: list[RetryEvent] = []
    script: list[Any] = [HTTPFault(status=429, retry_after=0.2), turn(message("ok"))]
    srv = ScriptedResponsesServer(script)
    with srv, sync_client(srv, on_retry=events.append) as client:
        assert text_of(client.create(BODY)) == "ok"
    assert events[0].retry_after == pytest.approx(0.2)
    assert events[0].delay == pytest.approx(0.2)
    assert events[0].status_code == 429


def test_retry_after_beyond_budget_gives_up_at_once() -> None:
    script: list[Any] = [HTTPFault(status=429, retry_after=30), turn(message("not reached"))]
    with ScriptedResponsesServer(script) as srv, sync_client(srv, retry_budget_s=1.0) as client:
        with pytest.raises(RateLimitError, match=r"asked to wait 30\.0s") as info:
            client.create(BODY)
        assert len(srv.requests) == 1
    assert "retry_budget_s" in str(info.value)


@pytest.mark.parametrize(
    ("status", "error"), [(503, ServerError), (429, RateLimitError), (409, APIStatusError)]
)
def test_persistent_fault_exhausts_max_retries(status: int, error: type) -> None:
    script = [HTTPFault(status=status, repeat=100)]
    with ScriptedResponsesServer(script) as srv, sync_client(srv, max_retries=2) as client:
        with pytest.raises(error, match=r"gave up after 3 attempt\(s\)"):
            client.create(BODY)
        assert len(srv.requests) == 3


def test_persistent_fault_is_bounded_by_the_time_budget() -> None:
    script = [HTTPFault(status=503, repeat=10_000)]
    with ScriptedResponsesServer(script) as srv:
        # a budget that fits a second attempt even when one request is slow on a busy host
        client = sync_client(srv, max_retries=10_000, retry_budget_s=2.0, backoff_base_s=0.05)
        with client, pytest.raises(ServerError, match=r"retry_budget_s=2 spent"):
            client.create(BODY)
        assert 2 <= len(srv.requests) < 10_000


async def test_persistent_stall_raises_timeout_error() -> None:
    srv = ScriptedResponsesServer([Delay(seconds=10, repeat=10)])
    async with srv, async_client(srv, timeout=0.2, max_retries=1) as client:
        with pytest.raises(APITimeoutError, match=r"Raise timeout="):
            await client.create(BODY)
        assert len(srv.requests) == 2


def test_connection_refused_raises_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = ResponsesClient(
        base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=1, **FAST
    )
    with client, pytest.raises(APIConnectionError, match="that the server is running") as info:
        client.create(BODY)
    assert not isinstance(info.value, APITimeoutError)
    assert "after 2 attempt(s)" in str(info.value)


@pytest.mark.parametrize("path", ["/v1", ""])
def test_both_base_paths_work(path: str) -> None:
    with ScriptedResponsesServer([turn(message("a"))]) as srv:
        base = srv.base_url.removesuffix("/v1") + path
        with ResponsesClient(base_url=base, api_key="k", **FAST) as client:
            assert text_of(client.create(BODY)) == "a"


def test_retrieve_and_cancel_sync() -> None:
    script = [turn(message("stored")), turn(status="in_progress"), turn(message("unstored"))]
    with ScriptedResponsesServer(script) as srv, sync_client(srv) as client:
        created = client.create(BODY)
        fetched = client.retrieve(created.id)
        assert fetched.id == created.id
        assert text_of(fetched) == "stored"
        background = client.create({**BODY, "background": True})
        assert background.status == "in_progress"
        cancelled = client.cancel(background.id)
        assert cancelled.status == "cancelled"
        assert client.retrieve(background.id).status == "cancelled"
        with pytest.raises(BadRequestError, match="only queued or in-progress"):
            client.cancel(created.id)
        unstored = client.create({**BODY, "store": False})
        with pytest.raises(NotFoundError, match="not found"):
            client.retrieve(unstored.id)
        with pytest.raises(NotFoundError):
            client.cancel("resp_nope")
        assert [r.method for r in srv.requests] == [
            "POST", "GET", "POST", "POST", "GET", "POST", "POST", "GET", "POST"
        ]  # fmt: skip


async def test_retrieve_and_cancel_async() -> None:
    srv = ScriptedResponsesServer([turn(status="in_progress")])
    async with srv, async_client(srv) as client:
        created = await client.create({**BODY, "background": True})
        assert (await client.retrieve(created.id)).status == "in_progress"
        assert (await client.cancel(created.id)).status == "cancelled"
        with pytest.raises(NotFoundError):
            await client.retrieve("resp_missing")


def test_previous_response_id_chaining() -> None:
    script = [turn(computer_call("click", x=10, y=20)), turn(message("done"))]
    with ScriptedResponsesServer(script) as srv, sync_client(srv) as client:
        first = client.create(BODY)
        call = first.output[0]
        call = call if isinstance(call, dict) else call.model_dump()
        second = client.create(
            {
                "model": "scripted",
                "previous_response_id": first.id,
                "input": [
                    {
                        "type": "computer_call_output",
                        "call_id": call["call_id"],
                        "output": {"type": "input_image", "image_url": "data:image/png;base64,AA"},
                    }
                ],
            }
        )
        assert text_of(second) == "done"
        assert srv.responses[second.id]["previous_response_id"] == first.id
        with pytest.raises(NotFoundError, match="Previous response with id 'resp_unknown'"):
            client.create({**BODY, "previous_response_id": "resp_unknown"})


def test_pydantic_model_body_is_sent_as_json() -> None:
    class Body(BaseModel):
        model: str
        input: str
        instructions: str | None = None

    with ScriptedResponsesServer([turn(message("x"))]) as srv, sync_client(srv) as client:
        client.create(Body(model="m", input="hi"))
        assert srv.requests[0].body == {"model": "m", "input": "hi"}


def test_request_headers() -> None:
    srv = ScriptedResponsesServer([turn(message("x"))], require_api_key="test-key")
    with srv, sync_client(srv, headers={"X-Trace": "abc"}) as client:
        client.create(BODY)
        headers = srv.requests[0].headers
    assert headers["x-trace"] == "abc"
    assert headers["user-agent"].startswith("screenloop/")
    assert "authorization" not in headers


def test_repr_masks_key_and_names_provider() -> None:
    client = ResponsesClient(api_key="sk-very-secret", provider="openai")
    assert repr(client) == (
        "ResponsesClient(provider='openai', base_url='https://api.openai.com/v1', api_key='***')"
    )
    client.close()


def test_authorization_header_is_refused_in_headers() -> None:
    with pytest.raises(ConfigurationError, match="api_key="):
        ResponsesClient(base_url="http://x/v1", headers={"authorization": "Bearer k"})


ENV_CASES = [
    # (kwargs, env, provider, base_url, key_source)
    ({}, {"TZAFON_API_KEY": "t"}, "lightcone", "https://api.tzafon.ai/v1", "TZAFON_API_KEY"),
    (
        {},
        {"TZAFON_API_KEY": "t", "LIGHTCONE_BASE_URL": "http://lc.local/v1/"},
        "lightcone",
        "http://lc.local/v1",
        "TZAFON_API_KEY",
    ),
    ({}, {"OPENAI_API_KEY": "o"}, "openai", "https://api.openai.com/v1", "OPENAI_API_KEY"),
    (
        {"provider": "openai"},
        {"OPENAI_API_KEY": "o", "OPENAI_BASE_URL": "http://proxy/v1", "TZAFON_API_KEY": "t"},
        "openai",
        "http://proxy/v1",
        "OPENAI_API_KEY",
    ),
    (
        {"api_key": "arg", "provider": "lightcone"},
        {"TZAFON_API_KEY": "t"},
        "lightcone",
        "https://api.tzafon.ai/v1",
        "argument",
    ),
    # keys go only where they belong (issue 13, row 10): not to another host...
    (
        {"base_url": "http://127.0.0.1:8000/v1"},
        {"OPENAI_API_KEY": "o"},
        "custom",
        "http://127.0.0.1:8000/v1",
        None,
    ),
    (
        {"base_url": "http://127.0.0.1:8000/v1"},
        {"TZAFON_API_KEY": "t", "OPENAI_API_KEY": "o"},
        "custom",
        "http://127.0.0.1:8000/v1",
        None,
    ),
    # ...unless the user opts in, or the URL is the one configured beside the key
    (
        {"base_url": "http://127.0.0.1:8000/v1", "send_env_key": True},
        {"TZAFON_API_KEY": "t", "OPENAI_API_KEY": "o"},
        "custom",
        "http://127.0.0.1:8000/v1",
        "TZAFON_API_KEY",
    ),
    (
        {"base_url": "http://127.0.0.1:8000/v1"},
        {"TZAFON_API_KEY": "t", "OPENAI_API_KEY": "o", "OPENAI_BASE_URL": "http://127.0.0.1:8000"},
        "custom",
        "http://127.0.0.1:8000/v1",
        "OPENAI_API_KEY",
    ),
    (
        {"base_url": "http://lc.local/v1"},
        {"TZAFON_API_KEY": "t", "LIGHTCONE_BASE_URL": "http://lc.local"},
        "custom",
        "http://lc.local/v1",
        "TZAFON_API_KEY",
    ),
    (
        {"base_url": "http://user:pw@127.0.0.1:8000/v1", "api_key": "a"},
        {"TZAFON_API_KEY": "t"},
        "custom",
        "http://user:pw@127.0.0.1:8000/v1",
        "argument",
    ),
    ({"base_url": "http://vllm:8000/v1"}, {}, "custom", "http://vllm:8000/v1", None),
    (
        {"base_url": "https://api.openai.com/v1", "api_key": "a"},
        {},
        "openai",
        "https://api.openai.com/v1",
        "argument",
    ),
]


@pytest.mark.parametrize(("kwargs", "env", "provider", "base_url", "source"), ENV_CASES)
def test_provider_resolution(
    kwargs: dict[str, Any], env: dict[str, str], provider: str, base_url: str, source: str | None
) -> None:
    settings = resolve_provider(env=env, **kwargs)
    assert (settings.provider, settings.base_url, settings.key_source) == (
        provider,
        base_url,
        source,
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"provider": "lightcone"}, "TZAFON_API_KEY"),
        ({"provider": "openai"}, "OPENAI_API_KEY"),
        ({"provider": "custom"}, "needs base_url"),
        ({"provider": "anthropic"}, "not one of"),
        ({"base_url": "ftp://x/v1", "api_key": "k"}, "not an http"),
        (
            {
                "provider": "lightcone",
                "base_url": "http://evil.test/v1",
                "env": "TZAFON_API_KEY",
            },
            "not sent to evil.test.*--send-env-key",
        ),
        (
            {"provider": "openai", "base_url": "http://evil.example/v1", "env": "OPENAI_API_KEY"},
            "OPENAI_API_KEY is not sent",
        ),
    ],
)
def test_provider_resolution_errors(kwargs: dict[str, Any], match: str) -> None:
    kwargs = dict(kwargs)
    env = {kwargs.pop("env"): "k"} if "env" in kwargs else {}
    with pytest.raises(ConfigurationError, match=match):
        resolve_provider(env=env, **kwargs)


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"Retry-After": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    from_epoch = parse_retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=lambda: 0)
    assert from_epoch == 1445412480.0
    date_in_past = parse_retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert date_in_past == 0.0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None


def test_retry_state_full_jitter_and_bounds() -> None:
    clock = [0.0]
    state = RetryState(
        RetryPolicy(max_retries=3, budget_s=10, backoff_base_s=1, backoff_max_s=3),
        clock=lambda: clock[0],
        rng=lambda: 1.0,
    )
    delays = []
    for _ in range(4):
        state.start_attempt()
        delays.append(state.next_delay())
    assert delays == [1.0, 2.0, 3.0, None]
    assert state.give_up_reason == "max_retries=3 reached"
    clock[0] = 9.5
    budget = RetryState(RetryPolicy(budget_s=10), clock=lambda: clock[0], rng=lambda: 1.0)
    clock[0] = 19.3
    budget.start_attempt()
    assert budget.next_delay() == pytest.approx(0.2)
    assert budget.next_delay(retry_after=0.5) is None
