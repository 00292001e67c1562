"""`PolicyProxy`: a small HTTP forward proxy that enforces a `DomainPolicy`.

The browser executor routes every request of the browser it launches through
this proxy, as a backstop under its in-browser enforcement: requests that
Playwright's routing and CDP interception never see (a WebSocket opened by a
worker built from a ``blob:`` URL, anything a SharedWorker does) still have to
leave through here.

- Plain HTTP requests in absolute form (``GET http://host:port/path HTTP/1.1``)
  are checked with their full URL, rewritten to origin form and forwarded
  with ``Connection: close``; the response is streamed back as bytes and the
  client connection closed after it (one request per connection, no
  keep-alive). Bodies stream both ways.
- ``CONNECT host:port`` tunnels (Chromium's way to reach ``https://``, ``wss://``
  and also plain ``ws://`` through a proxy) are checked by host and port: the
  tunnel is allowed when the policy allows that host and port for any scheme
  a tunnel can carry (``https``, ``wss``, ``ws``). Scheme-specific rules are
  therefore enforced only by the executor's in-browser layer.
- A forbidden target gets ``403`` and is never connected to; every refusal is
  appended to `PolicyProxy.blocked` and passed to ``on_blocked``.
- A host that looks numeric but is not a canonical IP address (``127.1``,
  ``0x7f.1``) is refused: the resolver would turn it into an address the
  policy never saw.

The proxy runs its own asyncio loop in a daemon thread, so browser traffic
never waits on the caller's event loop. ``on_blocked`` is called on that
thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

from sandbox._policy import DomainPolicy, PolicyDecision

__all__ = ["BlockedAttempt", "PolicyProxy"]

logger = logging.getLogger(__name__)

_HEAD_LIMIT = 64 * 1024
_CHUNK = 64 * 1024
_TUNNEL_SCHEMES = ("https", "wss", "ws")
_DROPPED_HEADERS = frozenset({"proxy-connection", "proxy-authorization", "keep-alive"})


@dataclass(frozen=True)
class BlockedAttempt:
    """One request the proxy refused: ``target`` is the URL, or ``host:port`` for CONNECT."""

    method: str
    target: str
    host: str
    port: int
    reason: str


class _Refused(Exception):
    """A request to answer with `status` and close (internal)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _looks_numeric(host: str) -> bool:
    last = host.rstrip(".").rsplit(".", 1)[-1]
    if last.isdigit():
        return True
    return last.startswith("0x") and all(c in "0123456789abcdef" for c in last[2:])


