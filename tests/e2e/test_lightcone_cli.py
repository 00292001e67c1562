"""`screenloop run --computer lightcone` against serve-computers and the scripted Responses server.

The CLI (a subprocess) drives a hosted computer through the official SDK;
the computer is serve-computers (in this process) with a real Chromium. The
all-actions probe page proves every action by its effect; the server's
session list proves the session is deleted however the run ends (completed,
an error, SIGINT, SIGTERM).
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import clean_env, popen_screenloop, read_run, screenloop

from agent._cli._exit_codes import ExitCode
from agent._computers_server import ComputersServer
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import Point, Size
from executors._geometry import screen_to_model

pytest.importorskip("tzafon")
pytestmark = pytest.mark.browser

KEY = "slc-cli-key-4567"
SIZE = Size(1280, 720)


def n(x: int, y: int) -> dict[str, int]:
    mx, my = screen_to_model(Point(x, y), "normalized", SIZE)
    return {"x": round(mx), "y": round(my)}


def near(event: dict[str, Any], x: int, y: int) -> bool:
    return abs(event["x"] - x) <= 2 and abs(event["y"] - y) <= 2


@pytest.fixture(scope="module")
def computers() -> Iterator[ComputersServer]:
    with ComputersServer(api_key=KEY, keep_exchanges=True) as srv:
        yield srv


def run_args(
    responses: ScriptedResponsesServer, computers: ComputersServer, run_dir: Path, *extra: str
) -> list[str]:
    return [
        "run",
        "exercise every action",
        "--computer",
        "lightcone",
        "--kind",
        "browser",
        "--computer-base-url",
        computers.origin,
        "--base-url",
        responses.base_url,
        "--record",
        str(run_dir),
        "--json",
        *extra,
    ]


def probe_script(origin: str) -> list[dict[str, Any]]:
    """Every canonical action, on tests/pages/events.html."""
    return [
        turn(computer_call("navigate", url=f"{origin}/events.html")),
        turn(computer_call("click", **n(100, 100))),
        turn(computer_call("mouse_down", **n(600, 100))),
        turn(computer_call("mouse_up", **n(650, 120))),
        turn(computer_call("move", **n(500, 300))),
        turn(computer_call("drag", path=[n(100, 400), n(200, 420), n(300, 450)])),
        turn(
            {
                "type": "computer_call",
                "actions": [
                    {"type": "key_down", "keys": ["shift"]},
                    {"type": "click", **n(150, 150)},
                    {"type": "key_up", "keys": ["shift"]},
                ],
            }
        ),
        turn(computer_call("double_click", **n(200, 150))),
        turn(computer_call("triple_click", **n(300, 150))),
        turn(computer_call("click", button="right", **n(400, 150))),
        turn(computer_call("click", button="middle", **n(500, 300))),
        turn(computer_call("point_and_type", text="héllo wörld", **n(900, 34))),
        turn(computer_call("keypress", keys=["ctrl", "a"])),
        turn(computer_call("type", text="replaced")),
        turn(computer_call("scroll", scroll_x=0, scroll_y=150, **n(900, 300))),
        turn(computer_call("wait")),
        turn(computer_call("screenshot")),
        turn(computer_call("terminate", result="every effect done")),
    ]


def test_run_on_a_hosted_computer_completes_the_all_actions_probe(
    computers: ComputersServer, pages_origin: str, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    script = probe_script(pages_origin)
    before = len(computers.exchanges)
    with ScriptedResponsesServer(script) as responses:
        args = run_args(responses, computers, run_dir, "--url", f"{pages_origin}/events.html?s")
        result = screenloop(*args, "--keep-computer", env=clean_env(TZAFON_API_KEY=KEY))
        bodies = [r.body for r in responses.requests]
    assert result.code == 0, result.stderr
    assert result.json()["status"] == "completed"
    (session_id,) = computers.pool.ids()  # kept, as asked
    page = computers.session(session_id).computer.page  # type: ignore[attr-defined]
    events: list[dict[str, Any]] = computers.call(lambda: page.evaluate("window.__events"))
    value = computers.call(lambda: page.input_value("#text"))
    scroll = computers.call(lambda: page.evaluate("window.__scroll()"))

    def of(kind: str) -> list[dict[str, Any]]:
        return [e for e in events if e["type"] == kind]

    assert any(near(e, 100, 100) and e["detail"] == 1 and not e["shift"] for e in of("click"))
    assert any(near(e, 600, 100) for e in of("mousedown"))
    assert any(near(e, 650, 120) for e in of("mouseup"))
    assert any(near(e, 500, 300) and e["buttons"] == 0 for e in of("mousemove"))  # move
    assert any(near(e, 100, 400) for e in of("mousedown"))
    assert any(near(e, 200, 420) for e in of("mousemove"))  # along the path
    assert any(near(e, 300, 450) for e in of("mouseup"))
    assert any(near(e, 150, 150) and e["shift"] for e in of("click"))
    assert any(near(e, 200, 150) for e in of("dblclick"))
    assert any(near(e, 300, 150) and e["detail"] == 3 for e in of("click"))
    assert any(near(e, 400, 150) for e in of("contextmenu"))
    assert any(near(e, 500, 300) and e["button"] == 1 for e in of("auxclick"))
    assert any(e.get("value") == "héllo wörld" for e in of("input"))
    assert value == "replaced"  # ctrl+a selected the text, typing replaced it
    assert [e for e in of("wheel") if e["deltaY"] > 0] and scroll["inner"][1] > 0

    # one batch round trip per model turn (+ the first screenshot), the URL reported back
    batches = [e for e in computers.exchanges[before:] if e.route == "computers/{id}/batch"]
    assert len(batches) == 1 + len(script)
    assert bodies[1]["input"][0]["output"]["current_url"] == f"{pages_origin}/events.html"
    run, steps = read_run(run_dir)
    assert run["status"] == "completed" and run["executor"]["computer"] == "lightcone"
    assert all((run_dir / s["screenshot"]).stat().st_size > 0 for s in steps[:-1])
    everything = "".join(p.read_text() for p in run_dir.glob("*.json*")) + result.stderr
    assert KEY not in everything

    computers.call(lambda: computers.pool.end(session_id, "test done"))
    assert not computers.pool.ids()


def _wait_for_posts(server: ScriptedResponsesServer, count: int) -> None:
    stop = threading.Event()
    for _ in range(3000):
        if len([r for r in server.requests if r.method == "POST"]) >= count:
            return
        stop.wait(0.02)
    raise AssertionError(f"the CLI never sent request {count}")


@pytest.mark.parametrize(
    ("ending", "code"),
    [
        ("completed", ExitCode.COMPLETED),
        ("error", ExitCode.API_ERROR),
        ("sigint", ExitCode.CANCELLED),
        ("sigterm", ExitCode.TERMINATED),
    ],
)
def test_the_session_is_deleted_however_the_run_ends(
    computers: ComputersServer, pages_origin: str, tmp_path: Path, ending: str, code: int
) -> None:
    first = turn(computer_call("click", **n(100, 100)))
    second = {
        "completed": turn(message("done")),
        "error": {"fault": "http", "status": 400, "body": {"error": {"message": "bad"}}},
        "sigint": turn(message("late"), delay=120),
        "sigterm": turn(message("late"), delay=120),
    }[ending]
    ended = len(computers.pool.ended)
    with ScriptedResponsesServer([first, second]) as responses:
        args = run_args(responses, computers, tmp_path / "run", "--url", pages_origin + "/")
        proc = popen_screenloop(args, clean_env(TZAFON_API_KEY=KEY))
        try:
            if ending.startswith("sig"):
                _wait_for_posts(responses, 2)  # the model is "thinking" on a live session
                assert len(computers.pool.ids()) == 1
                proc.send_signal(signal.SIGINT if ending == "sigint" else signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == code, stderr
    assert json.loads(stdout)["status"] in ("completed", "error", "cancelled")
    assert computers.pool.wait_until(lambda ids: not ids, timeout=30)
    assert [why for _, why in computers.pool.ended[ended:]] == ["deleted"]


@pytest.mark.parametrize(
    "flags",
    [
        ["--kind", "desktop"],
        ["--computer-id", "cmp_1"],
        ["--computer", "cloud"],
        ["--computer", "lightcone", "--kind", "laptop"],
        ["--computer", "lightcone", "--desktop"],
        ["--computer", "lightcone", "--allow-domain", "example.com"],
        ["--computer", "lightcone", "--kind", "desktop", "--url", "http://127.0.0.1/"],
        # the hosted computer encodes its screenshots: a flag it would ignore is refused
        ["--computer", "lightcone", "--image-format", "webp"],
        ["--computer", "lightcone", "--compression", "small"],
    ],
)
def test_computer_options_that_cannot_work_are_usage_errors(flags: list[str]) -> None:
    result = screenloop("run", "task", *flags, env=clean_env(TZAFON_API_KEY="sk-x"))
    assert result.code == ExitCode.USAGE, result.stderr


def test_a_refused_computers_key_fails_before_the_model_and_is_not_shown(
    computers: ComputersServer, tmp_path: Path
) -> None:
    with ScriptedResponsesServer([turn(message("never"))]) as responses:
        args = run_args(responses, computers, tmp_path / "run")
        result = screenloop(*args, env=clean_env(TZAFON_API_KEY="sk-wrong-computers-key"))
        assert not responses.requests
    assert result.code == ExitCode.EXECUTOR_ERROR, result.stderr
    assert result.json()["error"]["type"] == "LightconeAuthError"
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["status"] == "error"
    everything = result.stdout + result.stderr + (tmp_path / "run" / "run.json").read_text()
    assert "sk-wrong-computers-key" not in everything


def test_serve_computers_command_prints_its_origin_and_key_and_stops_on_sigterm() -> None:
    import subprocess
    import sys

    from cli_support import REPO

    env = clean_env()
    env.pop("SCREENLOOP_COMPUTERS_KEY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "serve-computers"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        origin = proc.stdout.readline().strip()
        key = proc.stdout.readline().strip().removeprefix("key: ")
        assert origin.startswith("http://127.0.0.1:") and len(key) > 20
        import tzafon

        assert tzafon.Lightcone(api_key=key, base_url=origin).computers.list() == []
        with pytest.raises(tzafon.AuthenticationError):
            tzafon.Lightcone(api_key="nope", base_url=origin, max_retries=0).computers.list()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "stopped; 0 session(s) ended" in stderr and key not in stderr


def test_serve_computers_refuses_a_launch_command_no_session_could_start() -> None:
    """Every desktop session would show xterm for a moment and lose it: refused at
    start, with the reason, instead of as a 503 for each session."""
    result = screenloop(
        "serve-computers", "--launch", "xterm -e no-such-editor {session}.txt", env=clean_env()
    )
    assert result.code == 2
    assert "'no-such-editor' is not installed" in result.stderr
    assert "http://" not in result.stdout  # it never listened
