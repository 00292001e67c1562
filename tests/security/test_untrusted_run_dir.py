"""A run directory is untrusted input to `screenloop report` and `screenloop replay`.

Replay never runs a command recorded in run.json unless the user says so,
applies the domain policy the run was recorded under, reads nothing outside
the run directory, and turns every malformed input into a one-line error with
exit status 2 (issue 13, rows 1, 2 and 11).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from rel_support import Site, scripted_agent

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from cli_support import screenloop

from agent._cli._replay import ReplayOptions, open_recorded, replay_launch
from agent._errors import ConfigurationError, RunDirectoryError
from agent._record._replay import load_run, replay_run
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import PlaywrightComputer
from sandbox import DomainPolicy


def write_run(root: Path, executor: dict[str, Any], steps: list[dict[str, Any]] = ()) -> Path:  # type: ignore[assignment]
    root.mkdir(parents=True, exist_ok=True)
    run = {
        "schema_version": 1,
        "status": "completed",
        "executor": executor,
        "display": {"width": 320, "height": 240},
    }
    (root / "run.json").write_text(json.dumps(run))
    (root / "steps.jsonl").write_text("".join(json.dumps(s) + "\n" for s in steps))
    return root


def test_replay_refuses_to_run_a_recorded_launch_command(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    run = write_run(
        tmp_path / "run",
        {"kind": "desktop", "launch": [f"sh -c 'touch {marker}'"]},
    )
    out = screenloop("replay", str(run), timeout=60)
    assert out.code == 2, out
    assert "--trust-run-dir" in out.stderr and "touch" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not marker.exists()


def test_replay_launch_needs_trust_or_its_own_command(tmp_path: Path) -> None:
    executor = {"kind": "desktop", "launch": ["xterm -e top", ["xclock", "-digital"]]}
    opts = ReplayOptions(run_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="trust-run-dir"):
        replay_launch(executor, opts)
    trusted = ReplayOptions(run_dir=tmp_path, trust_run_dir=True)
    assert replay_launch(executor, trusted) == ["xterm -e top", "xclock -digital"]
    own = ReplayOptions(run_dir=tmp_path, launch=["xeyes"])
    assert replay_launch(executor, own) == ["xeyes"]
    with pytest.raises(RunDirectoryError):
        replay_launch({"launch": [{"cmd": "x"}]}, trusted)


@pytest.mark.browser
async def test_replay_applies_the_recorded_domain_policy(tmp_path: Path) -> None:
    with Site("127.0.0.1") as web, Site("127.0.0.2") as forbidden:
        script = [
            turn(computer_call("navigate", url=forbidden.url("/secret-admin"))),
            turn(message("done")),
        ]
        policy = DomainPolicy(allow=["127.0.0.1"])
        async with PlaywrightComputer(
            size=(320, 240), start_url=web.url("/"), policy=policy
        ) as computer:
            with ScriptedResponsesServer(script) as server:
                agent = scripted_agent(computer, server, tmp_path / "run")
                result = await agent.run("go")
        assert result.status == "completed", result.error
        assert forbidden.hits == []  # refused in the original run
        recorded = load_run(tmp_path / "run")
        assert recorded.executor["policy"]["allow"] == ["127.0.0.1"]

        opts = ReplayOptions(run_dir=tmp_path / "run")
        async with open_recorded(recorded, None, opts) as replayed:
            await replay_run(recorded, replayed, wait_s=0.2, settle_s=0.5)
        assert forbidden.hits == [], "replay reached a host the recorded policy refused"
        assert web.hits, "the replay never loaded the start page"


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("deep_json", lambda d: (d / "run.json").write_text("[" * 200_000 + "]" * 200_000)),
        ("torn_utf8", lambda d: (d / "steps.jsonl").write_bytes(b'{"step": 1, "x": "\xe2\x82"}\n')),
        ("steps_dir", lambda d: ((d / "steps.jsonl").unlink(), (d / "steps.jsonl").mkdir())),
        ("run_json_list", lambda d: (d / "run.json").write_text("[1, 2]")),
        ("outside_path", lambda d: _edit(d, initial_screenshot="/etc/passwd")),
        ("dotdot_path", lambda d: _edit(d, initial_screenshot="../../../etc/passwd")),
        ("non_image", lambda d: _shot(d, b"this is not a png")),
        ("bomb", lambda d: _shot(d, _bomb())),
        ("bad_actions", lambda d: _steps(d, [{"step": 1, "actions": "click"}])),
        ("bad_launch", lambda d: _edit(d, executor={"kind": "desktop", "launch": 5})),
        ("bad_policy", lambda d: _edit(d, executor={"policy": {"allow": "x"}})),
        ("bad_scale", lambda d: _edit(d, executor={"device_scale_factor": "big"})),
        ("bad_display", lambda d: _edit(d, display={"width": -1, "height": 10**9})),
        ("replay_symlink", lambda d: (d / "replay").symlink_to(_outside(d))),
    ],
)
@pytest.mark.parametrize("command", ["report", "replay"])
def test_damaged_run_dirs_give_one_line_errors(
    tmp_path: Path, name: str, damage: Any, command: str
) -> None:
    run = write_run(tmp_path / "run", {"kind": "browser", "start_url": "about:blank"})
    damage(run)
    out = screenloop(command, str(run), timeout=90)
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    assert "root:x:0" not in out.stdout + out.stderr
    # report shows what it can (a screenshot it refuses is left out with a warning);
    # replay must compare every screen, so it refuses
    lenient = (command == "report" and name in LENIENT_REPORT) or name in (
        "torn_utf8",
        "replay_symlink",
    )
    if lenient:
        assert out.code == 0, out.stderr
    else:
        assert out.code == 2, (out.code, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), out.stderr
    outside = tmp_path / "outside"
    assert not outside.exists() or not any(outside.iterdir()), "replay wrote outside the run"
    if command == "report" and out.code == 0:
        assert "root:x:0" not in (run / "report.html").read_text()


LENIENT_BOTH = {"torn_utf8", "replay_symlink"}
LENIENT_REPORT = {
    "outside_path",
    "dotdot_path",
    "non_image",
    "bomb",
    "bad_actions",
    "bad_policy",
    "bad_scale",
    "bad_display",
}


def _edit(root: Path, **fields: Any) -> None:
    run = json.loads((root / "run.json").read_text())
    for key, value in fields.items():
        if isinstance(value, dict) and isinstance(run.get(key), dict):
            run[key].update(value)
        else:
            run[key] = value
    (root / "run.json").write_text(json.dumps(run))


def _outside(root: Path) -> Path:
    outside = root.parent / "outside"
    outside.mkdir()
    return outside


def _shot(root: Path, data: bytes) -> None:
    (root / "screenshots").mkdir(exist_ok=True)
    (root / "screenshots" / "0000.png").write_bytes(data)
    _edit(root, initial_screenshot="screenshots/0000.png")


def _steps(root: Path, steps: list[dict[str, Any]]) -> None:
    (root / "steps.jsonl").write_text("".join(json.dumps(s) + "\n" for s in steps))


def _bomb() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")
    return out.getvalue()
