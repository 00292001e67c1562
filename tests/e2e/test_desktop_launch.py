"""`screenloop run --desktop --launch CMD` when CMD dies or never shows a window:
exit status 6 before the first model call, with the program's exit status and
the end of its stderr in the message and in the --json record. The display in
run.json and the watch hint. `--host-desktop` on an Xvfb display standing in
for the user's own screen."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_support import clean_env, screenloop

from agent._cli._exit_codes import ExitCode
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from sandbox import VirtualDisplay

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]

MODEL = "tzafon.northstar-cua-fast"


def run(
    server: ScriptedResponsesServer, tmp_path: Path, *launch_args: str
) -> tuple[int, str, dict]:
    res = screenloop(
        "run",
        "edit the file",
        "--desktop",
        *launch_args,
        "--display",
        "640x480",
        "--base-url",
        server.base_url,
        "--model",
        MODEL,
        "--record",
        str(tmp_path / "run"),
        "--json",
    )
    return res.code, res.stderr, res.json() if res.stdout.strip() else {}


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("sh -c 'echo no display for you >&2; exit 3'", ["status 3", "no display for you"]),
        # xterm exits 0 without a word when its -e program is missing
        ("xterm -e no-such-editor", ["status 0", "'no-such-editor' is not installed"]),
    ],
    ids=["dies-with-stderr", "xterm-missing-program"],
)
def test_a_dying_launch_exits_6_before_the_first_model_call(
    tmp_path: Path, command: str, expected: list[str]
) -> None:
    if command.startswith("xterm") and shutil.which("xterm") is None:
        pytest.skip("xterm is not installed")
    with ScriptedResponsesServer([turn(message("done"))]) as server:
        code, stderr, record = run(server, tmp_path, "--launch", command)
        assert server.requests == [], "the model was called although the program died"
    assert code == ExitCode.EXECUTOR_ERROR, stderr
    assert "LaunchError" in stderr
    for text in expected:
        assert text in stderr
        assert text in record["error"]["message"]
    assert record["error"]["type"] == "LaunchError"
    assert record["exit_code"] == ExitCode.EXECUTOR_ERROR
    # the run directory says why too
    run_json = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run_json["status"] == "error"
    assert run_json["error"]["type"] == "LaunchError"
    for text in expected:
        assert text in run_json["error"]["message"]


def test_allow_windowless_lets_a_windowless_program_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with ScriptedResponsesServer([turn(message("done"))]) as server:
        code, stderr, record = run(
            server, tmp_path, "--launch", f"touch {marker}", "--allow-windowless"
        )
        assert len(server.requests) == 1
    assert code == ExitCode.COMPLETED, stderr
    assert record["status"] == "completed"
    assert marker.exists()


def test_run_json_records_the_display_and_the_cli_says_how_to_watch_it(tmp_path: Path) -> None:
    seen = tmp_path / "display.txt"
    app = Path(__file__).resolve().parents[1] / "apps" / "tk_events.py"
    # the launched program writes the DISPLAY it was started on, then becomes the Tk app
    launch = f"sh -c 'echo $DISPLAY > {seen}; exec python3 {app} {tmp_path / 'tk.jsonl'}'"
    with ScriptedResponsesServer([turn(message("done"))]) as server:
        code, stderr, _ = run(server, tmp_path, "--launch", launch)
    assert code == ExitCode.COMPLETED, stderr
    run_json = json.loads((tmp_path / "run" / "run.json").read_text())
    name = seen.read_text().strip()
    assert name.startswith(":")
    assert run_json["x_display"] == {"name": name, "width": 640, "height": 480}
    assert f"X display {name} (640x480)" in stderr
    assert f"x11vnc -display {name} -viewonly" in stderr


def test_host_desktop_asks_first_and_refuses_without_a_terminal(tmp_path: Path) -> None:
    with ScriptedResponsesServer([turn(message("done"))]) as server:
        res = screenloop(
            "run", "t", "--host-desktop", "--base-url", server.base_url, "--model", MODEL
        )
        assert server.requests == []
    assert res.code == ExitCode.USAGE
    assert "confirm with --yes" in res.stderr


def test_host_desktop_with_yes_drives_the_screen_display_names(tmp_path: Path) -> None:
    app = Path(__file__).resolve().parents[1] / "apps" / "tk_events.py"
    log = tmp_path / "tk.jsonl"
    log.touch()
    script = [turn(computer_call("click", x=321, y=234)), turn(message("clicked"))]
    with VirtualDisplay(640, 480) as display, ScriptedResponsesServer(script) as server:
        display.launch(["python3", str(app), str(log)])
        for _ in range(1500):  # bounded: the app logs "ready" once mapped and focused
            if '"ready"' in log.read_text():
                break
            subprocess.run(["sleep", "0.02"], check=True)
        # the user's session: $DISPLAY names their screen
        res = screenloop(
            "run",
            "click",
            "--host-desktop",
            "--yes",
            "--display",
            "640x480",
            "--coordinates",
            "pixels",
            "--base-url",
            server.base_url,
            "--model",
            MODEL,
            "--record",
            str(tmp_path / "run"),
            env=clean_env(DISPLAY=display.display),
        )
        name = display.display
    assert res.code == ExitCode.COMPLETED, res.stderr
    presses = [
        e for e in map(json.loads, log.read_text().splitlines()) if e["type"] == "ButtonPress"
    ]
    assert [(e["x_root"], e["y_root"]) for e in presses] == [(321, 234)]
    run_json = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run_json["executor"]["host_desktop"] is True
    assert run_json["x_display"]["name"] == name


def test_replay_of_a_windowless_run_launches_it_the_same_way(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with ScriptedResponsesServer([turn(message("done"))]) as server:
        code, stderr, _ = run(server, tmp_path, "--launch", f"touch {marker}", "--allow-windowless")
    assert code == ExitCode.COMPLETED, stderr
    run_json = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run_json["executor"]["allow_windowless"] is True
    marker.unlink()

    # the replay starts the recorded (windowless) launch again and is not stopped by it
    res = screenloop("replay", str(tmp_path / "run"), "--trust-run-dir", "--json")
    assert res.code == ExitCode.COMPLETED, res.stderr
    assert "LaunchError" not in res.stderr
    assert marker.exists()  # the recorded program ran again
