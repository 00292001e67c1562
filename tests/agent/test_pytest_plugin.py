"""The pytest plugin, end to end: real test files run by pytester in a subprocess.

Each inner run starts the demo shop (per test, see CONFTEST), drives headless
Chromium, and talks either to a scripted Responses server (recording) or to
nothing at all (replay: the base URL points at a closed port, no key is set).
"""

from __future__ import annotations

import json
import re
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agent.testing import ScriptedResponsesServer, computer_call, message, turn

pytest_plugins = ["pytester"]

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

CONFTEST = """
import os

import httpx
import pytest

from agent.demo import DEMO_PASSWORD, DEMO_USERNAME, DemoApp


@pytest.fixture
def shop():
    with DemoApp(variant=os.environ.get("SHOP_VARIANT", "default")) as app:
        form = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
        assert httpx.post(app.url + "signin", data=form).status_code == 303
        yield app


@pytest.fixture
def screenloop_url(shop):
    return shop.url
"""

TEST_FILE = """
import pytest


@pytest.mark.screenloop(url="/product/desk-lamp", max_steps=4)
def test_add_lamp(agent, shop):
    agent.run("Add the desk lamp to the cart")
    assert agent.check("The cart lists one Desk lamp")
    assert [line["name"] for line in shop.state()["cart"]] == ["Desk lamp"]
"""

SECOND_TEST = """

@pytest.mark.screenloop(url="/product/ceramic-mug", max_steps=4)
def test_add_mug(agent, shop):
    agent.run("Add the ceramic mug to the cart")
    assert agent.check("The cart lists one Ceramic mug")
    assert [line["name"] for line in shop.state()["cart"]] == ["Ceramic mug"]
"""

# "Add to cart" on a product page, on Northstar's 0-999 grid for 1280x720:
# default layout at (686, 455) px, the "moved-button" variant at (1026, 575) px.
ADD_TO_CART = {"x": 536, "y": 632}
MOVED_ADD_TO_CART = {"x": 801, "y": 799}
API_KEY = "sk-test-9f8e7d6c5b4a3210"


def add_to_cart_turns(point: dict[str, int], name: str) -> list[dict[str, object]]:
    """The model's side of one test: click Add to cart, say done, answer the check."""
    answer = {"answer": True, "reason": f"The cart table lists {name}."}
    return [
        turn(computer_call("click", button="left", **point)),
        turn(message(f"The {name.lower()} is in the cart.")),
        turn(message(json.dumps(answer))),
    ]


def closed_port_url() -> str:
    """A base URL nothing listens on (any request to it fails to connect)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester project with the shop conftest and one UI test; no CI, no key by default."""
    monkeypatch.delenv("CI", raising=False)
    for var in ("TZAFON_API_KEY", "OPENAI_API_KEY", "LIGHTCONE_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_ui=TEST_FILE)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:randomly", *args, timeout=170)


def cassette_file(pytester: pytest.Pytester, name: str = "test_add_lamp") -> Path:
    return pytester.path / "cassettes" / "test_ui" / f"{name}.json"


