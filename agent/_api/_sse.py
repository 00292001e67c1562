"""Server-sent events: a line decoder (per the WHATWG rules) and typed stream events.

Plain code fed line by line by both clients. The Responses API sends one JSON
object per event whose `type` names it (`response.created`,
`response.output_item.added`, ..., `response.completed`); types we do not know
are kept as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agent._errors import MalformedResponseError, StreamError

__all__ = [
    "TERMINAL_EVENT_TYPES",
    "SSEDecoder",
    "ServerSentEvent",
    "StreamEvent",
    "StreamTracker",
]

TERMINAL_EVENT_TYPES = frozenset({"response.completed", "response.failed", "response.incomplete"})


@dataclass(frozen=True)
class ServerSentEvent:
    """One raw event: its `event:` name, joined `data:` lines and `id:`."""

    data: str
    event: str | None = None
    id: str | None = None


@dataclass
class SSEDecoder:
    """Turns lines (without their line endings) into `ServerSentEvent`s."""

    _data: list[str] = field(default_factory=list)
    _event: str | None = None
    _id: str | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        """Take one line; returns an event when the line ends one (a blank line)."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment (keep-alive)
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        # "retry" and unknown fields are ignored, as the spec says.
        return None

    def flush(self) -> ServerSentEvent | None:
        """The event left when the stream ends without a final blank line."""
        return self._dispatch()

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            self._event = None
            return None
        sse = ServerSentEvent(data="\n".join(self._data), event=self._event, id=self._id)
        self._data = []
        self._event = None
        return sse


@dataclass(frozen=True)
class StreamEvent:
    """One event of a streamed response.

    `type` is the event's type (`response.output_item.done`, ...; unknown types are
    kept), `data` the whole JSON object the server sent.
    """

    type: str
    data: dict[str, Any]

    @property
    def sequence_number(self) -> int | None:
        """The server's sequence number, when it sends one."""
        value = self.data.get("sequence_number")
        return value if isinstance(value, int) else None

    @property
    def response(self) -> dict[str, Any] | None:
        """The response object carried by `response.*` lifecycle events."""
        value = self.data.get("response")
        return value if isinstance(value, dict) else None

    @property
    def item(self) -> dict[str, Any] | None:
        """The output item carried by `response.output_item.*` events."""
        value = self.data.get("item")
        return value if isinstance(value, dict) else None

    @classmethod
    def from_sse(cls, sse: ServerSentEvent) -> StreamEvent | None:
        """Decode a raw event; None for the `[DONE]` sentinel some servers send."""
        if sse.data.strip() == "[DONE]":
            return None
        try:
            data = json.loads(sse.data)
        except json.JSONDecodeError as exc:
            raise MalformedResponseError(
                f"a stream event's data is not JSON ({exc.msg} at {exc.pos}; starts with "
                f"{sse.data[:80]!r}); check that base_url points at a Responses API"
            ) from exc
        except RecursionError as exc:
            raise MalformedResponseError(
                "a stream event's data is nested too deeply to decode; "
                "check that base_url points at a Responses API"
            ) from exc
        if not isinstance(data, dict):
            raise MalformedResponseError(
                f"a stream event's data is {type(data).__name__}, not a JSON object; "
                "check that base_url points at a Responses API"
            )
        etype = data.get("type")
        if not isinstance(etype, str):
            etype = sse.event or "message"
        return cls(type=etype, data=data)


@dataclass
class StreamTracker:
    """Watches a stream's events for its end: a terminal event, or an `error` event."""

    final: dict[str, Any] | None = None
    events: int = 0
    last_type: str | None = None

    @property
    def done(self) -> bool:
        """True once a terminal event has been seen."""
        return self.final is not None

    def observe(self, event: StreamEvent) -> None:
        """Record one event; raises StreamError for an `error` event."""
        self.events += 1
        self.last_type = event.type
        if event.type == "error":
            err = event.data.get("error")
            source = err if isinstance(err, dict) else event.data
            message = source.get("message") or "no message"
            code = source.get("code")
            raise StreamError(
                f"the server reported an error mid-stream (code {code!r}): {message}. "
                "Retry the request; if it persists, try without stream=True"
            )
        if event.type in TERMINAL_EVENT_TYPES:
            response = event.response
            if response is None:
                raise MalformedResponseError(
                    f"stream event {event.type!r} carries no response object; "
                    "check that base_url points at a Responses API"
                )
            self.final = response

    def finish(self) -> dict[str, Any]:
        """The final response; raises StreamError if the stream ended without one."""
        if self.final is None:
            raise StreamError(
                f"the stream ended after {self.events} event(s) (last: {self.last_type!r}) "
                "without response.completed, response.failed or response.incomplete; "
                "the response is incomplete. Retry the request, or call retrieve() with "
                "the response id if the server stored it"
            )
        return self.final
