"""The scripted Responses server: a real HTTP server on 127.0.0.1 that plays a script.

    with ScriptedResponsesServer([turn(message("hi"))]) as srv:
        client = ResponsesClient(base_url=srv.base_url, api_key="test")
        ...
        assert srv.requests[0].body["model"] == "m"

It listens on an ephemeral port in a background thread (one thread per
connection, TCP_NODELAY set: see ENVIRONMENT.md's 40 ms Nagle stall), accepts
`/v1/responses` and `/responses`, and answers:

- `POST /responses`: checks auth (when `require_api_key` is set), the JSON body,
  `previous_response_id` (unknown -> 404), the tool declaration for the dialect
  and the call outputs (-> 400, see `_checks`), then consumes the next turn of
  the script (see `_script`) and serves it, as JSON or as SSE when the body has
  `stream: true`. Responses are stored unless the body says `store: false`.
- `GET /responses/{id}`: a stored response, or 404.
- `POST /responses/{id}/cancel`: marks an in-progress (background) stored
  response `cancelled`; a finished one -> 400.

The HTTP plumbing is in `_http`, building responses and their SSE form in
`_responses`.

Every request is recorded in `requests` (body and headers, never the
Authorization header) before it is answered.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

from agent._errors import ConfigurationError
from agent.testing._http import Handler, WireServer
from agent.testing._protocol_checks import (
    Dialect,
    Rejection,
    check_call_outputs,
    check_messages,
    check_tools,
    input_items,
)
from agent.testing._responses import ResponseBuilder, sse_bytes, sse_events
from agent.testing._script import Script, TurnLike, message

__all__ = ["RecordedRequest", "ScriptedResponsesServer"]

logger = logging.getLogger(__name__)


@dataclass
class RecordedRequest:
    """One request the server received, and what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    """Lower-cased header names; the Authorization header is never recorded."""
    body: Any = None
    """The parsed JSON body (None for no body; the raw text if it was not JSON)."""
    status: int | None = None
    """The HTTP status answered (None when the connection was dropped)."""
    response_id: str | None = None
    turn_index: int | None = None
    fault: str | None = None
    computer_tool_type: str | None = None
    """The computer tool type the request declared (`computer_use`, ...), if any."""
    output_image_types: list[str] = field(default_factory=list)
    """`output.type` of each computer_call_output in the input."""
    error: str | None = None
    """The error message sent, for 4xx/5xx answers."""


