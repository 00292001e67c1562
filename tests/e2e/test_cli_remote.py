"""`screenloop run --cdp-url / --ws-endpoint` (issue 17): the real CLI in a subprocess
drives a browser it did not launch; the page's server log proves the click and the typing.

The same runs exercise the SDK interop (issue 17, deliverable 4): the base URL comes
from ``LIGHTCONE_BASE_URL`` in the official SDK's form (an origin, no /v1), the key from
``TZAFON_API_KEY``, and the dialect's wire choices from the public flags.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import PageServer, clean_env, page_server, read_run, screenloop
from remote_browsers import cdp_chromium, playwright_server

from agent._cli._exit_codes import ExitCode
from agent.testing import ScriptedResponsesServer, computer_call, message, turn

KEY = "sk-remote-cli-key-0123456789"
SCRIPT = [
    turn(computer_call("click", x=200, y=150)),
    turn(computer_call("click", x=250, y=320)),
    turn(computer_call("type", text="hello")),
    turn(message("Pressed Go and typed hello.")),
]


@pytest.fixture
def page() -> Iterator[PageServer]:
    with page_server() as server:
        yield server


def _run(server: ScriptedResponsesServer, page: PageServer, run_dir: Path, *extra: str) -> None:
    env = clean_env(LIGHTCONE_BASE_URL=server.origin, TZAFON_API_KEY=KEY)
    res = screenloop(
        "run", "press Go and type hello", "--url", page.url, "--coordinates", "pixels",
        "--record", str(run_dir), "--json", *extra, env=env, timeout=180,
    )  # fmt: skip
    assert res.code == ExitCode.COMPLETED, res.stdout + res.stderr
    assert res.json()["final_output"] == "Pressed Go and typed hello."
    assert {"e": "click", "v": ""} in page.events
    assert {"e": "input", "v": "hello"} in page.events
    assert KEY not in (run_dir / "run.json").read_text() + res.stdout + res.stderr


@pytest.mark.browser
def test_cdp_url_run_with_the_sdk_wire_choices(page: PageServer, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    sdk_wire = ("--tool-type", "computer_use_preview", "--output-type", "computer_screenshot")
    with cdp_chromium() as cdp_url, ScriptedResponsesServer(SCRIPT, require_api_key=KEY) as srv:
        _run(srv, page, run_dir, "--cdp-url", cdp_url, *sdk_wire)
        bodies = [r.body for r in srv.requests]
        paths = {r.path for r in srv.requests}
    assert paths == {"/v1/responses"}  # the SDK-style origin got /v1 appended
    assert bodies[0]["tools"][0]["type"] == "computer_use_preview"
    outputs = [b["input"][0]["output"]["type"] for b in bodies[1:]]
    assert outputs == ["computer_screenshot"] * 3
    run, _ = read_run(run_dir)
    port = cdp_url.rsplit(":", 1)[1]
    assert run["executor"]["remote"] == {"protocol": "cdp", "endpoint": f"http://127.0.0.1:{port}"}
    assert run["coordinate_mapping"] == "round(v)"  # --coordinates pixels
    assert run["wire"] == {
        "dialect": "lightcone", "tool_type": "computer_use_preview", "environment": "browser",
        "output_type": "computer_screenshot",
    }  # fmt: skip


@pytest.mark.browser
def test_ws_endpoint_run(page: PageServer, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with playwright_server() as ws, ScriptedResponsesServer(SCRIPT, require_api_key=KEY) as srv:
        _run(srv, page, run_dir, "--ws-endpoint", ws)
        assert srv.requests[1].body["input"][0]["output"]["type"] == "input_image"
    run, _ = read_run(run_dir)
    assert run["executor"]["remote"]["protocol"] == "ws"
    assert ws.rsplit("/", 1)[1] not in (run_dir / "run.json").read_text()  # the path's token


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--cdp-url", "http://127.0.0.1:9", "--ws-endpoint", "ws://127.0.0.1:9/"], "choose one"),
        (["--cdp-url", "http://127.0.0.1:9", "--desktop"], "browser runs only"),
        (["--ws-endpoint", "http://127.0.0.1:9/"], "--ws-endpoint must be a ws/wss URL"),
        (["--cdp-url", "http://127.0.0.1:9", "--headed"], "--headed does not apply"),
        (["--tool-type", "computer_use_v2"], "tool_type must be one of"),
        (["--output-type", "png"], "output_type must be one of"),
        (["--environment-name", "amiga"], "environment_name must be one of"),
    ],
)
def test_usage_errors(extra: list[str], needle: str) -> None:
    res = screenloop("run", "t", "--api-key", "k", *extra, env=clean_env(), timeout=60)
    assert res.code == ExitCode.USAGE, res.stdout + res.stderr
    assert needle in res.stdout + res.stderr
