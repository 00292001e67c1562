"""The README's sync snippet runs as written: real Chromium, a local page, the scripted server."""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.testing import ScriptedResponsesServer, computer_call, message, turn

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

README = Path(__file__).resolve().parents[2] / "README.md"
PAGE = (
    b"<!doctype html><html><body><h1>Example</h1><a href='/more'>More information</a></body></html>"
)


def sync_snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    [block] = [b for b in blocks if "run_sync(" in b]
    return block


@pytest.fixture
def local_page() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _run(code: str, cwd: Path, base_url: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.pop("TZAFON_API_KEY", None)
    env.pop("LIGHTCONE_BASE_URL", None)
    if base_url is not None:
        env["TZAFON_API_KEY"] = "sk-test-readme"
        env["LIGHTCONE_BASE_URL"] = base_url
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


def test_the_readme_sync_snippet_drives_the_browser(local_page: str, tmp_path: Path) -> None:
    code = sync_snippet().replace("https://example.com", local_page)
    turns = [turn(computer_call("click", button="left", x=60, y=90)), turn(message("Opened."))]
    with ScriptedResponsesServer(turns) as server:
        proc = _run(code, tmp_path, server.base_url)
        served = len([r for r in server.requests if r.method == "POST"])
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("completed Opened. "), proc.stdout + proc.stderr
    assert served == 2

    # Without a key the snippet says why instead of "error None None".
    no_key = _run(code, tmp_path, None)
    assert no_key.returncode == 0, no_key.stderr
    assert "ConfigurationError: no API key" in no_key.stdout, no_key.stdout
