"""`WatchServer`: a page on 127.0.0.1 to watch and steer live runs.

    with WatchServer() as watch:              # or Agent(computer, watch=True)
        print(watch.url)                      # http://127.0.0.1:PORT/?t=TOKEN
        await Agent(computer, watch=watch).run(task)

The server is a registry of runs (`WatchedRun`): one page per run, the newest
at ``/``, and ``/runs`` lists them all (a batch shows many). It runs in a
daemon thread of its own (the stdlib's threading HTTP server), so it outlives
the event loop of a run: after a run ends the page still shows its final
status and serves its report, until the server is closed.

What makes it safe to leave open:

- it listens on 127.0.0.1 only;
- every request must carry the token (``?t=`` on GETs, the
  ``X-Screenloop-Token`` header on POSTs), compared in constant time;
- the Host header must name 127.0.0.1 or localhost with this port (DNS
  rebinding), and a POST's Origin, when present, this origin;
- no GET changes anything; controls are POSTs of JSON with the token header
  (a custom header: another origin cannot send it without a preflight, which
  is never allowed);
- a strict Content-Security-Policy: nothing remote, scripts and styles only
  with the page's nonce, no framing; no referrer (the token is in the URL);
- what it serves went through the run's redactor (secrets as placeholders,
  the API key never); request lines are not logged (they hold the token).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from agent._errors import ConfigurationError
from agent._watch._page import watch_page
from agent._watch._run import WatchedRun

if TYPE_CHECKING:
    from agent._run._loop import RunLoop

__all__ = ["TOKEN_HEADER", "WatchServer"]

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Screenloop-Token"  # noqa: S105 - a header name, not a secret
_MAX_BODY = 16 * 1024
_KEEPALIVE_S = 10.0
_SHOT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_REPORT_NONCE = re.compile(r"script-src 'nonce-([A-Za-z0-9_+/=-]{8,64})'")


class WatchServer:
    """Serves the watch page of every run registered with it (see the module doc)."""

    def __init__(self, port: int = 0, *, approval_timeout_s: float = 300.0) -> None:
        if not 0 <= int(port) <= 65535:
            raise ConfigurationError(f"the watch port must be 0..65535, got {port}")
        if not approval_timeout_s > 0:
            raise ConfigurationError("approval_timeout_s must be positive")
        self.requested_port = int(port)
        self.approval_timeout_s = approval_timeout_s
        self.token = secrets.token_urlsafe(24)
        self._runs: dict[str, WatchedRun] = {}
        self._lock = threading.Lock()
        self._first_run = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self.closing = False

    # -- lifetime -------------------------------------------------------------------------
    def start(self) -> WatchServer:
        """Listen on 127.0.0.1 (idempotent); returns self."""
        if self._httpd is not None:
            return self
        self.closing = False
        try:
            httpd = ThreadingHTTPServer(("127.0.0.1", self.requested_port), _Handler)
        except OSError as exc:
            raise ConfigurationError(
                f"the watch page cannot listen on 127.0.0.1:{self.requested_port}: {exc}"
            ) from None
        httpd.daemon_threads = True
        self._port = int(httpd.server_address[1])
        httpd.watch = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, name="screenloop-watch", daemon=True
        )
        self._thread.start()
        logger.info("watch page on %s", self.base_url)
        return self

    def close(self) -> None:
        """Stop serving (open pages keep what they show)."""
        self.closing = True
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.wake()
        self._first_run.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> WatchServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The port it listens (or listened) on, once started."""
        if self._port is None:
            raise ConfigurationError("the watch server is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/`` -- without the token (safe to record)."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def url(self) -> str:
        """The page's address with the token: give it only to who may steer the runs."""
        return f"{self.base_url}?t={self.token}"

    # -- the registry ---------------------------------------------------------------------
    def watch(self, loop: RunLoop, task: str) -> WatchedRun:
        """Register a run that is about to start; returns its hook."""
        self.start()
        with self._lock:
            run_id = f"r{len(self._runs) + 1}"
            run = WatchedRun(run_id, loop, task, approval_timeout_s=self.approval_timeout_s)
            self._runs[run_id] = run
        self._first_run.set()
        recorder_note = {"url": self.base_url, "run": run_id, "token": "not recorded"}

        def note() -> None:  # run.json says it was watched, never the token
            if loop.recorder is not None:
                loop.recorder.update(watch=recorder_note)

        run.on_start.append(note)
        return run

    def runs(self) -> list[WatchedRun]:
        """Every registered run, oldest first."""
        with self._lock:
            return list(self._runs.values())

    def first_run(self, wait_s: float) -> WatchedRun | None:
        """The newest run, waiting up to `wait_s` for one to be registered."""
        self._first_run.wait(wait_s)
        return self.get(None)

    def get(self, run_id: str | None) -> WatchedRun | None:
        """A run by id; the newest when `run_id` is None."""
        with self._lock:
            if run_id is None:
                return next(reversed(self._runs.values()), None)
            return self._runs.get(run_id)

    def token_ok(self, given: str | None) -> bool:
        """Constant-time comparison with the token."""
        return given is not None and hmac.compare_digest(
            given.encode("utf-8", "replace"), self.token.encode()
        )


class _Handler(BaseHTTPRequestHandler):
    server_version = "screenloop-watch"
    sys_version = ""

    @property
    def watch(self) -> WatchServer:
        return self.server.watch  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        """Never log request lines: they hold the token."""

    # -- checks ---------------------------------------------------------------------------
    def _origins(self) -> tuple[str, ...]:
        port = self.watch.port
        return (f"127.0.0.1:{port}", f"localhost:{port}")

    def _refused(self, post: bool) -> str | None:
        """Why the request is refused (None: it may go on)."""
        if self.headers.get("Host", "") not in self._origins():
            return "bad host"
        origin = self.headers.get("Origin")
        if origin is not None and origin not in tuple(f"http://{o}" for o in self._origins()):
            return "bad origin"
        if self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return "cross-site"
        query = parse_qs(urlsplit(self.path).query)
        token = self.headers.get(TOKEN_HEADER)
        if token is None and not post:
            token = next(iter(query.get("t") or ()), None)
        if not self.watch.token_ok(token):
            return "bad token"
        return None

    def _send(self, status: int, body: bytes, ctype: str, csp: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self._security_headers(csp)
        self.end_headers()
        self.wfile.write(body)

    def _security_headers(self, csp: str | None) -> None:
        self.send_header(
            "Content-Security-Policy",
            csp or "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
        )
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    # -- GET ------------------------------------------------------------------------------
    def do_GET(self) -> None:
        why = self._refused(post=False)
        if why is not None:
            self._error(403, why)
            return
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        run_id = next(iter(query.get("run") or ()), None)
        path = parts.path
        if path == "/":
            self._page(run_id)
        elif path == "/events":
            self._events(run_id)
        elif path == "/shot":
            self._shot(run_id, (query.get("n") or [""])[0])
        elif path == "/report":
            self._report(run_id)
        elif path == "/runs":
            self._json(200, {"runs": [r.summary() for r in self.watch.runs()]})
        else:
            self._error(404, "not found")

    def _page(self, run_id: str | None) -> None:
        run = self.watch.get(run_id)
        if run_id is not None and run is None:
            self._error(404, "no such run")
            return
        nonce = secrets.token_urlsafe(16)
        csp = (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        )
        page = watch_page(nonce, run.id if run else None, run.task if run else "")
        self._send(200, page.encode(), "text/html; charset=utf-8", csp)

    def _events(self, run_id: str | None) -> None:
        run = self.watch.get(run_id)
        if run is None and run_id is not None:
            self._error(404, "no such run")
            return
        try:
            since = int(self.headers.get("Last-Event-ID", "-1")) + 1
        except ValueError:
            since = 0
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self._security_headers(None)
        self.end_headers()
        try:
            while run is None and not self.watch.closing:  # the page came before the run
                run = self.watch.first_run(_KEEPALIVE_S)
                if run is None:
                    self.wfile.write(b": waiting for a run\n\n")
                    self.wfile.flush()
            while run is not None and not self.watch.closing:
                entries = run.entries(max(since, 0), _KEEPALIVE_S)
                if not entries and run.finished:
                    return  # asked from past the end: nothing more will come
                if not entries:
                    self.wfile.write(b": keep-alive\n\n")
                for entry in entries:
                    data = json.dumps(entry, separators=(",", ":"))
                    self.wfile.write(f"id: {entry['seq']}\ndata: {data}\n\n".encode())
                    since = entry["seq"] + 1
                self.wfile.flush()
                if entries and entries[-1]["kind"] == "finished":
                    return  # the log is complete; the page closes its stream
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return

    def _shot(self, run_id: str | None, n: str) -> None:
        run = self.watch.get(run_id)
        shot = run.shot(int(n)) if run is not None and n.isdigit() else None
        ctype = _SHOT_TYPES.get(shot.suffix.lower()) if shot is not None else None
        if shot is None or ctype is None:
            self._error(404, "no such screenshot")
            return
        try:
            body = shot.read_bytes()
        except OSError:
            self._error(404, "screenshot not readable")
            return
        self._send(200, body, ctype)

    def _report(self, run_id: str | None) -> None:
        run = self.watch.get(run_id)
        report = run.report if run is not None else None
        if report is None:
            self._error(404, "no report (yet)")
            return
        try:
            page = report.read_text(encoding="utf-8")
        except OSError:
            self._error(404, "report not readable")
            return
        # the report is self-contained: its own nonce'd script, inline styles, data: images
        match = _REPORT_NONCE.search(page)
        script = f"script-src 'nonce-{match.group(1)}'; " if match else ""
        csp = (
            f"default-src 'none'; {script}style-src 'unsafe-inline'; img-src data:; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
        self._send(200, page.encode(), "text/html; charset=utf-8", csp)

    # -- POST: the controls ---------------------------------------------------------------
    def do_POST(self) -> None:
        why = self._refused(post=True)
        if why is not None:
            self._error(403, why)
            return
        if urlsplit(self.path).path != "/control":
            self._error(404, "not found")
            return
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            self._error(415, "send JSON")
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 < length <= _MAX_BODY:
            self._error(413, "body too large or empty")
            return
        try:
            body = json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError):
            self._error(400, "not JSON")
            return
        if not isinstance(body, dict):
            self._error(400, "send a JSON object")
            return
        run = self.watch.get(str(body.get("run"))) if body.get("run") else None
        if run is None:
            self._error(404, "no such run")
            return
        status, reply = _control(run, body)
        self._json(status, reply)

    def do_PUT(self) -> None:
        self._error(405, "GET or POST")

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT


def _control(run: WatchedRun, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    action = body.get("action")
    if run.finished:
        return 409, {"error": f"the run has ended ({run.status})"}
    control = run.control
    if action == "pause":
        control.request_pause("watch")
    elif action == "resume":
        control.request_resume("watch")
    elif action == "stop":
        control.request_stop("watch")
    elif action == "message":
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return 400, {"error": "a message needs text"}
        control.send_message(text, "watch")
    elif action in ("acknowledge", "deny"):
        if not run.answer(str(body.get("id")), action == "acknowledge"):
            return 409, {"error": "no such safety check is waiting"}
    else:
        return 400, {"error": f"unknown action {action!r}"}
    return 200, {"ok": True, "action": action}