class ScriptedResponsesServer:
    """A Responses API server that plays a script of turns and faults, for tests.

    `script` is a `Script`, a list of turns (dicts, or fault objects), or the path
    of a JSON script file. `dialect` is "lightcone" (computer tool `computer_use`
    or `computer_use_preview`) or "openai" (`computer_use_preview`); both take
    screenshots as `input_image` (Lightcone's examples) or `computer_screenshot`
    (the official SDK's type). With `require_api_key`, a request whose bearer token differs
    gets 401. `port=0` picks a free port. Start and stop it as a context manager
    (`with` or `async with`), or with `start()` / `close()`.
    """

    def __init__(
        self,
        script: Script | Iterable[TurnLike] | str | PathLike[str] = (),
        *,
        dialect: Dialect = "lightcone",
        host: str = "127.0.0.1",
        port: int = 0,
        require_api_key: str | None = None,
        model: str = "scripted-model",
    ) -> None:
        if dialect not in ("lightcone", "openai"):
            raise ConfigurationError(f"dialect must be 'lightcone' or 'openai', got {dialect!r}")
        self.script = Script.coerce(script)
        self.dialect: Dialect = dialect
        self.model = model
        self._require_api_key = require_api_key
        self._host = host
        self._port = port
        self.requests: list[RecordedRequest] = []
        self.responses: dict[str, dict[str, Any]] = {}
        """Stored responses by id (those created without `store: false`)."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._builder = ResponseBuilder()
        self._sockets: set[socket.socket] = set()
        self._httpd: WireServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------

    def __repr__(self) -> str:
        state = self.base_url if self._httpd else "not started"
        return (
            f"ScriptedResponsesServer({state}, dialect={self.dialect!r}, turns={len(self.script)})"
        )

    @property
    def port(self) -> int:
        """The port it listens on (after start)."""
        if self._httpd is None:
            raise ConfigurationError("the server is not started; use it as a context manager")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The base URL to give a client, ending in /v1."""
        return f"http://{self._host}:{self.port}/v1"

    @property
    def origin(self) -> str:
        """The base URL in the official SDK's form (it appends /v1/responses):
        ``LIGHTCONE_BASE_URL`` or ``Lightcone(base_url=...)``; screenloop reads it too."""
        return f"http://{self._host}:{self.port}"

    def start(self) -> ScriptedResponsesServer:
        """Bind and start serving in a background thread."""
        if self._httpd is not None:
            return self
        httpd = WireServer(
            (self._host, self._port), on_request=self._handle, on_connection=self._track
        )
        self._httpd = httpd
        self._stop.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"scripted-responses:{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.debug("scripted Responses server listening on %s", self.base_url)
        return self

    def close(self) -> None:
        """Stop serving, cut open connections and stalls short, and free the port."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stop.set()
        httpd.shutdown()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ScriptedResponsesServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> ScriptedResponsesServer:
        return self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def _track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._sockets.add(sock)
            else:
                self._sockets.discard(sock)

    # -- dispatch ------------------------------------------------------------------

    def _handle(self, h: Handler, method: str) -> None:
        path = h.path.split("?", 1)[0].rstrip("/")
        if path.startswith("/v1/"):
            path = path[3:]
        headers = {k.lower(): v for k, v in h.headers.items() if k.lower() != "authorization"}
        rec = RecordedRequest(method=method, path=h.path, headers=headers)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        if raw:
            try:
                rec.body = json.loads(raw)
            except ValueError:
                rec.body = raw.decode("utf-8", "replace")
        with self._lock:
            self.requests.append(rec)
        if self._require_api_key is not None:
            auth = h.headers.get("Authorization", "")
            if auth != f"Bearer {self._require_api_key}":
                self._reject(
                    h,
                    rec,
                    Rejection(
                        401,
                        "Incorrect API key provided. Check the key you passed.",
                        code="invalid_api_key",
                    ),
                )
                return
        parts = path.strip("/").split("/")
        if parts[0] != "responses" or len(parts) > 3:
            self._reject(h, rec, Rejection(404, f"Unknown path {h.path!r}.", code="not_found"))
            return
        if method == "POST" and len(parts) == 1:
            self._create(h, rec)
        elif method == "GET" and len(parts) == 2:
            self._retrieve(h, rec, parts[1])
        elif method == "POST" and len(parts) == 3 and parts[2] == "cancel":
            self._cancel(h, rec, parts[1])
        else:
            self._reject(
                h, rec, Rejection(404, f"No route for {method} {h.path!r}.", code="not_found")
            )

    def _reject(self, h: Handler, rec: RecordedRequest, rej: Rejection) -> None:
        rec.status = rej.status
        rec.error = rej.message
        h.send_json(rej.status, rej.body())

    def _answer(self, h: Handler, rec: RecordedRequest, status: int, obj: Any) -> None:
        rec.status = status
        h.send_json(status, obj)

    def _retrieve(self, h: Handler, rec: RecordedRequest, response_id: str) -> None:
        with self._lock:
            stored = copy.deepcopy(self.responses.get(response_id))
        if stored is None:
            self._reject(h, rec, _not_found(response_id))
            return
        rec.response_id = response_id
        self._answer(h, rec, 200, stored)

    def _cancel(self, h: Handler, rec: RecordedRequest, response_id: str) -> None:
        with self._lock:
            stored = self.responses.get(response_id)
            if stored is not None and stored.get("status") in ("queued", "in_progress"):
                stored["status"] = "cancelled"
            snapshot = copy.deepcopy(stored)
        if snapshot is None:
            self._reject(h, rec, _not_found(response_id))
            return
        rec.response_id = response_id
        if snapshot.get("status") != "cancelled":
            self._reject(
                h,
                rec,
                Rejection(
                    400,
                    f"Cannot cancel response {response_id!r}: its status is "
                    f"{snapshot.get('status')!r}; only queued or in-progress (background) "
                    "responses can be cancelled.",
                ),
            )
            return
        self._answer(h, rec, 200, snapshot)

    def _create(self, h: Handler, rec: RecordedRequest) -> None:
        body = rec.body
        if not isinstance(body, dict):
            self._reject(h, rec, Rejection(400, "The request body must be a JSON object."))
            return
        rejection = self._validate(body, rec)
        if rejection is not None:
            self._reject(h, rec, rejection)
            return
        nxt = self.script.next_turn()
        if nxt is None:
            logger.warning(
                "scripted server: script exhausted; answering %s", self.script.on_exhausted
            )
            if self.script.on_exhausted == "error":
                self._reject(
                    h,
                    rec,
                    Rejection(
                        500,
                        f"Scripted server: the script ran out after {len(self.script)} turn(s).",
                        code="script_exhausted",
                    ),
                )
                return
            t: dict[str, Any] = {"output": [message("script exhausted")]}
        else:
            rec.turn_index, t = nxt
        delay = float(t.get("delay", 0))
        if delay and self._stop.wait(delay):
            h.drop()
            return
        stream = body.get("stream") is True
        if "fault" in t:
            rec.fault = t["fault"]
            self._fault(h, rec, t, body, stream)
            return
        response = self._builder.build(t, body, model=self.model)
        rec.response_id = response["id"]
        if body.get("store", True) is not False:
            with self._lock:
                self.responses[response["id"]] = copy.deepcopy(response)
        if stream:
            rec.status = 200
            self._stream(h, response)
        else:
            self._answer(h, rec, 200, response)

    def _validate(self, body: dict[str, Any], rec: RecordedRequest) -> Rejection | None:
        if "input" not in body and not body.get("previous_response_id"):
            return Rejection(400, "Missing required parameter: 'input'.", "input")
        tool_type, rejection = check_tools(body, self.dialect)
        rec.computer_tool_type = tool_type
        if rejection is not None:
            return rejection
        previous_output: list[dict[str, Any]] = []
        prev_id = body.get("previous_response_id")
        if prev_id is not None:
            with self._lock:
                prev = copy.deepcopy(self.responses.get(str(prev_id)))
            if prev is None:
                return Rejection(
                    404,
                    f"Previous response with id {prev_id!r} not found (was it created with "
                    "store: false?).",
                    "previous_response_id",
                    "previous_response_not_found",
                )
            previous_output = [i for i in prev.get("output", []) if isinstance(i, dict)]
        image_types, rejection = check_call_outputs(
            input_items(body), previous_output, self.dialect
        )
        rec.output_image_types = image_types
        return rejection or check_messages(input_items(body), previous_output)

    # -- faults --------------------------------------------------------------------

    def _fault(
        self,
        h: Handler,
        rec: RecordedRequest,
        t: dict[str, Any],
        body: dict[str, Any],
        stream: bool,
    ) -> None:
        kind = t["fault"]
        if kind == "http":
            status = int(t["status"])
            extra: dict[str, str] = {}
            if t.get("retry_after") is not None:
                extra["Retry-After"] = str(t["retry_after"])
            rec.status = status
            payload = t.get("body")
            if payload is None:
                payload = {
                    "error": {
                        "message": f"Scripted HTTP {status}.",
                        "type": "scripted_error",
                        "code": str(status),
                    }
                }
            if isinstance(payload, str):
                rec.error = payload
                h.send_bytes(status, payload.encode(), "text/plain; charset=utf-8", extra)
            else:
                h.send_json(status, payload, extra)
        elif kind == "delay":
            self._stop.wait(float(t["seconds"]))
            h.drop()
        elif kind == "drop":
            h.drop()
        elif kind == "malformed_json":
            rec.status = 200
            if stream:
                h.start_chunked("text/event-stream")
                h.write_chunk(b'event: response.created\ndata: {"type": "response.created", \n\n')
                h.end_chunked()
            else:
                h.send_bytes(200, b'{"id": "resp_bad", "output": [', "application/json")
        elif kind == "not_a_response":
            rec.status = 200
            h.send_json(200, {"object": "list", "data": [], "note": "not a response"})
        elif kind == "stream_error" and not stream:
            self._reject(h, rec, Rejection(500, str(t.get("message")), code=str(t.get("code"))))
        elif kind in ("drop_mid_body", "truncated_sse", "stream_error"):
            response = self._builder.build({"output": [message("partial")]}, body, model=self.model)
            if stream:
                rec.status = 200
                events = sse_events(response)
                h.start_chunked("text/event-stream")
                for name, data in events[:3]:
                    h.write_chunk(sse_bytes(name, data))
                if kind == "stream_error":
                    err = {"type": "error", "code": t.get("code"), "message": t.get("message")}
                    h.write_chunk(sse_bytes("error", err))
                    h.end_chunked()
                elif kind == "truncated_sse":
                    h.end_chunked()  # a clean end, just without response.completed
                h.drop()
            else:
                rec.status = 200
                payload = json.dumps(response).encode()
                half = payload[: len(payload) // 2]
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n"
                )
                h.wfile.write(head.encode("latin-1") + half)
                h.drop()

    def _stream(self, h: Handler, response: dict[str, Any]) -> None:
        h.start_chunked("text/event-stream")
        for name, data in sse_events(response):
            h.write_chunk(sse_bytes(name, data))
        h.end_chunked()


def _not_found(response_id: str) -> Rejection:
    return Rejection(
        404,
        f"Response with id {response_id!r} not found (responses created with store: false "
        "are not kept).",
        code="not_found",
    )
