"""Support for the CLI tests: run the real `screenloop` command, and a loopback page that logs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parents[2]
SCREENLOOP = [sys.executable, "-m", "agent"]

# A button at (100..300, 100..200) and a text box at (100..400, 300..340), in CSS pixels.
PAGE = """<!doctype html><html><head><style>
body { margin: 0; background: #fff; font: 16px sans-serif; }
#go { position: absolute; left: 100px; top: 100px; width: 200px; height: 100px; }
#box { position: absolute; left: 100px; top: 300px; width: 300px; height: 40px; }
</style></head><body>
<button id="go" onclick="document.body.style.background='#cfc'; log('click')">Go</button>
<input id="box" oninput="log('input', this.value)">
<script>
function log(e, v) { fetch('/log?e=' + e + '&v=' + encodeURIComponent(v || '')); }
</script></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    server: PageServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/log":
            query = parse_qs(parts.query)
            self.server.events.append({"e": query.get("e", [""])[0], "v": query.get("v", [""])[0]})
            body = b"ok"
            ctype = "text/plain"
        else:
            body = PAGE.encode()
            ctype = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class PageServer(ThreadingHTTPServer):
    """Serves PAGE on 127.0.0.1 and records what the page reports in `events`."""

    daemon_threads = True

    def __init__(self) -> None:
        self.events: list[dict[str, str]] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


@contextmanager
def page_server() -> Iterator[PageServer]:
    server = PageServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any API key or base URL, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TZAFON_API_KEY", "OPENAI_API_KEY", "LIGHTCONE_BASE_URL", "OPENAI_BASE_URL")
    }
    env.update(extra)
    return env


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one JSON line on stdout, got {self.stdout!r}"
        data: dict[str, Any] = json.loads(lines[0])
        return data


def screenloop(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
) -> CliResult:
    """Run the real CLI in a subprocess (stdin is not a terminal)."""
    proc = subprocess.run(
        [*SCREENLOOP, *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=env if env is not None else clean_env(),
        timeout=timeout,
        cwd=cwd or REPO,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def popen_screenloop(args: Sequence[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """Start the CLI without waiting (for signal tests)."""
    return subprocess.Popen(
        [*SCREENLOOP, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def read_run(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """run.json and the steps.jsonl lines of a run directory."""
    run = json.loads((run_dir / "run.json").read_text())
    steps = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]
    return run, steps
