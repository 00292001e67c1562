"""A small asyncio HTTP/1.1 server: requests in, JSON (or bytes) out, connections kept alive.

Enough for the Computers API's JSON calls from the official SDK (httpx): a
request line, headers, a Content-Length body (no chunked uploads), and
answers with a Content-Length. Anything else is answered 400 and the
connection closed. Bodies are bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["HTTPRequest", "HTTPResponse", "HTTPServer"]

logger = logging.getLogger(__name__)

MAX_BODY = 4 * 1024 * 1024
MAX_HEADER_LINES = 100

_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass
class HTTPRequest:
    """One request as read off the wire."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON (an empty body is ``{}``); raises ValueError when it is not JSON."""
        if not self.body.strip():
            return {}
        return json.loads(self.body)


@dataclass
class HTTPResponse:
    """An answer: a JSON value, raw bytes with a content type, or nothing (204)."""

    status: int = 200
    json_body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self, keep_alive: bool) -> bytes:
        if self.raw is not None:
            body = self.raw
        elif self.status == 204:
            body = b""
        else:
            body = json.dumps(self.json_body).encode()
        head = [f"HTTP/1.1 {self.status} {_REASONS.get(self.status, 'Status')}"]
        if self.status != 204:
            head.append(f"Content-Type: {self.content_type}")
        head.append(f"Content-Length: {len(body)}")
        head.append("Connection: keep-alive" if keep_alive else "Connection: close")
        head += [f"{k}: {v}" for k, v in self.headers.items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


Handler = Callable[[HTTPRequest], Awaitable[HTTPResponse]]


async def _read_request(reader: asyncio.StreamReader) -> HTTPRequest | None:
    line = await reader.readline()
    if not line:
        return None
    try:
        method, target, _version = line.decode("latin-1").split()
    except ValueError:
        raise ValueError("bad request line") from None
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    else:
        raise ValueError("too many header lines")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ValueError("chunked request bodies are not supported")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise ValueError("bad Content-Length") from None
    if length < 0 or length > MAX_BODY:
        raise ValueError("request body too large")
    body = await reader.readexactly(length) if length else b""
    url = urlsplit(target)
    return HTTPRequest(method.upper(), url.path, parse_qs(url.query), headers, body)


async def _connection(
    handler: Handler, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            try:
                request = await _read_request(reader)
            except (ValueError, asyncio.IncompleteReadError) as exc:
                answer = HTTPResponse(400, {"error": {"message": str(exc)}})
                writer.write(answer.encode(keep_alive=False))
                await writer.drain()
                return
            if request is None:
                return
            try:
                answer = await handler(request)
            except Exception:
                logger.exception("serve-computers: %s %s failed", request.method, request.path)
                answer = HTTPResponse(500, {"error": {"message": "internal error"}})
            keep = request.headers.get("connection", "").lower() != "close"
            writer.write(answer.encode(keep_alive=keep))
            await writer.drain()
            if not keep:
                return
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


class HTTPServer:
    """`handler` served on host:port (0 picks a free port); `close` also ends open connections."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._on_connect, host, port)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await _connection(self._handler, reader, writer)
        finally:
            self._tasks.discard(task)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
