"""Shared helpers for the reliability and security suites.

`check_run_dir` is the "the record is complete and valid" assertion used after
every fault; `count_procs` counts processes by executable name (orphan checks);
`fast_client` is a client whose retry budget is small enough for tests;
`scripted_agent` is an `Agent` driving a computer for a scripted server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from agent import Agent, AsyncResponsesClient
from agent.testing import ScriptedResponsesServer
from executors import Computer

API_KEY = "sk-reliability-0123456789abcdef"
FINAL_STATUSES = {"completed", "max_steps", "timeout", "safety_denied", "cancelled", "error"}


def fast_client(base_url: str, **overrides: Any) -> AsyncResponsesClient:
    """A client with a short timeout and a small retry budget."""
    kwargs: dict[str, Any] = {
        "timeout": 1.0,
        "max_retries": 3,
        "retry_budget_s": 4.0,
        "backoff_base_s": 0.02,
        "backoff_max_s": 0.1,
    }
    kwargs.update(overrides)
    return AsyncResponsesClient(base_url=base_url, api_key=API_KEY, **kwargs)


def scripted_agent(
    computer: Computer, server: ScriptedResponsesServer, run_dir: Path, **kwargs: Any
) -> Agent:
    """An `Agent` on `computer` talking to `server`, pixel coordinates, recording `run_dir`."""
    kwargs.setdefault("api_key", API_KEY)
    kwargs.setdefault("coordinate_space", "pixels")
    return Agent(computer, base_url=server.base_url, run_dir=run_dir, **kwargs)


def _refs(obj: Any) -> list[str]:
    """Every screenshot path referenced inside a steps.jsonl object."""
    found: list[str] = []
    if isinstance(obj, dict):
        ref = obj.get("screenshot_ref")
        if isinstance(ref, str):
            found.append(ref)
        for value in obj.values():
            found += _refs(value)
    elif isinstance(obj, list):
        for value in obj:
            found += _refs(value)
    return found


def check_run_dir(run_dir: Path, status: str | None = None) -> tuple[dict[str, Any], list[dict]]:
    """Assert the run directory is complete and valid; returns (run.json, steps).

    run.json parses and holds a final status (the given one, if any);
    every steps.jsonl line parses; every referenced screenshot exists; no
    temporary run.json is left behind.
    """
    summary = json.loads((run_dir / "run.json").read_text())
    assert summary["schema_version"] == 1
    assert summary["status"] in FINAL_STATUSES, summary["status"]
    if status is not None:
        assert summary["status"] == status, (summary["status"], summary.get("error"))
    assert summary["ended_at"], "run.json was not finished"
    if summary["status"] == "error":
        assert summary["error"] and summary["error"]["type"], summary
    text = (run_dir / "steps.jsonl").read_text(encoding="utf-8")
    lines = text.split("\n")[:-1] if text else []
    assert not text or text.endswith("\n"), "steps.jsonl ends with a torn line"
    # the report and replay read with str.splitlines(): it must see the same lines
    assert len(text.splitlines()) == len(lines), "a line break character inside a line"
    steps = [json.loads(line) for line in lines]
    assert summary["steps"] == len(steps), (summary["steps"], len(steps))
    assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
    paths = [summary.get("initial_screenshot")]
    for s in steps:
        paths += [s.get("observed"), s.get("screenshot"), *_refs(s.get("request"))]
    for rel in paths:
        if rel is not None:
            assert (run_dir / rel).is_file(), f"{rel} is referenced but missing"
    assert not list(run_dir.glob(".run.*")), "a temporary run.json was left behind"
    return summary, steps


def count_procs(*names: str) -> dict[str, set[int]]:
    """Pids of live (non-zombie) processes whose executable basename is one of `names`."""
    found: dict[str, set[int]] = {n: set() for n in names}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            state = stat[stat.rindex(")") + 2]
        except (OSError, ValueError):
            continue
        if state == "Z":
            continue
        for name in names:
            if comm == name[:15]:
                found[name].add(int(entry))
    return found


def children_of(pid: int) -> set[int]:
    """Every live descendant of `pid`."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            rest = stat[stat.rindex(")") + 2 :].split()
        except (OSError, ValueError):
            continue
        if rest[0] != "Z":
            parents[int(entry)] = int(rest[1])
    out: set[int] = set()
    frontier = {pid}
    while frontier:
        nxt = {p for p, pp in parents.items() if pp in frontier} - out
        out |= nxt
        frontier = nxt
    return out


def alive(pids: list[int] | set[int]) -> list[int]:
    """The pids of `pids` that are still running (zombies count as gone)."""
    out = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] != "Z":
            out.append(pid)
    return out


class Site:
    """A loopback HTTP server with registered pages, hit counting and a path that never answers.

    `pages[path] = (content_type, body)`; `/redirect?to=URL` answers 302;
    `/hang` accepts the request and never answers (until `stop`). Every
    request's path is appended to `hits`.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        import socket
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlsplit

        self.pages: dict[str, tuple[str, str]] = {}
        self.hits: list[str] = []
        self._stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.hits.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                parts = urlsplit(self.path)
                if parts.path == "/hang":
                    outer._stop.wait(120)
                    self.close_connection = True
                    return
                if parts.path == "/redirect":
                    to = parse_qs(parts.query)["to"][0]
                    self._send(302, "text/plain", "", {"Location": to})
                    return
                ctype, body = outer.pages.get(parts.path, ("text/html", "<p>ok</p>"))
                self._send(200, ctype, body, {})

            do_POST = do_GET

            def _send(self, status: int, ctype: str, body: str, headers: dict[str, str]) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Access-Control-Allow-Origin", "*")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        """An absolute URL on this server."""
        return self.origin + path

    def __enter__(self) -> Site:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
