"""First-contact frictions of `screenloop run`: what a new user sees on the terminal."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from agent import SafetyCheck
from agent._cli._prompts import terminal_ask
from agent.testing import ScriptedResponsesServer, computer_call, message, turn

_KEYS = ("TZAFON_API_KEY", "OPENAI_API_KEY", "LIGHTCONE_BASE_URL", "OPENAI_BASE_URL")


def test_the_safety_prompt_shows_its_y_n_hint_and_reads_the_answer() -> None:
    out = io.StringIO()
    ask = terminal_ask(Console(file=out, width=200), None, stdin=io.StringIO("y\n"))
    check = SafetyCheck(id="sc_1", code="[malicious]", message="Pay [now]?")
    assert ask([check]) is True
    text = out.getvalue()
    assert "Acknowledge and let the model continue? [y/N]" in text
    assert "[malicious]: Pay [now]?" in text  # the model's text is not read as markup
    assert (
        terminal_ask(Console(file=io.StringIO()), None, stdin=io.StringIO("\n"))([check]) is False
    )


def test_json_run_without_a_key_prints_a_json_error_naming_the_flag() -> None:
    env = {k: v for k, v in os.environ.items() if k not in _KEYS}
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "run", "open a page", "--url", "about:blank", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "error"
    assert data["exit_code"] == 2
    assert data["error"]["type"] == "ConfigurationError"
    assert "--api-key" in data["error"]["message"]
    assert "api_key=" not in data["error"]["message"] + proc.stderr


def _run(args: list[str], tmp: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _KEYS}
    return subprocess.run(
        [sys.executable, "-m", "agent", "run", "click the page", "--url", "about:blank",
         "--api-key", "sk-test-1", "--record", tmp, *args],
        capture_output=True, text=True, env=env, timeout=170,
    )  # fmt: skip


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_ci_output_has_a_line_per_step_and_json_names_the_report(tmp_path: Path) -> None:
    turns = [
        turn(computer_call("click", button="left", x=100, y=100)),
        turn(message("Clicked.")),
    ]
    with ScriptedResponsesServer(turns) as server:
        plain = _run(["--base-url", server.base_url], str(tmp_path / "plain"))
    assert plain.returncode == 0, plain.stdout + plain.stderr
    steps = [line for line in plain.stdout.splitlines() if line.startswith("step ")]
    assert len(steps) == 1 and steps[0].startswith("step 1: "), plain.stdout
    assert "s in)" in steps[0]

    with ScriptedResponsesServer(turns) as server:
        as_json = _run(["--base-url", server.base_url, "--json"], str(tmp_path / "json"))
    assert as_json.returncode == 0, as_json.stdout + as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["status"] == "completed"
    assert data["report"] == str(tmp_path / "json" / "report.html")
    assert Path(data["report"]).is_file()