def record(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, turns: list[dict[str, object]]
) -> None:
    """Record the suite's cassettes against a scripted server playing `turns` (key required)."""
    monkeypatch.setenv("TZAFON_API_KEY", API_KEY)
    with ScriptedResponsesServer(turns, require_api_key=API_KEY) as server:
        # the environment's key goes only to the base URL configured beside it
        monkeypatch.setenv("LIGHTCONE_BASE_URL", server.base_url)
        result = run(
            pytester,
            "--screenloop-record=all",
            f"--screenloop-base-url={server.base_url}",
            "-p",
            "no:xdist",
        )
    monkeypatch.delenv("TZAFON_API_KEY")
    monkeypatch.delenv("LIGHTCONE_BASE_URL")
    result.assert_outcomes(passed=len(turns) // 3)
    assert f"screenloop: {len(turns) // 3} recorded" in result.stdout.str()


def test_record_then_replay_offline_and_under_xdist(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.makepyfile(test_ui=TEST_FILE + SECOND_TEST)

    # record=none with no cassette: a clear error before anything reaches a model.
    missing = run(suite, "--screenloop-record=none", "-k", "lamp")
    missing.assert_outcomes(failed=1)
    assert "no cassette at" in missing.stdout.str()
    assert "--screenloop-record=once" in missing.stdout.str()

    record(
        suite,
        monkeypatch,
        add_to_cart_turns(ADD_TO_CART, "Desk lamp") + add_to_cart_turns(ADD_TO_CART, "Ceramic mug"),
    )
    lamp = cassette_file(suite)
    data = json.loads(lamp.read_text())
    assert data["version"] == 1
    assert len(data["interactions"]) == 3  # two agent steps and one check
    text = lamp.read_text()
    assert "data:image" not in text
    assert API_KEY not in text and "authorization" not in text.lower()
    assert "{{origin}}/cart" in text  # the shop's ephemeral port is not baked in
    hashes = re.findall(r'"screenshot_hash": "(d16:[0-9a-f]+)"', text)
    assert len(hashes) == 3
    check = data["interactions"][2]["request"]["body"]
    assert check["text"]["format"]["type"] == "json_schema"
    assert check["text"]["format"]["strict"] is True
    assert "tools" not in check

    # Replay: no key, no server (a closed port), and CI set -> record mode none.
    monkeypatch.setenv("CI", "true")
    replay = run(suite, f"--screenloop-base-url={closed_port_url()}")
    replay.assert_outcomes(passed=2)
    assert "screenloop: 2 replayed" in replay.stdout.str()

    run_dir = suite.path / "runs" / "pytest" / "test_ui.py--test_add_lamp"
    summary = json.loads((run_dir / "run.json").read_text())
    assert summary["status"] == "completed"
    assert (run_dir / "report.html").is_file()
    checks = [json.loads(line) for line in (run_dir / "checks.jsonl").read_text().splitlines()]
    assert checks[0]["question"] == "The cart lists one Desk lamp"
    assert checks[0]["answer"] is True
    assert (run_dir / checks[0]["screenshot"]).is_file()
    assert API_KEY not in (run_dir / "run.json").read_text()

    # The same cassettes under xdist: two workers, two browsers, two run dirs.
    parallel = run(suite, "-n", "2", f"--screenloop-base-url={closed_port_url()}")
    parallel.assert_outcomes(passed=2)
    assert "screenloop: 2 replayed" in parallel.stdout.str()
    dirs = sorted(p.name for p in (suite.path / "runs" / "pytest").iterdir())
    assert dirs == ["test_ui.py--test_add_lamp", "test_ui.py--test_add_mug"]


def test_changed_app_strict_fails_with_diff_then_heal_rewrites(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    record(suite, monkeypatch, add_to_cart_turns(ADD_TO_CART, "Desk lamp"))
    lamp = cassette_file(suite)
    recorded = lamp.read_text()

    # The app changed: the button moved. Strict replay fails with the diff.
    monkeypatch.setenv("SHOP_VARIANT", "moved-button")
    offline = closed_port_url()
    junit = suite.path / "junit.xml"
    strict = run(
        suite, "--screenloop-record=none", f"--screenloop-base-url={offline}", f"--junitxml={junit}"
    )
    strict.assert_outcomes(failed=1)
    out = strict.stdout.str()
    assert "CassetteMismatchError" in out
    assert "request 1 of 3 recorded differs from the recording" in out
    assert "the screen differs from the one the recording shows (screen distance" in out
    assert "input[0].content[1].image_url" in out
    assert "--screenloop-heal" in out
    run_dir = suite.path / "runs" / "pytest" / "test_ui.py--test_add_lamp"
    assert f"run dir: {run_dir}" in out
    assert f"report: {run_dir / 'report.html'}" in out
    assert f"last screenshot: {run_dir / 'screenshots' / '0000.png'}" in out
    assert "- screenloop -" in out  # the report section
    assert "cassette mismatch: request 1 of 3" in out
    props = {p.get("name"): p.get("value") for p in ET.parse(junit).getroot().iter("property")}
    assert props["screenloop_run_dir"] == str(run_dir)
    assert props["screenloop_report"] == str(run_dir / "report.html")
    assert props["screenloop_last_screenshot"].startswith(str(run_dir / "screenshots"))
    assert Path(props["screenloop_last_screenshot"]).is_file()
    assert props["screenloop_cassette"] == "mismatched"
    assert "1 mismatched" in out
    assert lamp.read_text() == recorded  # strict never rewrites

    # Heal: with a looser threshold the first screen still matches, the click from the
    # cassette misses the moved button, the next request differs and goes live. The live
    # server never saw the replayed responses: the conversation is sent inline.
    heal_turns = [
        turn(computer_call("click", button="left", **MOVED_ADD_TO_CART)),
        turn(message("The desk lamp is in the cart.")),
        turn(message(json.dumps({"answer": True, "reason": "Desk lamp, quantity 1."}))),
    ]
    with ScriptedResponsesServer(heal_turns) as server:
        healed = run(
            suite,
            "--screenloop-heal",
            "--screenloop-record=none",
            "--screenloop-threshold=0.9",
            f"--screenloop-base-url={server.base_url}",
        )
        live = [r for r in server.requests if r.method == "POST"]
    healed.assert_outcomes(passed=1)
    out = healed.stdout.str()
    assert "screenloop: 1 healed" in out
    assert "HEALED test_ui.py::test_add_lamp: healed from request 2" in out
    first_live = live[0].body
    assert "previous_response_id" not in first_live
    kinds = [item["type"] for item in first_live["input"]]
    assert kinds == ["message", "computer_call", "computer_call_output"]

    rewritten = json.loads(lamp.read_text())["interactions"]
    clicks = [
        item["action"]
        for i in rewritten
        for item in i["response"]["json"]["output"]
        if item["type"] == "computer_call"
    ]
    assert [(c["x"], c["y"]) for c in clicks] == [(536, 632), (801, 799)]

    # The healed cassette replays offline against the changed app.
    again = run(
        suite,
        "--screenloop-record=none",
        "--screenloop-threshold=0.9",
        f"--screenloop-base-url={offline}",
    )
    again.assert_outcomes(passed=1)
    assert "screenloop: 1 replayed" in again.stdout.str()
