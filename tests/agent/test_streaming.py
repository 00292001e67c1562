"""Streaming (SSE) through the client against the scripted server, and the SSE decoder."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from agent import AsyncResponsesClient, MalformedResponseError, ResponsesClient, StreamError
from agent._api._sse import SSEDecoder, StreamEvent, StreamTracker
from agent.testing import (
    DropMidBody,
    HTTPFault,
    MalformedJSON,
    NotAResponse,
    ScriptedResponsesServer,
    StreamErrorFault,
    TruncatedSSE,
    computer_call,
    message,
    reasoning,
    turn,
)

FAST: dict[str, Any] = {"backoff_base_s": 0.01, "backoff_max_s": 0.02, "timeout": 5.0}
BODY = {"model": "scripted", "input": "hello"}
EXPECTED_TYPES = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.output_item.done",
    "response.output_item.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.output_item.done",
    "response.completed",
]


def script() -> list[Any]:
    return [turn(reasoning("thinking"), message("streamed hello"), usage={"total_tokens": 7})]


def test_sync_create_stream_delivers_events_and_returns_final_response() -> None:
    events: list[StreamEvent] = []
    srv = ScriptedResponsesServer(script())
    with srv, ResponsesClient(base_url=srv.base_url, api_key="k", **FAST) as client:
        response = client.create(BODY, stream=True, on_event=events.append)
        stored = client.retrieve(response.id)
        assert srv.requests[0].body["stream"] is True
    assert [e.type for e in events] == EXPECTED_TYPES
    assert [e.sequence_number for e in events] == list(range(len(EXPECTED_TYPES)))
    assert response.status == "completed"
    assert response.model_dump(mode="json") == stored.model_dump(mode="json")
    assert events[5].data["delta"] == "streamed hello"
    assert events[-1].response is not None and events[-1].response["id"] == response.id


async def test_async_create_stream_accepts_async_callback() -> None:
    seen: list[str] = []

    async def on_event(event: StreamEvent) -> None:
        seen.append(event.type)

    srv = ScriptedResponsesServer(script())
    async with srv, AsyncResponsesClient(base_url=srv.base_url, api_key="k", **FAST) as client:
        response = await client.create(BODY, stream=True, on_event=on_event)
    assert seen == EXPECTED_TYPES
    assert response.usage is not None


async def test_async_stream_iterator() -> None:
    srv = ScriptedResponsesServer(script())
    async with srv, AsyncResponsesClient(base_url=srv.base_url, api_key="k", **FAST) as client:
        types = [event.type async for event in client.stream(BODY)]
    assert types == EXPECTED_TYPES


def test_sync_stream_iterator_items() -> None:
    srv = ScriptedResponsesServer([turn(computer_call("click", x=3, y=4))])
    with srv, ResponsesClient(base_url=srv.base_url, api_key="k", **FAST) as client:
        done = [e.item for e in client.stream(BODY) if e.type == "response.output_item.done"]
    assert done[0] is not None
    assert done[0]["action"] == {"type": "click", "x": 3, "y": 4}
    assert done[0]["call_id"].startswith("call_")


@pytest.mark.parametrize(
    ("fault", "error", "text"),
    [
        pytest.param(TruncatedSSE(), StreamError, "without response.completed", id="truncated"),
        pytest.param(DropMidBody(), StreamError, "the stream broke", id="drop_mid_body"),
        pytest.param(
            StreamErrorFault(message="model overloaded", code="overloaded"),
            StreamError,
            "model overloaded",
            id="error-event",
        ),
        pytest.param(MalformedJSON(), MalformedResponseError, "not JSON", id="malformed"),
        pytest.param(NotAResponse(), MalformedResponseError, "not a response", id="not_a_response"),
    ],
)
def test_broken_stream_raises_and_is_not_retried_sync(fault: Any, error: type, text: str) -> None:
    events: list[StreamEvent] = []
    srv = ScriptedResponsesServer([fault, turn(message("must not be served"))])
    with srv, ResponsesClient(base_url=srv.base_url, api_key="k", **FAST) as client:
        with pytest.raises(error, match=text):
            client.create(BODY, stream=True, on_event=events.append)
        assert len(srv.requests) == 1


@pytest.mark.parametrize("fault", [TruncatedSSE(), DropMidBody()], ids=["truncated", "drop"])
async def test_broken_stream_raises_async(fault: Any) -> None:
    srv = ScriptedResponsesServer([fault])
    async with srv, AsyncResponsesClient(base_url=srv.base_url, api_key="k", **FAST) as client:
        seen: list[str] = []
        with pytest.raises(StreamError):
            async for event in client.stream(BODY):
                seen.append(event.type)
    assert seen[0] == "response.created"
    assert "response.completed" not in seen


def test_status_fault_before_stream_is_retried() -> None:
    srv = ScriptedResponsesServer([HTTPFault(status=503), *script()])
    with srv, ResponsesClient(base_url=srv.base_url, api_key="k", **FAST) as client:
        response = client.create(BODY, stream=True)
        assert response.status == "completed"
        assert len(srv.requests) == 2


@pytest.mark.parametrize(
    ("status", "terminal"),
    [("failed", "response.failed"), ("incomplete", "response.incomplete")],
)
def test_failed_and_incomplete_terminal_events_return_the_response(
    status: str, terminal: str
) -> None:
    t = turn(message("half"), status=status, error={"code": "x", "message": "y"})
    events: list[StreamEvent] = []
    srv = ScriptedResponsesServer([t])
    with srv, ResponsesClient(base_url=srv.base_url, api_key="k", **FAST) as client:
        response = client.create(BODY, stream=True, on_event=events.append)
    assert events[-1].type == terminal
    assert response.status == status


def test_server_answering_json_to_a_stream_request_gives_one_terminal_event() -> None:
    payload = {"id": "resp_1", "object": "response", "status": "completed", "output": []}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=payload)

    client = ResponsesClient(
        base_url="http://json-only/v1", api_key="k", transport=httpx.MockTransport(handler)
    )
    with client:
        events = list(client.stream(BODY))
    assert [e.type for e in events] == ["response.completed"]


# -- the decoder --------------------------------------------------------------------


def decode(text: str) -> list[StreamEvent]:
    decoder = SSEDecoder()
    out: list[StreamEvent] = []
    for line in [*text.splitlines(), None]:
        sse = decoder.flush() if line is None else decoder.feed(line)
        event = StreamEvent.from_sse(sse) if sse is not None else None
        if event is not None:
            out.append(event)
    return out


def test_decoder_handles_comments_multiline_data_event_names_and_done() -> None:
    text = (
        ": keep-alive\n"
        "event: response.brand_new_thing\n"
        'data: {"type": "response.brand_new_thing",\n'
        'data: "x": 1}\n'
        "\n"
        "event: ping\n"
        'data:{"no_type": true}\n'
        "\n"
        "data: [DONE]\n"
        "\n"
        'data: {"type": "tail"}'
    )
    events = decode(text)
    assert [e.type for e in events] == ["response.brand_new_thing", "ping", "tail"]
    assert events[0].data == {"type": "response.brand_new_thing", "x": 1}


@pytest.mark.parametrize("data", ["{not json", "[1, 2]"])
def test_decoder_rejects_non_object_data(data: str) -> None:
    with pytest.raises(MalformedResponseError):
        decode(f"data: {data}\n\n")


def test_tracker_requires_a_terminal_event() -> None:
    tracker = StreamTracker()
    tracker.observe(StreamEvent("response.created", {"type": "response.created"}))
    with pytest.raises(StreamError, match=r"after 1 event\(s\)"):
        tracker.finish()
    with pytest.raises(MalformedResponseError):
        tracker.observe(StreamEvent("response.completed", {"response": json.dumps({})}))
