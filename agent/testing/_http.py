"""The scripted server's HTTP plumbing: a threaded server and a handler that writes raw.

The handler sets TCP_NODELAY (see ENVIRONMENT.md's 40 ms Nagle stall), hands
every request to the server's `on_request` callback and writes answers by hand
(plain, chunked, or cut off mid-body), so faults can break the protocol on
purpose. `on_connection` hears of each connection opening and closing, so the
owner can cut them all on close.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Handler", "WireServer"]

logger = logging.getLogger(__name__)


class WireServer(ThreadingHTTPServer):
    """A threaded HTTP server whose requests go to `on_request(handler, method)`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        on_request: Callable[[Handler, str], None],
        on_connection: Callable[[socket.socket, bool], None],
    ) -> None:
        self.on_request = on_request
        self.on_connection = on_connection
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints tracebacks to stderr; a client hanging up (after a
        # stream's completion event, or on a timeout) is normal here.
        logger.debug(
            "scripted server: connection from %s ended with an error", client_address, exc_info=True
        )


class Handler(BaseHTTPRequestHandler):
    """One connection: reads requests for the server's callback, writes answers raw."""

    protocol_version = "HTTP/1.1"
    server_version = "ScriptedResponses/1"
    timeout = 30  # an idle keep-alive connection is closed after this many seconds
    server: WireServer

    def setup(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()
        self.server.on_connection(self.request, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.on_connection(self.request, False)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("scripted server: " + format, *args)

    def do_GET(self) -> None:
        self.server.on_request(self, "GET")

    def do_POST(self) -> None:
        self.server.on_request(self, "POST")

    def do_DELETE(self) -> None:
        self.server.on_request(self, "DELETE")

    # -- writing ---------------------------------------------------------------

    def send_bytes(
        self, status: int, payload: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> None:
        """Write a complete answer with a Content-Length."""
        head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}"]
        head += [
            f"Content-Type: {content_type}",
            f"Content-Length: {len(payload)}",
            f"Date: {self.date_time_string()}",
        ]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)

    def send_json(self, status: int, obj: Any, extra: dict[str, str] | None = None) -> None:
        """Write `obj` as a JSON answer."""
        self.send_bytes(status, json.dumps(obj).encode(), "application/json", extra)

    def start_chunked(self, content_type: str) -> None:
        """Start a chunked 200 answer."""
        head = [
            "HTTP/1.1 200 OK",
            f"Content-Type: {content_type}",
            "Cache-Control: no-cache",
            "Transfer-Encoding: chunked",
            f"Date: {self.date_time_string()}",
        ]
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))

    def write_chunk(self, data: bytes) -> None:
        """Write one chunk."""
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def end_chunked(self) -> None:
        """Write the last, empty chunk."""
        self.wfile.write(b"0\r\n\r\n")

    def drop(self) -> None:
        """Cut the connection without a (complete) answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.request.shutdown(socket.SHUT_RDWR)
