"""PolicyProxy on its own: real sockets to real loopback servers, and Chromium pointed at it.

Every upstream server counts the TCP connections it accepts, so "the forbidden
host was never contacted" means zero connections, not just zero HTTP requests.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from sandbox import BlockedAttempt, DomainPolicy, PolicyProxy, chromium_args, find_chromium

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
BIG = bytes(range(256)) * 8192  # 2 MiB


class Upstream:
    """A threaded loopback HTTP server: counts connections, records paths, echoes
    POST bodies (their length and sha256), serves 2 MiB at /big, and answers a
    WebSocket upgrade at /ws by echoing one text frame."""

    def __init__(self, host: str) -> None:
        self.connections = 0
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.paths.append(self.path)
                if self.path == "/ws":
                    self._websocket()
                    return
                body = BIG if self.path == "/big" else f"hello {self.path}".encode()
                self._send(body)

            def do_POST(self) -> None:
                outer.paths.append(self.path)
                data = self.rfile.read(int(self.headers["Content-Length"]))
                self._send(f"{len(data)} {hashlib.sha256(data).hexdigest()}".encode())

            def _send(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

            def _websocket(self) -> None:
                key = self.headers["Sec-WebSocket-Key"]
                accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest())
                self.send_response(101)
                self.send_header("Upgrade", "websocket")
                self.send_header("Connection", "Upgrade")
                self.send_header("Sec-WebSocket-Accept", accept.decode())
                self.end_headers()
                self.wfile.flush()
                head = self.rfile.read(2)
                length = head[1] & 0x7F  # short text frames only (< 126 bytes)
                mask = self.rfile.read(4)
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(length)))
                self.wfile.write(bytes([0x81, len(payload)]) + payload)  # unmasked echo
                self.wfile.flush()
                self.rfile.read(2)  # wait for the client's close frame (or EOF)
                self.close_connection = True

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                outer.connections += 1
                return True

        self._server = Server((host, 0), Handler)
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://{self.host}:{self.port}{path}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def allowed() -> Iterator[Upstream]:
    server = Upstream("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture
def forbidden() -> Iterator[Upstream]:
    server = Upstream("127.0.0.2")
    yield server
    server.stop()


@pytest.fixture
def proxy() -> Iterator[tuple[PolicyProxy, list[BlockedAttempt]]]:
    seen: list[BlockedAttempt] = []
    with PolicyProxy(DomainPolicy(allow=["127.0.0.1"]), on_blocked=seen.append) as p:
        yield p, seen


def raw(proxy: PolicyProxy, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    sock.sendall(data)
    return sock


def read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_allowed_http_is_forwarded_with_streamed_bodies(proxy: Any, allowed: Upstream) -> None:
    p, seen = proxy
    upload = bytes(reversed(BIG))
    with httpx.Client(proxy=p.url, timeout=10) as client:
        assert client.get(allowed.url("/page?q=1")).text == "hello /page?q=1"
        assert client.get(allowed.url("/big")).content == BIG
        posted = client.post(allowed.url("/upload"), content=upload).text
    assert posted == f"{len(upload)} {hashlib.sha256(upload).hexdigest()}"
    # the upstream saw origin-form paths, not the absolute URIs the proxy received
    assert allowed.paths == ["/page?q=1", "/big", "/upload"]
    assert p.forwarded == 3
    assert seen == [] and p.blocked == []


def test_forbidden_http_gets_403_and_is_never_connected(
    proxy: Any, allowed: Upstream, forbidden: Upstream
) -> None:
    p, seen = proxy
    with httpx.Client(proxy=p.url, timeout=10) as client:
        response = client.get(forbidden.url("/secret"))
        posted = client.post(forbidden.url("/upload"), content=b"x" * 100_000)
    assert response.status_code == 403 and posted.status_code == 403
    assert "blocked by screenloop policy" in response.text
    assert forbidden.connections == 0 and forbidden.paths == []
    assert [(a.method, a.host, a.port) for a in seen] == [
        ("GET", "127.0.0.2", forbidden.port),
        ("POST", "127.0.0.2", forbidden.port),
    ]
    assert p.blocked == seen
    assert seen[0].target == forbidden.url("/secret")


def test_connect_tunnels_allowed_and_refuses_forbidden(
    proxy: Any, allowed: Upstream, forbidden: Upstream
) -> None:
    p, seen = proxy
    with raw(p, f"CONNECT 127.0.0.1:{allowed.port} HTTP/1.1\r\nHost: x\r\n\r\n".encode()) as sock:
        assert read_head(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /tunnelled HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_all(sock).endswith(b"hello /tunnelled")
    with raw(p, f"CONNECT 127.0.0.2:{forbidden.port} HTTP/1.1\r\nHost: x\r\n\r\n".encode()) as sock:
        assert read_all(sock).startswith(b"HTTP/1.1 403")
    assert forbidden.connections == 0
    assert [(a.method, a.target) for a in seen] == [("CONNECT", f"127.0.0.2:{forbidden.port}")]


@pytest.mark.parametrize(
    "request_line",
    [
        "GET http://127.2:{port}/x HTTP/1.1",  # the resolver would read 127.0.0.2
        "GET http://0x7f.0.0.2:{port}/x HTTP/1.1",
        "CONNECT 127.2:{port} HTTP/1.1",
        "CONNECT 2130706434:{port} HTTP/1.1",
    ],
)
def test_non_canonical_numeric_hosts_are_refused(forbidden: Upstream, request_line: str) -> None:
    with PolicyProxy(DomainPolicy(block=["127.0.0.2"])) as p:
        line = request_line.format(port=forbidden.port)
        with raw(p, f"{line}\r\nHost: x\r\n\r\n".encode()) as sock:
            assert read_all(sock).startswith(b"HTTP/1.1 403")
        assert len(p.blocked) == 1
    assert forbidden.connections == 0


def test_malformed_and_unreachable_targets(allowed: Upstream) -> None:
    with PolicyProxy(DomainPolicy(allow=["127.0.0.1"])) as p:
        with raw(p, b"nonsense\r\n\r\n") as sock:
            assert read_all(sock).startswith(b"HTTP/1.1 400")
        with raw(p, b"GET /relative HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
            assert read_all(sock).startswith(b"HTTP/1.1 400")
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()  # nothing listens there now
        with raw(p, f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode()) as sock:
            answer = read_all(sock)
        assert answer.startswith(b"HTTP/1.1 502") and b"could not reach" in answer
        assert p.blocked == []


def test_close_drops_open_tunnels(allowed: Upstream) -> None:
    p = PolicyProxy(DomainPolicy(allow=["127.0.0.1"]))
    p.start()
    sock = raw(p, f"CONNECT 127.0.0.1:{allowed.port} HTTP/1.1\r\n\r\n".encode())
    assert read_head(sock).startswith(b"HTTP/1.1 200")
    p.close()
    assert read_all(sock) == b""  # the tunnel was closed, not left dangling
    sock.close()
    p.close()  # idempotent
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", p.port), timeout=2)


# -- Chromium through the proxy alone (no Playwright routing) --------------------------

WS_JS = """u => new Promise(resolve => {
  const ws = new WebSocket(u);
  ws.onopen = () => ws.send('ping-through-proxy');
  ws.onmessage = e => { resolve('echo:' + e.data); ws.close() };
  ws.onerror = () => resolve('error');
  setTimeout(() => resolve('timeout'), 5000);
})"""


@pytest.mark.browser
async def test_chromium_through_the_proxy_alone(
    proxy: Any, allowed: Upstream, forbidden: Upstream
) -> None:
    """Loopback is not bypassed: 127.0.0.2 is refused by the proxy with no routing at all,
    and WebSockets (ws:// goes as CONNECT) pass or are refused by host."""
    from playwright.async_api import async_playwright

    p, seen = proxy
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(find_chromium()),
            args=chromium_args(),
            proxy={"server": p.url, "bypass": "<-loopback>"},
        )
        try:
            page = await browser.new_page()
            response = await page.goto(allowed.url("/start"))
            assert response is not None and response.status == 200
            assert await page.inner_text("body") == "hello /start"
            blocked = await page.goto(forbidden.url("/secret"))
            assert blocked is not None and blocked.status == 403
            assert "blocked by screenloop policy" in await page.inner_text("body")
            await page.goto(allowed.url("/start"))
            assert await page.evaluate(WS_JS, allowed.url("/ws", "ws")) == "echo:ping-through-proxy"
            assert await page.evaluate(WS_JS, forbidden.url("/ws", "ws")) == "error"
        finally:
            await browser.close()
    assert forbidden.connections == 0 and forbidden.paths == []
    assert "/ws" in allowed.paths and p.forwarded >= 3
    targets = {(a.method, a.host) for a in seen}
    assert ("GET", "127.0.0.2") in targets
    assert ("CONNECT", "127.0.0.2") in targets  # the ws:// attempt, tunnelled
