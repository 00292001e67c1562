"""`screenloop batch --watch`: one watch page for every attempt of a batch (issues 18 and 19).

A real batch subprocess (the demo shop in real Chromium, scripted models over
HTTP) with three tasks at once: two answer at once, the third one's model
"thinks" (its first request is held by the scripted server). While it thinks,
the one URL printed on stderr lists all three runs (``/runs``, and the page's
list in real Chromium, each link opening that run's page); without the token
nothing is served. The page's Stop then ends the held attempt, which is how
the batch ends.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import sync_playwright

from agent._cli._exit_codes import ExitCode
from agent._watch._server import TOKEN_HEADER
from sandbox import chromium_args, find_chromium
from tests.e2e.cli_support import clean_env, popen_screenloop

pytestmark = pytest.mark.browser

LOOK = {"output": [{"type": "computer_call", "action": {"type": "screenshot"}}]}
ANSWER = {"output": [{"type": "message", "content": "It costs $39.00."}]}
HELD = {"delay": 600, "output": [{"type": "message", "content": "It costs $39.00."}]}


def _task(name: str, script: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": name,
        "task": f"What does the desk lamp cost? ({name})",
        "url": "demo:/product/desk-lamp",
        "script": script,
        "check": {"answer": r"\$39\.00"},
    }


def _runs(client: httpx.Client, base: str, token: str) -> list[dict[str, Any]]:
    r = client.get(base + "runs", params={"t": token})
    assert r.status_code == 200, r.text
    runs: list[dict[str, Any]] = r.json()["runs"]
    return runs


@pytest.mark.timeout(600)
def test_a_batch_serves_one_watch_page_listing_every_attempt(tmp_path: Path) -> None:
    tasks = [_task("quick-1", [LOOK, ANSWER]), _task("quick-2", [ANSWER]), _task("held", [HELD])]
    task_file = tmp_path / "tasks.yaml"
    data = json.loads(json.dumps({"defaults": {"display": "800x600"}, "tasks": tasks}))
    task_file.write_text(yaml.safe_dump(data))  # (shared objects would be YAML aliases)
    out = tmp_path / "out"
    argv = ["batch", str(task_file), "--watch", "--concurrency", "3", "--record", str(out)]
    proc = popen_screenloop(argv, clean_env())
    try:
        assert proc.stderr is not None
        found, said = None, []
        for line in proc.stderr:
            said.append(line)
            found = re.search(r"(http://127\.0\.0\.1:\d+/)\?t=([A-Za-z0-9_-]+)", line)
            if found:
                break
        assert found is not None, f"no watch URL on stderr: {''.join(said)[-2000:]}"
        base, token = found.group(1), found.group(2)
        with httpx.Client(timeout=60) as client:
            # wait for the event: all three registered, the two quick ones finished
            deadline = time.monotonic() + 300
            runs = _runs(client, base, token)
            while [r["status"] for r in runs].count("completed") < 2 or len(runs) < 3:
                assert time.monotonic() < deadline, f"the runs never got there: {runs}"
                time.sleep(0.1)
                runs = _runs(client, base, token)
            assert sorted(r["task"] for r in runs) == sorted(t["task"] for t in tasks)
            held = next(r for r in runs if r["task"].endswith("(held)"))
            assert held["status"] == "running"
            # without the token (or with a wrong one) nothing is served
            for params in ({}, {"t": "x" + token[1:]}):
                for path in ("runs", "", "events"):
                    refused = client.get(base + path, params=params)
                    assert refused.status_code == 403
                    assert "runs" not in refused.json() and "held" not in refused.text
            # the page lists every run; each link opens that run's own page
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=str(find_chromium(None)), args=chromium_args()
                )
                try:
                    page = browser.new_page(viewport={"width": 1280, "height": 720})
                    page.goto(f"{base}?t={token}&run={held['id']}")
                    page.locator("#runs li").nth(2).wait_for()
                    assert page.locator("#runs li").count() == 3
                    assert page.locator("#runs li.here a").inner_text() == held["task"]
                    quick = next(r for r in runs if r["task"].endswith("(quick-2)"))
                    page.get_by_role("link", name=quick["task"]).click()
                    page.locator("#status.st-completed").wait_for()
                    assert page.locator("#task").inner_text() == quick["task"]
                finally:
                    browser.close()
            # the shared page steers each attempt: stopping the held one ends the batch
            stop = client.post(
                base + "control",
                json={"run": held["id"], "action": "stop"},
                headers={TOKEN_HEADER: token},
            )
            assert stop.status_code == 200, stop.text
        proc.wait(timeout=240)
        stderr = "".join(said) + proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == ExitCode.CHECKS_FAILED, stderr[-3000:]
    assert stderr.count("?t=") == 1  # the URL once, for the whole batch
    summary = json.loads((out / "summary.json").read_text())
    attempts = {t["id"]: t["attempts"][0] for t in summary["tasks"]}
    assert attempts["quick-1"]["passed"] and attempts["quick-2"]["passed"]
    assert attempts["held"]["status"] == "cancelled"
    for name in ("quick-1", "held"):  # run.json says it was watched, never the token
        run_json = (out / attempts[name]["run_dir"] / "run.json").read_text()
        assert json.loads(run_json)["watch"]["url"] == base
        assert token not in run_json
