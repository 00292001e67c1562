"""`screenloop run` flags of runs that finish and saved logins, through the real command."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import PageServer, page_server, screenloop

from agent._cli._exit_codes import ExitCode
from agent.testing import ScriptedResponsesServer, computer_call, message, turn

pytestmark = pytest.mark.browser

KEY = "sk-cli-test-key-0123456789"


@pytest.fixture
def page() -> Iterator[PageServer]:
    with page_server() as server:
        yield server


def _args(server: ScriptedResponsesServer, run_dir: Path, page: PageServer, *extra: str) -> list:
    return [
        "run",
        "press Go",
        "--url",
        page.url,
        "--base-url",
        server.base_url,
        "--api-key",
        KEY,
        "--coordinates",
        "pixels",
        "--record",
        str(run_dir),
        "--json",
        *extra,
    ]


def test_a_stuck_run_exits_4_with_status_stuck(page: PageServer, tmp_path: Path) -> None:
    # the first click turns the page green; the next ones change nothing
    script = [turn(computer_call("click", x=200, y=150)) for _ in range(5)] + [turn(message("x"))]
    run_dir = tmp_path / "run"
    with ScriptedResponsesServer(script, require_api_key=KEY) as server:
        res = screenloop(
            *_args(server, run_dir, page, "--stuck-after", "2", "--stuck-stop-after", "1")
        )
        bodies = [r.body for r in server.requests if r.method == "POST"]
    assert res.code == ExitCode.LIMIT_REACHED, res.stderr
    assert res.json()["status"] == "stuck"
    assert len(bodies) == 3  # nudged after the 2nd click, stopped after the 3rd
    assert "did not change" in json.dumps(bodies[2]["input"])
    assert json.loads((run_dir / "run.json").read_text())["finishing"]["stuck_after"] == 2


def test_notices_off_stops_a_stuck_run_without_telling_the_model(
    page: PageServer, tmp_path: Path
) -> None:
    script = [turn(computer_call("click", x=200, y=150)) for _ in range(5)] + [turn(message("x"))]
    run_dir = tmp_path / "run"
    extra = ("--stuck-after", "2", "--stuck-stop-after", "1", "--notices", "off")
    extra += ("--max-steps", "4", "--budget-notice", "0.5")
    with ScriptedResponsesServer(script, require_api_key=KEY) as server:
        res = screenloop(*_args(server, run_dir, page, *extra))
        bodies = [r.body for r in server.requests if r.method == "POST"]
    assert res.code == ExitCode.LIMIT_REACHED, res.stderr
    assert res.json()["status"] == "stuck"
    assert len(bodies) == 3  # stopped at the same repeat as with notices on
    sent = json.dumps([b["input"] for b in bodies[1:]])
    assert "did not change" not in sent and "Step budget" not in sent
    finishing = json.loads((run_dir / "run.json").read_text())["finishing"]
    assert finishing["notices"] is False and finishing["stuck_nudge"] is False
    assert finishing["budget_notice"] is False


def test_action_rules_and_a_saved_storage_state(page: PageServer, tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps([{"match": {"type": "type", "text": "hello"}, "then": "stop", "text": "no"}])
    )
    state = tmp_path / "state.json"
    script = [
        turn(computer_call("click", x=200, y=150)),
        turn(computer_call("click", x=250, y=320)),
        turn(computer_call("type", text="hello")),
        turn(message("done")),
    ]
    run_dir = tmp_path / "run"
    extra = ("--action-rules", str(rules), "--storage-state", str(state), "--save-storage-state")
    with ScriptedResponsesServer(script, require_api_key=KEY) as server:
        res = screenloop(*_args(server, run_dir, page, *extra))
    assert res.code == ExitCode.SAFETY_DENIED, res.stderr
    assert {"e": "click", "v": ""} in page.events
    assert not [e for e in page.events if e["e"] == "input"]  # the typing never ran
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert set(json.loads(state.read_text())) == {"cookies", "origins"}
    assert not list(run_dir.rglob("state.json"))


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (("--save-storage-state",), "needs --storage-state"),
        (("--storage-state", "/nonexistent/state.json"), "is not a file"),
        (("--stuck-after", "1"), "--stuck-after"),
        (("--text-only", "maybe"), "--text-only"),
        (("--budget-notice", "2"), "--budget-notice"),
    ],
)
def test_bad_finishing_flags_are_usage_errors(
    page: PageServer, tmp_path: Path, extra: tuple[str, ...], says: str
) -> None:
    with ScriptedResponsesServer([], require_api_key=KEY) as server:
        res = screenloop(*_args(server, tmp_path / "run", page, *extra))
    assert res.code == ExitCode.USAGE
    assert says in res.stdout + res.stderr
