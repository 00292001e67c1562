"""Browsers screenloop did not launch, for the remote-browser tests (issue 17).

- `cdp_chromium`: Debian's Chromium started by hand, headless, with
  ``--remote-debugging-port=0`` on 127.0.0.1; yields its ``http://127.0.0.1:PORT``
  (what ``PlaywrightComputer(cdp_url=...)`` / ``--cdp-url`` take).
- `playwright_server`: a Playwright browser server (``playwright launch-server``,
  the CLI form of ``BrowserType.launch_server``) on the same Chromium; yields its
  ``ws://127.0.0.1:PORT/...`` endpoint (``ws_endpoint=`` / ``--ws-endpoint``).

Each waits for the line the process prints once it listens (no sleeps), and
kills what it started at exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from playwright._impl._driver import compute_driver_executable, get_driver_env

from sandbox import chromium_args, find_chromium

_DEVTOOLS = re.compile(r"DevTools listening on (ws://127\.0\.0\.1:(\d+)/\S+)")
_WS = re.compile(r"^(ws://127\.0\.0\.1:\d+/\S*)$")


def _first_match(stream: IO[str], pattern: re.Pattern[str], seen: list[str]) -> re.Match[str]:
    """Read lines until one matches (the process's own output; EOF means it died)."""
    for line in stream:
        seen.append(line)
        found = pattern.search(line.strip())
        if found:
            # keep draining, so the process never blocks on a full pipe
            threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()
            return found
    raise RuntimeError("the browser exited before listening:\n" + "".join(seen[-20:]))


def _stop(proc: subprocess.Popen[str]) -> None:
    """End the process group we started (the browser's helpers, the server's Chromium)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(30)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def cdp_chromium() -> Iterator[str]:
    """A headless Chromium listening for CDP on loopback; yields ``http://127.0.0.1:PORT``."""
    with tempfile.TemporaryDirectory(prefix="screenloop-cdp-") as profile:
        argv = [
            str(find_chromium()),
            "--headless",
            "--no-sandbox",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            *chromium_args(),
            "about:blank",
        ]
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, start_new_session=True,
        )  # fmt: skip
        try:
            assert proc.stderr is not None
            found = _first_match(proc.stderr, _DEVTOOLS, [])
            yield f"http://127.0.0.1:{found.group(2)}"
        finally:
            _stop(proc)


@contextlib.contextmanager
def playwright_server() -> Iterator[str]:
    """A Playwright browser server on Debian's Chromium; yields its ws:// endpoint."""
    with tempfile.TemporaryDirectory(prefix="screenloop-pw-server-") as tmp:
        config = Path(tmp) / "server.json"
        config.write_text(
            json.dumps(
                {
                    "executablePath": str(find_chromium()),
                    "headless": True,
                    "host": "127.0.0.1",
                    "port": 0,
                    "args": chromium_args(),
                }
            )
        )
        node, cli = compute_driver_executable()
        argv = [node, cli, "launch-server", "--browser", "chromium", "--config", str(config)]
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, env=get_driver_env(), start_new_session=True,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            yield _first_match(proc.stdout, _WS, []).group(1)
        finally:
            _stop(proc)
