"""Shared pieces of the benchmarks: statistics, tables, the scripted server in its own
process, a timing HTTP client, lockstep interleaving, process-tree RSS, a page server.

Nothing here asserts anything about speed; it measures and reports.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from agent._events import AgentHooks, StepStarted

__all__ = [
    "Baton",
    "BatonHooks",
    "CallTiming",
    "PageServer",
    "RssSampler",
    "ServerProcess",
    "TimedClient",
    "log",
    "md_table",
    "spread",
    "tree_pids",
    "tree_pss_bytes",
    "tree_rss_bytes",
]

BENCH_API_KEY = "sk-bench-0000"


def log(message: str) -> None:
    """Progress goes to stderr (stdout carries the tables)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- statistics ---------------------------------------------------------------


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def spread(values: Iterable[float]) -> dict[str, float]:
    """n, median, p10, p90, q1, q3 of `values` (same unit in, same unit out)."""
    data = sorted(values)
    if not data:
        return {"n": 0, "median": float("nan"), "p10": float("nan"), "p90": float("nan")}
    return {
        "n": len(data),
        "median": statistics.median(data),
        "p10": _quantile(data, 0.10),
        "p90": _quantile(data, 0.90),
        "q1": _quantile(data, 0.25),
        "q3": _quantile(data, 0.75),
    }


def fmt_spread(s: dict[str, float], scale: float = 1000.0, digits: int = 1) -> str:
    """``median [p10-p90]`` (seconds shown as ms by default)."""
    if not s.get("n"):
        return "-"
    m, lo, hi = s["median"] * scale, s["p10"] * scale, s["p90"] * scale
    return f"{m:.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


# -- the scripted server, in its own process ---------------------------------------


