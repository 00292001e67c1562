"""A replayed check/extract cannot hide a regression: one changed word, digit or colour fails.

Real parts only: a small page served over HTTP on 127.0.0.1, headless Chromium,
the scripted Responses server as the model while recording, and nothing at all
while replaying (CI mode, no key, a closed port as the base URL). The page is
the kind the issue found blind spots on: light background, left-aligned dark
text, a coloured button.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from agent.testing import ScriptedResponsesServer, message, turn

pytest_plugins = ["pytester"]

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

CONFTEST = '''
import http.server
import os
import threading

import pytest

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ font-family: sans-serif; margin: 40px; background: #fafafa; color: #222 }}
button {{ background: {colour}; color: white; border: 0; padding: 10px 18px; font-size: 16px }}
</style></head><body><h1>Welcome back</h1><p>Hello, {name}! Your order is on its way.</p>
<p>Desk lamp: {stock} in stock</p><input autofocus placeholder="Search"> <button>Buy now</button>
</body></html>"""
VARIANTS = {
    "default": dict(name="Ada", stock="37", colour="#2e7d32"),
    "word": dict(name="Bob", stock="37", colour="#2e7d32"),
    "digit": dict(name="Ada", stock="31", colour="#2e7d32"),
    "colour": dict(name="Ada", stock="37", colour="#c62828"),
}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = PAGE.format(**VARIANTS[os.environ.get("PAGE_VARIANT", "default")]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def screenloop_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
'''

TEST_FILE = """
import pytest


@pytest.mark.screenloop(url="/")
@pytest.mark.parametrize("render", range(20))
def test_page(agent, render):
    assert agent.check("The greeting says hello to Ada")
    assert agent.extract("How many desk lamps are in stock?", int) == 37
    assert agent.check("The Buy now button is green")
"""

API_KEY = "sk-test-0a1b2c3d4e5f6789"
TURNS = [
    turn(message(json.dumps({"answer": True, "reason": "It says: Hello, Ada!"}))),
    turn(message(json.dumps({"value": 37}))),
    turn(message(json.dumps({"answer": True, "reason": "The Buy now button is green."}))),
]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def page_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """The page project, its cassette recorded once and copied to all 20 renders."""
    monkeypatch.delenv("CI", raising=False)
    for var in ("TZAFON_API_KEY", "OPENAI_API_KEY", "LIGHTCONE_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_page=TEST_FILE)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    monkeypatch.setenv("TZAFON_API_KEY", API_KEY)
    with ScriptedResponsesServer(TURNS, require_api_key=API_KEY) as server:
        # the environment's key goes only to the base URL configured beside it
        monkeypatch.setenv("LIGHTCONE_BASE_URL", server.base_url)
        recorded = pytester.runpytest_subprocess(
            "-p", "no:randomly", "-p", "no:xdist", "-k", "test_page[0]",
            "--screenloop-record=all", f"--screenloop-base-url={server.base_url}",
            timeout=170,
        )  # fmt: skip
    monkeypatch.delenv("TZAFON_API_KEY")
    monkeypatch.delenv("LIGHTCONE_BASE_URL")
    recorded.assert_outcomes(passed=1, deselected=19)
    cassettes = pytester.path / "cassettes" / "test_page"
    for i in range(1, 20):
        shutil.copy(cassettes / "test_page-0.json", cassettes / f"test_page-{i}.json")
    monkeypatch.setenv("CI", "true")  # record mode none: replay only
    return pytester


def replay(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "no:randomly", f"--screenloop-base-url={closed_port_url()}", *args, timeout=300
    )


def test_one_changed_word_digit_or_colour_fails_the_replay_unchanged_passes_20_of_20(
    page_suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The unchanged page, rendered afresh in a new browser for each of 20 tests.
    same = replay(page_suite, "-p", "no:xdist")
    same.assert_outcomes(passed=20)
    assert "screenloop: 20 replayed" in same.stdout.str()

    for variant in ("word", "digit", "colour"):
        monkeypatch.setenv("PAGE_VARIANT", variant)
        changed = replay(page_suite, "-k", "test_page[0]")
        changed.assert_outcomes(failed=1, deselected=19)
        out = changed.stdout.str()
        assert "CassetteMismatchError" in out, (variant, out)
        # Every check judged the whole screen: whatever changed, the first one fails.
        assert "request 1 of 3 recorded differs" in out, (variant, out)
        assert "a check/extract answer was recorded for" in out, (variant, out)


SUITE = Path(__file__).resolve().parents[2] / "examples" / "ui-tests"


def test_example_suite_fails_on_a_shop_with_one_word_changed(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TZAFON_API_KEY", "OPENAI_API_KEY", "LIGHTCONE_BASE_URL", "OPENAI_BASE_URL")
    }
    env["CI"] = "true"
    env["SHOP_VARIANT"] = "one-word"  # the Ceramic mug's page says "Ceramic cup"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(SUITE), "-p", "no:randomly",
         f"--screenloop-run-dir={tmp_path / 'runs'}", "-q"],
        cwd=SUITE, env=env, capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "1 failed, 2 passed" in out, out
    assert "FAILED test_shop.py::test_open_a_product" in out, out
    # The heading's new word is big enough for the action step's looser match to
    # see it too (0.063 > 0.05 over 40 px tiles); the extraction never replays.
    assert "the screen differs from the one" in out, out


def test_a_failing_check_shows_the_models_reason(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_bob="""
def test_bob(agent):
    assert agent.check("The greeting says hello to Bob")
"""
    )
    monkeypatch.setenv("TZAFON_API_KEY", API_KEY)
    reason = "The greeting says Hello, Ada! - not Bob."
    answer = turn(message(json.dumps({"answer": False, "reason": reason})))
    with ScriptedResponsesServer([answer], require_api_key=API_KEY) as server:
        # the environment's key goes only to the base URL configured beside it
        monkeypatch.setenv("LIGHTCONE_BASE_URL", server.base_url)
        result = pytester.runpytest_subprocess(
            "-p", "no:randomly", "--screenloop-record=all",
            f"--screenloop-base-url={server.base_url}", timeout=170,
        )  # fmt: skip
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert f"last check: 'The greeting says hello to Bob' -> False; the model said: {reason}" in out


@pytest.mark.desktop
def test_headed_without_an_x_display_gets_a_virtual_one(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_headed="""
import os


def test_headed(agent):
    assert "DISPLAY" not in os.environ
    assert agent.check("The greeting says hello to Ada")
"""
    )
    monkeypatch.setenv("TZAFON_API_KEY", API_KEY)
    with ScriptedResponsesServer(TURNS[:1], require_api_key=API_KEY) as server:
        # the environment's key goes only to the base URL configured beside it
        monkeypatch.setenv("LIGHTCONE_BASE_URL", server.base_url)
        result = pytester.runpytest_subprocess(
            "-p", "no:randomly", "--screenloop-record=all", "--screenloop-headed",
            f"--screenloop-base-url={server.base_url}", timeout=170,
        )  # fmt: skip
    result.assert_outcomes(passed=1)
