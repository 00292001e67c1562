"""A loopback HTTP server for the browser tests (see conftest.py)."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PAGES = Path(__file__).resolve().parent.parent / "pages"


class LoopbackServer:
    """A threaded HTTP server on a loopback address that records every hit."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.pages: dict[str, str] = {}
        self.hits: list[str] = []
        # /hang never answers: its requests stay open until `stop` (counted in `hanging`)
        self.hanging = 0
        self._release = threading.Event()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Access-Control-Allow-Origin", "*")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self) -> None:
                with outer._lock:
                    outer.hits.append(self.path)
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/hang":
                    with outer._lock:
                        outer.hanging += 1
                    outer._release.wait()
                    return
                if parts.path == "/redirect":
                    self._send(302, b"", "text/plain", {"Location": query["to"]})
                elif parts.path == "/slow":
                    time.sleep(int(query.get("ms", "300")) / 1000)
                    if "colour" in query:  # a slow document: a page in that colour
                        html = f"<body style='margin:0;background:#{query['colour']}'>slow</body>"
                        self._send(200, html.encode(), "text/html", {})
                    else:
                        self._send(200, b"slow", "text/plain", {})
                elif parts.path == "/trickle":  # a registered page in two parts, `ms` apart
                    head, _, tail = outer.pages[query["path"]].encode().partition(b"<!--rest-->")
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(head) + len(tail)))
                    self.send_header("Cache-Control", "no-store")
                    self.end_headers()
                    self.wfile.write(head)
                    self.wfile.flush()
                    time.sleep(int(query.get("ms", "300")) / 1000)
                    self.wfile.write(tail)
                elif parts.path == "/download":  # an attachment of `size` bytes
                    name, size = query.get("name", "file.bin"), int(query.get("size", "100"))
                    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
                    self._send(200, b"x" * size, "application/octet-stream", disposition)
                elif parts.path in outer.pages:
                    self._send(
                        200, outer.pages[parts.path].encode(), "text/html; charset=utf-8", {}
                    )
                elif (PAGES / parts.path.lstrip("/")).is_file() and ".." not in parts.path:
                    body = (PAGES / parts.path.lstrip("/")).read_bytes()
                    self._send(200, body, "text/html; charset=utf-8", {})
                else:
                    self._send(200, b"<html><body>ok</body></html>", "text/html", {})

            do_POST = do_GET
            do_HEAD = do_GET

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
