"""`screenloop demo --watch --safety ask` as a user runs it: a real subprocess, its watch URL
read from stderr, the checkout's safety check acknowledged through the page's control."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from cli_support import REPO, SCREENLOOP, clean_env

from agent._cli._watch import normalize_watch_argv
from agent._watch._server import TOKEN_HEADER
from agent.demo import DEMO_SAFETY_CODE

pytestmark = pytest.mark.browser


def test_watch_alone_takes_a_free_port_and_a_number_after_it_is_the_port() -> None:
    assert normalize_watch_argv(["run", "task", "--watch"]) == ["run", "task", "--watch=0"]
    assert normalize_watch_argv(["run", "--watch", "task"]) == ["run", "--watch=0", "task"]
    assert normalize_watch_argv(["run", "t", "--watch", "8765"]) == ["run", "t", "--watch", "8765"]
    assert normalize_watch_argv(["run", "--watch", "-v", "t"]) == ["run", "--watch=0", "-v", "t"]
    assert normalize_watch_argv(["report", "--watch"]) == ["report", "--watch"]
    assert normalize_watch_argv(["run", "--", "--watch"]) == ["run", "--", "--watch"]


def test_demo_with_watch_asks_the_page_and_records_the_answer(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    argv = [*SCREENLOOP, "demo", "--watch", "--safety", "ask", "--pace", "0"]
    proc = subprocess.Popen(
        [*argv, "--record", str(run_dir), "--json"],
        cwd=REPO,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = None
        for line in proc.stderr:
            found = re.search(r"(http://127\.0\.0\.1:\d+/)\?t=([A-Za-z0-9_-]+)", line)
            if found:
                url, token = found.group(1), found.group(2)
                break
        assert url is not None, "no watch URL on stderr"
        with httpx.Client(timeout=120) as client:
            run_id = None  # the page may come before the run: the stream waits for it
            with client.stream("GET", url + "events", params={"t": token}) as events:
                for line in events.iter_lines():
                    entry = json.loads(line[5:]) if line.startswith("data:") else {}
                    if entry.get("kind") == "run":
                        run_id = entry["id"]
                    if entry.get("kind") == "approval":
                        assert entry["checks"][0]["code"] == DEMO_SAFETY_CODE
                        reply = client.post(
                            url + "control",
                            json={"run": run_id, "action": "acknowledge", "id": entry["id"]},
                            headers={TOKEN_HEADER: token},
                        )
                        assert reply.status_code == 200, reply.text
                    if entry.get("kind") == "finished":
                        assert entry["status"] == "completed"
                        break
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert json.loads(out)["order_confirmed"] is True
    run = json.loads((run_dir / "run.json").read_text())
    assert run["watch"]["url"] == url and token not in json.dumps(run)
    steps = [json.loads(s) for s in (run_dir / "steps.jsonl").read_text().splitlines()]
    answers = [e for s in steps for e in s["events"] if e.get("control") == "safety_answer"]
    assert [(e["by"], e["data"]["decision"]) for e in answers] == [("watch", "acknowledged")]
    checks = [c for s in steps for c in s["safety"]]
    assert [(c["code"], c["decision"]) for c in checks] == [(DEMO_SAFETY_CODE, "acknowledged")]
