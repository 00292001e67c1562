"""`screenloop demo --watch --safety ask` as a user runs it: a real subprocess, its watch URL
read from stderr, the checkout's safety check acknowledged through the page's control."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from cli_support import REPO, SCREENLOOP, clean_env, page_server

from agent._cli._exit_codes import ExitCode
from agent._cli._watch import normalize_watch_argv
from agent._watch._server import TOKEN_HEADER
from agent.demo import DEMO_SAFETY_CODE
from agent.testing import ScriptedResponsesServer, computer_call, message, safety_check, turn

pytestmark = pytest.mark.browser


def test_watch_alone_takes_a_free_port_and_a_number_after_it_is_the_port() -> None:
    assert normalize_watch_argv(["run", "task", "--watch"]) == ["run", "task", "--watch=0"]
    assert normalize_watch_argv(["run", "--watch", "task"]) == ["run", "--watch=0", "task"]
    assert normalize_watch_argv(["run", "t", "--watch", "8765"]) == ["run", "t", "--watch", "8765"]
    assert normalize_watch_argv(["run", "--watch", "-v", "t"]) == ["run", "--watch=0", "-v", "t"]
    assert normalize_watch_argv(["batch", "t.yaml", "--watch"]) == ["batch", "t.yaml", "--watch=0"]
    assert normalize_watch_argv(["batch", "--watch", "t.yaml"]) == ["batch", "--watch=0", "t.yaml"]
    assert normalize_watch_argv(["report", "--watch"]) == ["report", "--watch"]
    assert normalize_watch_argv(["run", "--", "--watch"]) == ["run", "--", "--watch"]


def _answer_on_the_page(argv: list[str], answer: str) -> tuple[int, str, str, str, str]:
    """Run the CLI, read its watch URL from stderr, answer the safety check through the page's
    control; returns (exit status, stdout, stderr, url, token)."""
    proc = subprocess.Popen(
        [*SCREENLOOP, *argv],
        cwd=REPO,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = token = None
        for line in proc.stderr:
            found = re.search(r"(http://127\.0\.0\.1:\d+/)\?t=([A-Za-z0-9_-]+)", line)
            if found:
                url, token = found.group(1), found.group(2)
                break
        assert url is not None and token is not None, "no watch URL on stderr"
        with httpx.Client(timeout=120) as client:
            run_id = None  # the page may come before the run: the stream waits for it
            with client.stream("GET", url + "events", params={"t": token}) as events:
                for line in events.iter_lines():
                    entry = json.loads(line[5:]) if line.startswith("data:") else {}
                    if entry.get("kind") == "run":
                        run_id = entry["id"]
                    if entry.get("kind") == "approval":
                        reply = client.post(
                            url + "control",
                            json={"run": run_id, "action": answer, "id": entry["id"]},
                            headers={TOKEN_HEADER: token},
                        )
                        assert reply.status_code == 200, reply.text
                    if entry.get("kind") == "finished":
                        break
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err, url, token


def _answers(run_dir: Path) -> list[tuple[str, str]]:
    steps = [json.loads(s) for s in (run_dir / "steps.jsonl").read_text().splitlines()]
    return [
        (e["by"], e["data"]["decision"])
        for s in steps
        for e in s["events"]
        if e.get("control") == "safety_answer"
    ]


def test_demo_with_watch_asks_the_page_and_records_the_answer(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    argv = ["demo", "--watch", "--safety", "ask", "--pace", "0", "--record", str(run_dir)]
    code, out, err, url, token = _answer_on_the_page([*argv, "--json"], "acknowledge")
    assert code == 0, err
    assert json.loads(out)["order_confirmed"] is True
    run = json.loads((run_dir / "run.json").read_text())
    assert run["watch"]["url"] == url and token not in json.dumps(run)
    assert _answers(run_dir) == [("watch", "acknowledged")]
    steps = [json.loads(s) for s in (run_dir / "steps.jsonl").read_text().splitlines()]
    checks = [c for s in steps for c in s["safety"]]
    assert [(c["code"], c["decision"]) for c in checks] == [(DEMO_SAFETY_CODE, "acknowledged")]


def test_run_with_watch_and_ask_denied_on_the_page_stops_with_the_safety_code(
    tmp_path: Path,
) -> None:
    script = [
        turn(computer_call("click", x=200, y=150, safety_checks=[safety_check("sensitive")])),
        turn(message("done")),
    ]
    run_dir = tmp_path / "run"
    with page_server() as page, ScriptedResponsesServer(script) as server:
        argv = ["run", "press Go", "--url", page.url, "--base-url", server.base_url]
        argv += ["--api-key", "sk-cli-watch-0123456789", "--coordinates", "pixels"]
        argv += ["--record", str(run_dir), "--safety", "ask", "--watch"]
        code, _, err, _, _ = _answer_on_the_page(argv, "deny")
        assert not page.events  # the click never ran
    assert code == ExitCode.SAFETY_DENIED, err
    assert _answers(run_dir) == [("watch", "denied")]
