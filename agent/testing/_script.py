"""Scripts for the scripted Responses server: turns, faults and helpers to write them.

A script is a list of turns, consumed in order, one per `POST /responses`
request that passes validation (auth, JSON, protocol checks); `GET` and
`cancel` never consume turns. A turn is a dict, as in a JSON script file:

    {"output": [item, ...]}                  a response; optional "usage", "status",
                                             "incomplete_details", "error", "model"
    {"fault": "http", "status": 429, "body": {...} | "text", "retry_after": 2}
    {"fault": "delay", "seconds": 1.5}       stall: answer nothing for `seconds`, then
                                             close the connection (a client timeout fires)
    {"fault": "drop"}                        close the connection without a response
    {"fault": "drop_mid_body"}               send headers and half the body, then close
    {"fault": "malformed_json"}              200 with a body that is not JSON
    {"fault": "not_a_response"}              200 with valid JSON that is not a response
    {"fault": "truncated_sse"}               a stream that ends cleanly before its completion
                                             event (on a non-streamed request: drop_mid_body)
    {"fault": "stream_error", "message": "...", "code": "..."}
                                             a stream that sends an `error` event (non-streamed:
                                             HTTP 500 with that message)

Any turn may also carry `"delay": seconds` (wait that long, then serve the turn)
and `"repeat": n` (serve it for the next n requests; default 1).

A fault consumes its turn: a client that retries gets the *next* turn, so
`[{"fault": "http", "status": 503}, {"output": [...]}]` is "fail once, then
answer". `{"fault": "http", "status": 503, "repeat": 100}` fails persistently.

Items in "output" may omit ids: `computer_call` and `function_call` get `id`
and `call_id`, every item gets `status: "completed"` unless given, a message may
give its text as `"content": "text"`, a function_call's `arguments` may be a
dict (it is JSON-encoded). The helpers below write such turns from Python.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from agent._errors import ConfigurationError

__all__ = [
    "FAULT_KINDS",
    "Delay",
    "Drop",
    "DropMidBody",
    "Fault",
    "HTTPFault",
    "MalformedJSON",
    "NotAResponse",
    "Script",
    "StreamErrorFault",
    "TruncatedSSE",
    "computer_call",
    "function_call",
    "message",
    "reasoning",
    "safety_check",
    "turn",
]

FAULT_KINDS = (
    "http",
    "delay",
    "drop",
    "drop_mid_body",
    "malformed_json",
    "not_a_response",
    "truncated_sse",
    "stream_error",
)

OnExhausted = Literal["message", "error"]

_TURN_KEYS = frozenset(
    {"output", "usage", "status", "incomplete_details", "error", "model", "delay", "repeat"}
)
_FAULT_KEYS = frozenset(
    {"fault", "status", "body", "retry_after", "seconds", "message", "code", "delay", "repeat"}
)


@dataclass(frozen=True)
class Fault:
    """Base of the fault types; `to_turn()` gives the dict form used in JSON scripts."""

    kind: ClassVar[str] = ""
    repeat: int = field(default=1, kw_only=True)
    delay: float = field(default=0.0, kw_only=True)

    def _fields(self) -> dict[str, Any]:
        return {}

    def to_turn(self) -> dict[str, Any]:
        """The JSON form of this fault."""
        turn: dict[str, Any] = {"fault": self.kind, **self._fields()}
        if self.repeat != 1:
            turn["repeat"] = self.repeat
        if self.delay:
            turn["delay"] = self.delay
        return turn


@dataclass(frozen=True)
class HTTPFault(Fault):
    """Answer with an HTTP error status, a body (JSON object or text) and maybe Retry-After."""

    kind: ClassVar[str] = "http"
    status: int = 500
    body: Any = None
    retry_after: float | str | None = None

    def _fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.body is not None:
            out["body"] = self.body
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out


@dataclass(frozen=True)
class Delay(Fault):
    """Stall: send nothing for `seconds`, then close the connection."""

    kind: ClassVar[str] = "delay"
    seconds: float = 1.0

    def _fields(self) -> dict[str, Any]:
        return {"seconds": self.seconds}


@dataclass(frozen=True)
class Drop(Fault):
    """Close the connection without sending a response."""

    kind: ClassVar[str] = "drop"


@dataclass(frozen=True)
class DropMidBody(Fault):
    """Send the headers and half of the body, then close the connection."""

    kind: ClassVar[str] = "drop_mid_body"


@dataclass(frozen=True)
class MalformedJSON(Fault):
    """Answer 200 with a body that is not JSON."""

    kind: ClassVar[str] = "malformed_json"


@dataclass(frozen=True)
class NotAResponse(Fault):
    """Answer 200 with valid JSON that is not a response object."""

    kind: ClassVar[str] = "not_a_response"


@dataclass(frozen=True)
class TruncatedSSE(Fault):
    """End a stream cleanly before its completion event."""

    kind: ClassVar[str] = "truncated_sse"


@dataclass(frozen=True)
class StreamErrorFault(Fault):
    """Send an `error` event mid-stream (HTTP 500 when the request did not stream)."""

    kind: ClassVar[str] = "stream_error"
    message: str = "scripted stream error"
    code: str = "server_error"

    def _fields(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code}


TurnLike = Mapping[str, Any] | Fault


# -- helpers that write output items ---------------------------------------------


def message(text: str, *, role: str = "assistant") -> dict[str, Any]:
    """An assistant message item with one output_text part."""
    return {
        "type": "message",
        "role": role,
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def computer_call(
    action: str | Mapping[str, Any],
    *,
    call_id: str | None = None,
    id: str | None = None,
    safety_checks: Iterable[Mapping[str, Any]] = (),
    **fields: Any,
) -> dict[str, Any]:
    """A computer_call item: `computer_call("click", x=10, y=20)` or with an action dict."""
    act = {"type": action, **fields} if isinstance(action, str) else {**action, **fields}
    item: dict[str, Any] = {
        "type": "computer_call",
        "action": act,
        "pending_safety_checks": [dict(c) for c in safety_checks],
    }
    if call_id is not None:
        item["call_id"] = call_id
    if id is not None:
        item["id"] = id
    return item


def function_call(
    name: str, arguments: Mapping[str, Any] | str = "{}", *, call_id: str | None = None
) -> dict[str, Any]:
    """A function_call item; `arguments` may be a dict (JSON-encoded for you)."""
    args = arguments if isinstance(arguments, str) else json.dumps(dict(arguments))
    item: dict[str, Any] = {"type": "function_call", "name": name, "arguments": args}
    if call_id is not None:
        item["call_id"] = call_id
    return item


def reasoning(summary: str) -> dict[str, Any]:
    """A reasoning item with one summary_text."""
    return {"type": "reasoning", "summary": [{"type": "summary_text", "text": summary}]}


def safety_check(code: str, message: str = "", *, id: str | None = None) -> dict[str, Any]:
    """A pending safety check for `computer_call(..., safety_checks=[...])`."""
    return {"id": id or f"sc_{code}", "code": code, "message": message or code}


def turn(
    *items: Mapping[str, Any],
    usage: Mapping[str, int] | None = None,
    status: str | None = None,
    delay: float = 0.0,
    repeat: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    """A response turn from output items (`turn(computer_call("screenshot"))`)."""
    t: dict[str, Any] = {"output": [dict(i) for i in items], **extra}
    if usage is not None:
        t["usage"] = dict(usage)
    if status is not None:
        t["status"] = status
    if delay:
        t["delay"] = delay
    if repeat != 1:
        t["repeat"] = repeat
    return t


# -- the script ------------------------------------------------------------------


def _check_turn(index: int, raw: TurnLike) -> dict[str, Any]:
    where = f"script turn {index}"
    if isinstance(raw, Fault):
        raw = raw.to_turn()
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"{where}: expected an object, got {type(raw).__name__}")
    t = dict(raw)
    if "fault" in t:
        kind = t["fault"]
        if kind not in FAULT_KINDS:
            raise ConfigurationError(
                f"{where}: unknown fault {kind!r}; use one of {', '.join(FAULT_KINDS)}"
            )
        unknown = set(t) - _FAULT_KEYS
        if kind == "http":
            status = t.get("status")
            if not isinstance(status, int) or not 400 <= status <= 599:
                raise ConfigurationError(f"{where}: an http fault needs 'status' in 400..599")
        if kind == "delay" and not isinstance(t.get("seconds"), (int, float)):
            raise ConfigurationError(f"{where}: a delay fault needs 'seconds' (a number)")
    elif "output" in t:
        if not isinstance(t["output"], list) or not all(isinstance(i, dict) for i in t["output"]):
            raise ConfigurationError(f"{where}: 'output' must be a list of item objects")
        unknown = set(t) - _TURN_KEYS
    else:
        raise ConfigurationError(f"{where}: a turn needs 'output' (a response) or 'fault'")
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {sorted(unknown)}")
    repeat = t.get("repeat", 1)
    if not isinstance(repeat, int) or repeat < 1:
        raise ConfigurationError(f"{where}: 'repeat' must be an integer >= 1")
    delay = t.get("delay", 0)
    if not isinstance(delay, (int, float)) or delay < 0:
        raise ConfigurationError(f"{where}: 'delay' must be a number of seconds >= 0")
    return t


class Script:
    """An ordered list of turns, consumed one per accepted `POST /responses` (thread-safe).

    When the turns run out, `on_exhausted="message"` (the default) answers a
    completed response holding one assistant message "script exhausted" (an agent
    loop then ends cleanly and `exhausted_requests` counts it); "error" answers
    HTTP 500 instead.
    """

    def __init__(self, turns: Iterable[TurnLike], *, on_exhausted: OnExhausted = "message") -> None:
        if on_exhausted not in ("message", "error"):
            raise ConfigurationError("on_exhausted must be 'message' or 'error'")
        self.turns: list[dict[str, Any]] = [_check_turn(i, t) for i, t in enumerate(turns)]
        self.on_exhausted: OnExhausted = on_exhausted
        self.exhausted_requests = 0
        self._index = 0
        self._served_of_current = 0
        self._lock = threading.Lock()

    @classmethod
    def from_json(cls, text: str) -> Script:
        """A script from JSON: a list of turns, or {"turns": [...], "on_exhausted": ...}.

        A script file (``screenloop serve-script``) that runs out answers an error
        unless it says ``"on_exhausted": "message"``: a run that outlives its
        script must not end "completed" with exit status 0.
        """
        data = json.loads(text)
        if isinstance(data, dict):
            return cls(data.get("turns", []), on_exhausted=data.get("on_exhausted", "error"))
        if not isinstance(data, list):
            raise ConfigurationError("a script file holds a list of turns or {'turns': [...]}")
        return cls(data, on_exhausted="error")

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Script:
        """Load a JSON script file."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read script {os.fspath(path)!r}: {exc}") from exc
        try:
            return cls.from_json(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(
                f"script {os.fspath(path)!r} is not valid JSON: {exc.msg} at line {exc.lineno}"
            ) from exc

    @classmethod
    def coerce(cls, script: Script | Iterable[TurnLike] | str | os.PathLike[str]) -> Script:
        """Accept a Script, a list of turns, or the path of a JSON file."""
        if isinstance(script, Script):
            return script
        if isinstance(script, (str, os.PathLike)):
            return cls.from_file(script)
        return cls(script)

    def next_turn(self) -> tuple[int, dict[str, Any]] | None:
        """Consume one serving: (turn index, a deep copy of the turn), or None when exhausted."""
        with self._lock:
            if self._index >= len(self.turns):
                self.exhausted_requests += 1
                return None
            index = self._index
            t = self.turns[index]
            self._served_of_current += 1
            if self._served_of_current >= t.get("repeat", 1):
                self._index += 1
                self._served_of_current = 0
            return index, copy.deepcopy(t)

    @property
    def remaining(self) -> int:
        """Turns not yet fully consumed."""
        with self._lock:
            return len(self.turns) - self._index

    def __len__(self) -> int:
        return len(self.turns)