class ServerProcess:
    """`agent.testing.ScriptedResponsesServer` in a child process (bench/_server_main.py).

    A model server is another machine; here it is at least another process, so its
    JSON parsing and validation do not share our GIL, and the requests it records
    (bounded there) do not count in our memory.
    """

    def __init__(self, turns: list[dict[str, Any]]) -> None:
        self.turns = turns
        self.proc: subprocess.Popen[str] | None = None
        self._script: str | None = None
        self.base_url = ""

    def __enter__(self) -> ServerProcess:
        fd, self._script = tempfile.mkstemp(prefix="bench-script-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump({"turns": self.turns, "on_exhausted": "message"}, fh)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench._server_main", self._script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.close()
            raise RuntimeError(f"the scripted server did not start (said {line!r})")
        self.base_url = line
        return self

    def close(self) -> None:
        """Stop the child (EOF on its stdin, then terminate) and remove the script."""
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.terminate()
                proc.wait(timeout=5)
        if self._script:
            Path(self._script).unlink(missing_ok=True)
            self._script = None

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- a client that times serialize / HTTP / parse ---------------------------------


@dataclass
class CallTiming:
    """perf_counter stamps of one `create` call and the request/response sizes."""

    call: float = 0.0  # create() entered
    send: float = 0.0  # request built and serialized, handed to the transport
    recv: float = 0.0  # response fully read
    ret: float = 0.0  # create() returned (response parsed and validated)
    request_bytes: int = 0
    response_bytes: int = 0


class _TimingTransport(httpx.AsyncHTTPTransport):
    def __init__(self, owner: TimedClient, keepalive_s: float | None = None) -> None:
        if keepalive_s is None:
            super().__init__()
        else:
            super().__init__(limits=httpx.Limits(keepalive_expiry=keepalive_s))
        self.owner = owner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        current = self.owner.current
        current.send = time.perf_counter()
        current.request_bytes = len(request.content)
        response = await super().handle_async_request(request)
        content = await response.aread()
        current.recv = time.perf_counter()
        current.response_bytes = len(content)
        return response


class TimedClient:
    """An `AsyncResponsesClient` whose every `create` is timed in phases (see `CallTiming`).

    `keepalive_s`: how long an idle pooled connection is kept (httpx: 5 s).
    """

    def __init__(self, base_url: str, keepalive_s: float | None = None) -> None:
        from agent._api._client import AsyncResponsesClient

        self.calls: list[CallTiming] = []
        self.current = CallTiming()
        self._inner = AsyncResponsesClient(
            api_key=BENCH_API_KEY,
            base_url=base_url,
            provider="custom",
            transport=_TimingTransport(self, keepalive_s),
            max_retries=0,
        )

    @property
    def provider(self) -> str:
        """As the wrapped client."""
        return self._inner.provider

    @property
    def base_url(self) -> str:
        """As the wrapped client."""
        return self._inner.base_url

    async def create(self, body: Any, *, stream: bool = False) -> Any:
        """Create a response, recording a `CallTiming`."""
        self.current = CallTiming(call=time.perf_counter())
        response = await self._inner.create(body, stream=stream)
        self.current.ret = time.perf_counter()
        self.calls.append(self.current)
        return response

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._inner.aclose()


# -- lockstep interleaving -------------------------------------------------------


class Baton:
    """Round-robin turn-taking between runners sharing one event loop.

    Only the holder runs; at each step boundary it passes the baton on and waits
    for its next turn. The time spent waiting is recorded so that it can be
    subtracted from step windows.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.order = list(names)
        self.active = set(names)
        self.holder = self.order[0]
        self.cond = asyncio.Condition()

    def _next(self, name: str) -> str:
        i = self.order.index(name)
        for k in range(1, len(self.order) + 1):
            cand = self.order[(i + k) % len(self.order)]
            if cand in self.active:
                return cand
        return name

    async def acquire(self, name: str) -> None:
        """Wait until `name` holds the baton."""
        async with self.cond:
            await self.cond.wait_for(lambda: self.holder == name)

    async def pass_on(self, name: str) -> float:
        """Give the baton to the next runner and wait for it to come back; seconds waited."""
        t0 = time.perf_counter()
        async with self.cond:
            self.holder = self._next(name)
            self.cond.notify_all()
            await self.cond.wait_for(lambda: self.holder == name)
        return time.perf_counter() - t0

    async def leave(self, name: str) -> None:
        """`name` is done: it no longer takes turns."""
        async with self.cond:
            self.active.discard(name)
            if self.holder == name:
                self.holder = self._next(name)
            self.cond.notify_all()


@dataclass
class BatonHooks(AgentHooks):
    """Agent hooks passing a `Baton` at every step start; `paused[step]` = seconds waited."""

    baton: Baton | None = None
    name: str = ""
    paused: dict[int, float] = field(default_factory=dict)

    async def on_step_started(self, event: StepStarted) -> None:
        """Between one step's recording and the next request's build: take turns."""
        if self.baton is not None and event.step > 1:
            self.paused[event.step] = await self.baton.pass_on(self.name)


# -- memory ---------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return kids
    for task in tasks:
        try:
            kids.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return kids


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss_bytes(root: int | None = None, exclude: Iterable[int] = ()) -> int:
    """Sum of VmRSS of `root` (default: this process) and all its descendants.

    Shared pages (Chromium's shared libraries, shared memory) are counted in each
    process that maps them, so this is an upper bound of what the tree costs.
    """
    return sum(_rss(pid) for pid in tree_pids(root, exclude))


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_pids(root: int | None = None, exclude: Iterable[int] = ()) -> list[int]:
    """`root` (default: this process) and all its descendants, minus `exclude` subtrees."""
    skip = set(exclude)
    out, todo, seen = [], [root or os.getpid()], set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid in skip:
            continue
        seen.add(pid)
        out.append(pid)
        todo.extend(_children(pid))
    return out


def tree_pss_bytes(root: int | None = None, exclude: Iterable[int] = ()) -> int:
    """Sum of PSS (shared pages divided among the processes sharing them) over the tree."""
    return sum(_pss(pid) for pid in tree_pids(root, exclude))


class RssSampler:
    """Samples tree RSS and PSS every `interval_s` in a thread; `peak`/`peak_pss` are maxima."""

    def __init__(self, interval_s: float = 0.2, exclude: Iterable[int] = ()) -> None:
        self.interval_s = interval_s
        self.exclude = set(exclude)
        self.peak = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)

    def _sample(self) -> None:
        pids = tree_pids(exclude=self.exclude)
        self.peak = max(self.peak, sum(_rss(p) for p in pids))
        self.peak_pss = max(self.peak_pss, sum(_pss(p) for p in pids))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()


# -- pages ------------------------------------------------------------------------


class PageServer:
    """Serves a dict of path -> HTML on 127.0.0.1 from a thread (pages load once per run).

    `delays` maps a path to seconds the server waits before answering it (a slow
    backend for the freshness probes' fetch).
    """

    def __init__(self, pages: dict[str, str], delays: dict[str, float] | None = None) -> None:
        self.pages = pages
        self.delays = delays or {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                body = owner.pages.get(path)
                if body is None:
                    self.send_error(404)
                    return
                if path in owner.delays:
                    time.sleep(owner.delays[path])  # this request's own thread
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        """The URL of `path`."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