def _split_authority(authority: str) -> tuple[str, int]:
    """``host:port`` / ``[v6]:port`` of a CONNECT request -> (host, port)."""
    if authority.startswith("["):
        end = authority.find("]")
        host, rest = authority[1:end], authority[end + 1 :]
        if end < 0 or not rest.startswith(":"):
            raise _Refused(400, f"bad CONNECT target {authority!r}")
        port_text = rest[1:]
    else:
        host, _, port_text = authority.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _Refused(400, f"bad CONNECT target {authority!r}")
    return host.lower(), int(port_text)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class PolicyProxy:
    """An HTTP forward proxy on 127.0.0.1 that refuses what `policy` forbids.

    Use as ``with PolicyProxy(policy) as proxy:`` (or `start` / `close`) and
    point a browser at `url`. `blocked` lists every refused attempt;
    `forwarded` counts requests and tunnels let through.
    """

    def __init__(
        self,
        policy: DomainPolicy,
        *,
        on_blocked: Callable[[BlockedAttempt], None] | None = None,
        host: str = "127.0.0.1",
        connect_timeout_s: float = 10.0,
        head_timeout_s: float = 30.0,
    ) -> None:
        self.policy = policy
        self.on_blocked = on_blocked
        self.host = host
        self.connect_timeout_s = connect_timeout_s
        self.head_timeout_s = head_timeout_s
        self.forwarded = 0
        self._blocked: list[BlockedAttempt] = []
        self._lock = threading.Lock()
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ----------------------------------------------------------------

    @property
    def port(self) -> int:
        """The ephemeral port the proxy listens on."""
        if self._port is None:
            raise RuntimeError("the proxy is not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, the value for a browser's proxy server setting."""
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def blocked(self) -> list[BlockedAttempt]:
        """A copy of every attempt refused so far."""
        with self._lock:
            return list(self._blocked)

    def __enter__(self) -> PolicyProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start listening (in a daemon thread); returns once the port is bound."""
        if self._thread is not None:
            return
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def serve() -> None:
            self._server = await asyncio.start_server(self._handle, self.host, 0, limit=_HEAD_LIMIT)
            self._port = self._server.sockets[0].getsockname()[1]

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(serve())
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="screenloop-policy-proxy", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        logger.debug("policy proxy listening on %s", self.url)

    def close(self) -> None:
        """Stop listening, drop every open connection and join the thread. Idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._thread = None

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            loop.stop()

        with contextlib.suppress(RuntimeError):  # the loop already ended
            asyncio.run_coroutine_threadsafe(shutdown(), loop)
        thread.join(10)

    # -- decisions ----------------------------------------------------------------

    def _check(self, urls: list[str], host: str) -> PolicyDecision:
        if _looks_numeric(host):
            try:
                ipaddress.ip_address(host)
            except ValueError:
                return PolicyDecision(False, f"non-canonical numeric host {host!r}")
        decision = PolicyDecision(False, "no URL to check")
        for url in urls:
            decision = self.policy.check(url)
            if decision.allowed:
                return decision
        return decision

    def _refuse(self, method: str, target: str, host: str, port: int, reason: str) -> None:
        attempt = BlockedAttempt(method, target, host, port, reason)
        logger.info("proxy blocked %s %s: %s", method, target, reason)
        with self._lock:
            self._blocked.append(attempt)
        if self.on_blocked is not None:
            try:
                self.on_blocked(attempt)
            except Exception:
                logger.exception("on_blocked callback failed")

    # -- connections --------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except _Refused as refused:
            await _answer(writer, refused.status, refused.reason)
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            logger.debug("proxy connection ended: %s", exc)
        except asyncio.CancelledError:
            # Only `close` cancels; ending quietly keeps asyncio's server callback,
            # which asks the task for its exception, from logging a traceback.
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.head_timeout_s)
        except asyncio.LimitOverrunError as exc:
            raise _Refused(431, "request head too large") from exc
        except asyncio.TimeoutError:
            return
        lines = head[:-4].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise _Refused(400, "malformed request line")
        method, target, _ = parts
        if method.upper() == "CONNECT":
            await self._tunnel(reader, writer, target)
        else:
            await self._forward(reader, writer, method, target, lines[1:])

    async def _tunnel(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, authority: str
    ) -> None:
        host, port = _split_authority(authority)
        urls = [f"{s}://{_url_host(host)}:{port}/" for s in _TUNNEL_SCHEMES]
        decision = self._check(urls, host)
        if not decision.allowed:
            self._refuse("CONNECT", authority, host, port, decision.reason)
            raise _Refused(403, f"blocked by screenloop policy: {decision.reason}")
        up_reader, up_writer = await self._connect(host, port)
        self.forwarded += 1
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await writer.drain()
        await _relay(reader, writer, up_reader, up_writer)

    async def _forward(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        method: str,
        target: str,
        header_lines: list[str],
    ) -> None:
        try:
            url = urlsplit(target)
            host = (url.hostname or "").lower()
            port = url.port or (443 if url.scheme in ("https", "wss") else 80)
        except ValueError as exc:
            raise _Refused(400, f"bad request target {target!r}") from exc
        if url.scheme not in ("http", "ws") or not host:
            raise _Refused(400, "only absolute http:// targets (or CONNECT) are proxied")
        decision = self._check([target], host)
        if not decision.allowed:
            self._refuse(method, target, host, port, decision.reason)
            raise _Refused(403, f"blocked by screenloop policy: {decision.reason}")
        headers: list[tuple[str, str]] = []
        upgrade = False
        for line in header_lines:
            name, sep, value = line.partition(":")
            if not sep:
                continue
            key = name.strip().lower()
            if key in _DROPPED_HEADERS:
                continue
            if key == "connection":
                upgrade = "upgrade" in value.lower()
                continue
            headers.append((name.strip(), value.strip()))
        if not any(k.lower() == "host" for k, _ in headers):
            headers.insert(0, ("Host", url.netloc.rpartition("@")[2]))
        headers.append(("Connection", "Upgrade" if upgrade else "close"))
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
        up_reader, up_writer = await self._connect(host, port)
        self.forwarded += 1
        up_writer.write(head.encode("latin-1") + b"\r\n")
        await _relay(reader, writer, up_reader, up_writer, close_after=not upgrade)

    async def _connect(
        self, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(
                asyncio.open_connection(host, port, limit=_CHUNK), self.connect_timeout_s
            )
        except (OSError, asyncio.TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            raise _Refused(
                502, f"screenloop proxy could not reach {host}:{port}: {reason}"
            ) from exc


async def _answer(writer: asyncio.StreamWriter, status: int, text: str) -> None:
    phrases = {400: "Bad Request", 403: "Forbidden", 431: "Request Header Fields Too Large"}
    body = (text + "\n").encode("utf-8", "replace")
    head = (
        f"HTTP/1.1 {status} {phrases.get(status, 'Bad Gateway')}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    with contextlib.suppress(ConnectionError, OSError):
        writer.write(head.encode("latin-1") + body)
        await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def _relay(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
    *,
    close_after: bool = False,
) -> None:
    """Copy bytes both ways until the upstream side is done; then close both.

    With `close_after`, the response head is rewritten to say ``Connection:
    close``: the proxy closes the client connection after one response, and a
    client that believed it could reuse it would fail its next request.
    """
    up = asyncio.ensure_future(_pipe(client_reader, up_writer))
    down: asyncio.Future[None] | None = None
    try:
        if close_after:
            try:
                head = await up_reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                head = exc.partial
            except asyncio.LimitOverrunError:
                head = b""  # an oversized head: relay it untouched
            else:
                head = _closing_head(head)
            if head:
                client_writer.write(head)
        down = asyncio.ensure_future(_pipe(up_reader, client_writer))
        await down  # the client half-closing (up ending) still waits for the answer
    finally:
        up.cancel()
        if down is not None:
            down.cancel()
        await asyncio.gather(up, *([down] if down is not None else []), return_exceptions=True)
        up_writer.close()
        with contextlib.suppress(Exception):
            await up_writer.wait_closed()


_HOP_HEADERS = (b"connection:", b"keep-alive:", b"proxy-connection:")


def _closing_head(head: bytes) -> bytes:
    """A response head with its connection headers replaced by ``Connection: close``."""
    lines = head[:-4].split(b"\r\n")
    kept = [lines[0]] + [ln for ln in lines[1:] if not ln.lower().startswith(_HOP_HEADERS)]
    return b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n"
