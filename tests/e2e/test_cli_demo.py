"""`screenloop demo`, `replay` and `doctor` as a newcomer runs them: real subprocesses.

One demo run (headless Chromium, the bundled shop and model on loopback) is
recorded per module; replay re-executes it on a fresh shop and must match every
screen, then on the "moved-button" shop and must report the step whose screen
changed.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import clean_env, read_run, screenloop

from agent._cli._exit_codes import ExitCode
from agent.demo import DEMO_FINAL_OUTPUT, DEMO_PASSWORD, DEMO_SAFETY_CODE, DEMO_STEPS, DemoApp

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    run_dir = tmp_path_factory.mktemp("demo") / "run"
    res = screenloop("demo", "--record", str(run_dir), "--json", timeout=240)
    assert res.code == ExitCode.COMPLETED, res.stdout + res.stderr
    yield run_dir, res.json()


def test_demo_completes_and_the_shop_confirms_the_order(
    demo_run: tuple[Path, dict[str, Any]],
) -> None:
    run_dir, out = demo_run
    assert out["status"] == "completed"
    assert out["final_output"] == DEMO_FINAL_OUTPUT
    assert out["order_confirmed"] is True
    assert out["steps"] == len(DEMO_STEPS) + 1
    assert (run_dir / "report.html").is_file()
    run, steps = read_run(run_dir)
    assert run["executor"]["demo"] is True
    assert run["model"] == "tzafon.northstar-cua-fast"
    assert run["coordinate_space"] == "normalized"
    checks = [c for s in steps for c in s["safety"]]
    assert [(c["code"], c["decision"]) for c in checks] == [(DEMO_SAFETY_CODE, "acknowledged")]
    types = {a["type"] for s in steps for a in s["actions"]}
    assert {"click", "type", "keypress", "scroll", "double_click", "drag", "move"} <= types
    record = "".join(p.read_text() for p in run_dir.glob("*.json*"))
    assert DEMO_PASSWORD not in record + (run_dir / "report.html").read_text()


def test_demo_prints_where_the_report_is(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    res = screenloop("demo", "--record", str(run_dir), timeout=240)
    assert res.code == ExitCode.COMPLETED, res.stderr
    assert f"report: {run_dir / 'report.html'}" in res.stdout
    assert "confirms the order" in res.stdout


def test_replay_of_the_demo_matches_every_screen(demo_run: tuple[Path, dict[str, Any]]) -> None:
    run_dir, _ = demo_run
    res = screenloop("replay", str(run_dir), "--json", timeout=240)
    assert res.code == ExitCode.COMPLETED, res.stdout + res.stderr
    out = res.json()
    assert out["ok"] is True
    assert out["first_divergence"] is None
    # the initial screen plus every step that acted
    assert out["compared"] == len(DEMO_STEPS) + 1
    assert max(c["distance"] for c in out["comparisons"]) <= out["threshold"]


def test_replay_reports_the_step_where_the_app_changed(
    demo_run: tuple[Path, dict[str, Any]],
) -> None:
    run_dir, _ = demo_run
    with DemoApp(variant="moved-button") as app:
        res = screenloop(
            "replay", str(run_dir), "--url", app.url, "--wait", "1", "--json", timeout=240
        )
    assert res.code == ExitCode.REPLAY_DIVERGED, res.stdout + res.stderr
    div = res.json()["first_divergence"]
    # step 11 opens the product page, where "Add to cart" now sits elsewhere
    page_of_step = {n: s.page for n, s in enumerate(DEMO_STEPS, start=1)}
    assert page_of_step[div["step"]] == "/products"
    assert page_of_step[div["step"] + 1] == "/product/desk-lamp"
    assert div["distance"] > res.json()["threshold"]
    assert Path(div["recorded"]).is_file() and Path(div["replayed"]).is_file()
    diff = Path(div["diff"])
    assert diff.is_file() and diff.parent == run_dir / "replay"
    # every screen before it matched
    assert all(c["matched"] for c in res.json()["comparisons"][:-1])


def test_replay_human_output_names_both_images(demo_run: tuple[Path, dict[str, Any]]) -> None:
    run_dir, _ = demo_run
    with DemoApp(variant="moved-button") as app:
        res = screenloop("replay", str(run_dir), "--url", app.url, "--wait", "0", timeout=240)
    assert res.code == ExitCode.REPLAY_DIVERGED
    assert "first divergence at step" in res.stdout
    assert "recorded: " in res.stdout and "replayed: " in res.stdout and "diff: " in res.stdout


def test_replay_of_a_missing_run_directory_is_a_usage_error(tmp_path: Path) -> None:
    res = screenloop("replay", str(tmp_path / "nope"))
    assert res.code == ExitCode.USAGE
    assert "run.json" in res.stderr


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_doctor_passes_here_and_never_shows_the_key() -> None:
    key = "tz-doctor-secret-key-abcdef012345"
    base = f"http://127.0.0.1:{_closed_port()}/v1"
    res = screenloop(
        "doctor", "--json", "--base-url", base, env=clean_env(TZAFON_API_KEY=key), timeout=120
    )
    assert res.code == ExitCode.COMPLETED, res.stdout + res.stderr
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    for name in ("python", "browser", "Xvfb", "openbox", "xdotool", "display"):
        assert checks[name]["status"] == "ok", checks[name]
    assert checks["api key"]["detail"] == f"TZAFON_API_KEY set ({len(key)} chars)"
    assert checks["connectivity"]["status"] == "warn"  # nothing listens there
    assert checks["connectivity"]["fix"]
    assert key not in res.stdout + res.stderr


def test_doctor_fails_without_a_browser_and_says_how_to_fix_it() -> None:
    base = f"http://127.0.0.1:{_closed_port()}/v1"
    res = screenloop(
        "doctor", "--base-url", base, env=clean_env(SCREENLOOP_CHROMIUM="/nonexistent/chrome")
    )
    assert res.code == ExitCode.CHECKS_FAILED
    text = " ".join(res.stdout.split())
    assert "SCREENLOOP_CHROMIUM" in text and "make setup" in text
    assert "no TZAFON_API_KEY" in text  # a warning, not a failure
