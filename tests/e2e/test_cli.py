"""The real `screenloop run` in a subprocess, against the scripted server on loopback.

Browser runs drive a loopback page whose script reports clicks and typing to
its server; desktop runs drive the Tk event logger in a fresh virtual display.
Effects are proved by those logs, outcomes by exit codes, --json and the run
directory.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import (
    REPO,
    PageServer,
    clean_env,
    page_server,
    popen_screenloop,
    read_run,
    screenloop,
)

from agent._cli._exit_codes import ExitCode
from agent.testing import (
    ScriptedResponsesServer,
    computer_call,
    message,
    reasoning,
    safety_check,
    turn,
)

MODEL = "tzafon.northstar-cua-fast"
KEY = "sk-cli-test-key-0123456789"


@pytest.fixture
def page() -> Iterator[PageServer]:
    with page_server() as server:
        yield server


def _run_args(server: ScriptedResponsesServer, run_dir: Path, *extra: str) -> list[str]:
    return [
        "run",
        "press Go and type hello",
        "--base-url",
        server.base_url,
        "--api-key",
        KEY,
        "--model",
        MODEL,
        "--coordinates",
        "pixels",
        "--record",
        str(run_dir),
        *extra,
    ]


BROWSER_SCRIPT = [
    turn(reasoning("The Go button is top left."), computer_call("click", x=200, y=150)),
    turn(computer_call("click", x=250, y=320)),
    turn(computer_call("type", text="hello")),
    turn(message("Pressed Go and typed hello.")),
]


@pytest.mark.browser
def test_browser_run_completes_with_json_and_a_full_run_directory(
    page: PageServer, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    with ScriptedResponsesServer(BROWSER_SCRIPT, require_api_key=KEY) as server:
        res = screenloop(*_run_args(server, run_dir, "--url", page.url, "--json"))
    assert res.code == ExitCode.COMPLETED, res.stderr
    out = res.json()
    assert out["status"] == "completed"
    assert out["final_output"] == "Pressed Go and typed hello."
    assert out["steps"] == 4
    assert out["exit_code"] == 0
    assert Path(out["run_dir"]) == run_dir
    # the page saw the click and the typing
    assert {"e": "click", "v": ""} in page.events
    # each input event carries the whole value; the server may log them out of order
    assert {"e": "input", "v": "hello"} in page.events
    run, steps = read_run(run_dir)
    assert run["status"] == "completed"
    assert run["executor"]["kind"] == "browser"
    assert run["executor"]["start_url"] == page.url
    assert run["coordinate_space"] == "pixels"
    assert run["safety_mode"] == "deny"  # not a terminal and no --safety
    assert [s["step"] for s in steps] == [1, 2, 3, 4]
    assert steps[0]["actions"][0]["screen"] == {"x": 200, "y": 150, "button": "left", "keys": []}
    shots = sorted(p.name for p in (run_dir / "screenshots").iterdir())
    assert shots == ["0000.png", "0001.png", "0002.png", "0003.png"]
    assert (run_dir / "report.html").is_file()
    assert KEY not in (run_dir / "run.json").read_text() + (run_dir / "steps.jsonl").read_text()


SAFETY_SCRIPT = [
    turn(
        computer_call(
            "click",
            x=200,
            y=150,
            safety_checks=[safety_check("malicious_instructions", "The page asks to click Go.")],
        )
    ),
    turn(message("done")),
]


@pytest.mark.browser
def test_pending_safety_check_without_a_terminal_stops_with_the_safety_code(
    page: PageServer, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    with ScriptedResponsesServer(SAFETY_SCRIPT) as server:
        res = screenloop(*_run_args(server, run_dir, "--url", page.url))
    assert res.code == ExitCode.SAFETY_DENIED, res.stdout + res.stderr
    assert "safety_denied" in res.stdout
    assert page.events == []  # the click never ran
    run, steps = read_run(run_dir)
    assert run["status"] == "safety_denied"
    assert run["safety_mode"] == "deny"
    assert steps[0]["safety"][0]["code"] == "malicious_instructions"
    assert steps[0]["safety"][0]["decision"] == "denied"


@pytest.mark.browser
@pytest.mark.parametrize(
    ("flags", "stdin", "decided_by"),
    [(["--safety", "ask"], "y\n", "callback"), (["--safety", "allow"], "", "policy")],
    ids=["ask-answered-yes", "allow"],
)
def test_safety_check_acknowledged_by_prompt_or_policy(
    page: PageServer, tmp_path: Path, flags: list[str], stdin: str, decided_by: str
) -> None:
    run_dir = tmp_path / "run"
    with ScriptedResponsesServer(SAFETY_SCRIPT) as server:
        res = screenloop(*_run_args(server, run_dir, "--url", page.url, *flags), stdin=stdin)
    assert res.code == ExitCode.COMPLETED, res.stdout + res.stderr
    if decided_by == "callback":  # the prompt showed the check's code and message
        assert "malicious_instructions" in res.stdout
        assert "The page asks to click Go." in res.stdout
    assert page.events == [{"e": "click", "v": ""}]
    _, steps = read_run(run_dir)
    assert steps[0]["safety"][0]["decision"] == "acknowledged"
    assert steps[0]["safety"][0]["decided_by"] == decided_by


@pytest.mark.browser
def test_ask_prompt_answered_no_denies(page: PageServer, tmp_path: Path) -> None:
    with ScriptedResponsesServer(SAFETY_SCRIPT) as server:
        res = screenloop(
            *_run_args(server, tmp_path / "run", "--url", page.url, "--safety", "ask"),
            stdin="n\n",
        )
    assert res.code == ExitCode.SAFETY_DENIED
    assert page.events == []


@pytest.mark.browser
def test_max_steps_is_a_limit_exit(page: PageServer, tmp_path: Path) -> None:
    script = [turn(computer_call("screenshot"), repeat=5), turn(message("done"))]
    with ScriptedResponsesServer(script) as server:
        res = screenloop(
            *_run_args(server, tmp_path / "run", "--url", page.url, "--max-steps", "2", "--json")
        )
    assert res.code == ExitCode.LIMIT_REACHED
    assert res.json()["status"] == "max_steps"
    assert res.json()["steps"] == 2


@pytest.mark.browser
def test_api_error_exit_and_the_key_never_printed(page: PageServer, tmp_path: Path) -> None:
    with ScriptedResponsesServer(BROWSER_SCRIPT, require_api_key="another-key-entirely") as srv:
        res = screenloop(*_run_args(srv, tmp_path / "run", "--url", page.url, "--json", "-v"))
    assert res.code == ExitCode.API_ERROR, res.stderr
    out = res.json()
    assert out["status"] == "error"
    assert out["error"]["type"] == "AuthenticationError"
    assert "DEBUG" in res.stderr  # -v logs
    assert KEY not in res.stdout + res.stderr
    assert KEY not in (tmp_path / "run" / "run.json").read_text()


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["run", "t", "--url", "http://127.0.0.1:9/", "--desktop"], {}, "choose one of"),
        (["run", "t", "--launch", "xterm"], {}, "--launch needs --desktop"),
        (["run", "t", "--url", "http://127.0.0.1:9/"], {}, "TZAFON_API_KEY"),
        (["run", "t", "--display", "huge", "--api-key", "k"], {}, "1280x720"),
        (["run", "t", "--no-such-option"], {}, "No such option"),
        (["run", "t", "--desktop", "--isolated-browser"], {}, "--isolated-browser applies"),
    ],
    ids=[
        "two-targets",
        "launch-without-desktop",
        "no-key",
        "bad-display",
        "unknown-option",
        "isolated-desktop",
    ],
)
def test_usage_errors_exit_2(args: list[str], env: dict[str, str], needle: str) -> None:
    res = screenloop(*args, env=clean_env(**env), timeout=60)
    assert res.code == ExitCode.USAGE, res.stdout + res.stderr
    assert needle in res.stdout + res.stderr


def test_help_documents_every_exit_code() -> None:
    res = screenloop("run", "--help", env=clean_env(COLUMNS="200"))
    assert res.code == 0
    text = " ".join(res.stdout.split())
    for code in (ExitCode.SAFETY_DENIED, ExitCode.LIMIT_REACHED, ExitCode.API_ERROR):
        assert f"{int(code)} " in text
    assert "130 cancelled" in text and "143 terminated" in text
    for option in ("--url", "--desktop", "--launch", "--x-display", "--max-time", "--safety"):
        assert option in text


def _wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.browser
@pytest.mark.parametrize(
    ("sig", "code"),
    [(signal.SIGTERM, ExitCode.TERMINATED), (signal.SIGINT, ExitCode.CANCELLED)],
    ids=["sigterm", "sigint"],
)
def test_signal_cancels_the_run_and_finishes_the_record(
    page: PageServer, tmp_path: Path, sig: signal.Signals, code: ExitCode
) -> None:
    run_dir = tmp_path / "run"
    script = [turn(computer_call("click", x=200, y=150)), turn(message("late"), delay=60)]
    with ScriptedResponsesServer(script) as server:
        proc = popen_screenloop(
            _run_args(server, run_dir, "--url", page.url, "--json"), clean_env()
        )
        try:
            # step 1 is written once its screenshot is taken; the model is then "thinking"
            _wait_for(run_dir / "screenshots" / "0001.png")
            _wait_for_requests(server, 2)
            proc.send_signal(sig)
            stdout, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == code, stderr
    assert json.loads(stdout)["status"] == "cancelled"
    run, steps = read_run(run_dir)
    assert run["status"] == "cancelled"
    assert run["ended_at"] is not None
    assert len(steps) >= 1


def _wait_for_requests(server: ScriptedResponsesServer, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len([r for r in server.requests if r.method == "POST"]) < n:
        assert time.monotonic() < deadline, "the CLI never sent its second request"
        time.sleep(0.05)


TK_APP = REPO / "tests" / "apps" / "tk_events.py"


def _tk_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.desktop
def test_desktop_run_launches_a_program_and_drives_it(tmp_path: Path) -> None:
    log = tmp_path / "tk.jsonl"
    run_dir = tmp_path / "run"
    script = [
        turn(computer_call("click", x=200, y=100)),
        turn(computer_call("type", text="hi there")),
        turn(message("typed")),
    ]
    launch = f"python3 {TK_APP} {log}"
    with ScriptedResponsesServer(script) as server:
        res = screenloop(
            "run",
            "type hi there into the window",
            "--desktop",
            "--launch",
            launch,
            "--display",
            "800x600",
            "--base-url",
            server.base_url,
            "--model",
            MODEL,
            "--coordinates",
            "pixels",
            "--record",
            str(run_dir),
            "--json",
        )
    assert res.code == ExitCode.COMPLETED, res.stderr
    assert res.json()["status"] == "completed"
    events = _tk_log(log)
    presses = [e for e in events if e["type"] == "ButtonPress"]
    assert presses and (presses[0]["x_root"], presses[0]["y_root"]) == (200, 100)
    texts = [e["text"] for e in events if e["type"] == "text"]
    assert texts and texts[-1].rstrip("\n") == "hi there"
    run, _ = read_run(run_dir)
    assert run["executor"]["kind"] == "desktop"
    assert run["executor"]["launch"] == [launch]
    assert run["display"] == {"width": 800, "height": 600}
    assert (run_dir / "report.html").is_file()


def test_python_dash_m_agent_is_the_cli() -> None:
    res = screenloop("--help", env=clean_env(COLUMNS="200"))
    assert res.code == 0
    for command in ("run", "demo", "replay", "report", "doctor", "serve-script"):
        assert command in res.stdout


@pytest.mark.desktop
def test_desktop_run_replays_on_a_fresh_display(tmp_path: Path) -> None:
    log = tmp_path / "tk.jsonl"
    run_dir = tmp_path / "run"
    script = [turn(computer_call("click", x=200, y=100)), turn(computer_call("type", text="abc"))]
    with ScriptedResponsesServer([*script, turn(message("ok"))]) as server:
        res = screenloop(
            "run", "type abc", "--desktop", "--launch", f"python3 {TK_APP} {log}",
            "--display", "800x600", "--base-url", server.base_url, "--model", MODEL,
            "--coordinates", "pixels", "--record", str(run_dir),
        )  # fmt: skip
    assert res.code == ExitCode.COMPLETED, res.stderr
    log.unlink()
    # our own run: we trust its recorded launch command (replay refuses it otherwise)
    replayed = screenloop("replay", str(run_dir), "--json", "--trust-run-dir")
    assert replayed.code == ExitCode.COMPLETED, replayed.stdout + replayed.stderr
    assert replayed.json()["compared"] == 3
    # the replay really typed into a freshly launched app
    texts = [e["text"] for e in _tk_log(log) if e["type"] == "text"]
    assert texts[-1] == "abc"


@pytest.mark.desktop
def test_x_display_attaches_to_an_existing_display(tmp_path: Path) -> None:
    from sandbox import VirtualDisplay

    log = tmp_path / "tk.jsonl"
    run_dir = tmp_path / "run"
    script = [turn(computer_call("click", x=300, y=60)), turn(message("clicked"))]
    with VirtualDisplay(800, 600) as display:
        name = display.display
        display.launch(["python3", str(TK_APP), str(log)])
        deadline = time.monotonic() + 30
        while not (log.exists() and '"ready"' in log.read_text()):
            assert time.monotonic() < deadline, "the Tk app never became ready"
            time.sleep(0.05)
        with ScriptedResponsesServer(script) as server:
            res = screenloop(
                "run", "click", "--x-display", display.display, "--base-url", server.base_url,
                "--model", MODEL, "--coordinates", "pixels", "--record", str(run_dir), "--json",
            )  # fmt: skip
    assert res.code == ExitCode.COMPLETED, res.stderr
    presses = [e for e in _tk_log(log) if e["type"] == "ButtonPress"]
    assert [(p["x_root"], p["y_root"]) for p in presses] == [(300, 60)]
    run, _ = read_run(run_dir)
    assert run["executor"]["x_display"] == name
