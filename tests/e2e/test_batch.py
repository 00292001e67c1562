"""`screenloop batch` end to end: real Chromium, the demo shop, scripted models over HTTP.

Each attempt is a real `screenloop run` of its task (its own browser, run
directory and report); what an attempt did is proven by its effect -- the
shop's URL after a double-click, the shop's sign-in state read by a command
check, the answer the model gave -- and the batch's arithmetic by summary.json.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent._cli._exit_codes import ExitCode
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from tests.e2e.cli_support import REPO, clean_env, popen_screenloop, screenloop

EXAMPLES = REPO / "examples" / "eval" / "tasks.yaml"
LOOK = {"output": [{"type": "computer_call", "action": {"type": "screenshot"}}]}


def _answer(text: str) -> dict[str, Any]:
    return {"output": [{"type": "message", "content": text}]}


def _write_tasks(path: Path, tasks: list[dict[str, Any]], **defaults: Any) -> Path:
    data = json.loads(json.dumps({"defaults": defaults, "tasks": tasks}))  # no shared objects
    path.write_text(yaml.safe_dump(data, sort_keys=False))  # (that YAML would write as aliases)
    return path


def _summary(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return data


def _by_id(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in summary["tasks"]}


def _nudges(run_dir: Path) -> list[str]:
    """The reasons of the run's recorded `Nudge` events, in order."""
    steps = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]
    events = [e for s in steps for e in s.get("events") or []]
    return [e["reason"] for e in events if e.get("kind") == "nudge"]


def _when(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def _max_overlap(attempts: list[dict[str, Any]]) -> int:
    edges = sorted(
        [(_when(a["started_at"]), 1) for a in attempts]
        + [(_when(a["ended_at"]), -1) for a in attempts]
    )
    running = peak = 0
    for _, delta in edges:
        running += delta
        peak = max(peak, running)
    return peak


@pytest.mark.browser
@pytest.mark.timeout(960)  # 24 browser starts: about 4 minutes with 2 cores at load 40
def test_twelve_tasks_four_at_a_time_twice_each(tmp_path: Path) -> None:
    lamp = "demo:/product/desk-lamp"
    tasks: list[dict[str, Any]] = [
        {
            "id": f"price-{i}",
            "task": "What does the desk lamp cost?",
            "url": lamp,
            "script": [LOOK, _answer("It costs $39.00.")],
            "check": {"answer": r"\$39\.00"},
        }
        for i in range(8)
    ]
    tasks += [
        {  # the click is proven by where the shop went
            "id": "open-first",
            "task": "Open the first product.",
            "url": "demo:/products",
            "script": [
                {
                    "output": [
                        {
                            "type": "computer_call",
                            "action": {"type": "double_click", "x": 242, "y": 375},
                        }
                    ]
                },
                _answer("Opened."),
            ],
            "check": {"url": "/product/desk-lamp$"},
        },
        {  # passes its first attempt only: a flaky task
            "id": "flaky",
            "task": "What does the desk lamp cost?",
            "url": lamp,
            "script": [_answer("$39.00")],
            "check": {"command": ["sh", "-c", 'test "$SCREENLOOP_ATTEMPT" = 1']},
        },
        {
            "id": "wrong-answer",
            "task": "What does the desk lamp cost?",
            "url": lamp,
            "script": [LOOK, _answer("It costs $35.00.")],
            "check": {"answer": r"\$39\.00"},
        },
        {
            "id": "out-of-steps",
            "task": "Scroll forever.",
            "url": lamp,
            "max_steps": 2,
            "script": [{**LOOK, "repeat": 5}],
        },
    ]
    task_file = _write_tasks(tmp_path / "tasks.yaml", tasks, display="800x600", max_steps=5)
    out = tmp_path / "out"
    res = screenloop(
        "batch", str(task_file), "--concurrency", "4", "--repeat", "2", "--record", str(out),
        "--trust-task-file", "--json", timeout=900,
    )  # fmt: skip
    assert res.code == ExitCode.CHECKS_FAILED, res.stderr[-3000:]
    printed = res.json()
    summary = _summary(out)
    assert printed["totals"] == summary["totals"]
    totals = summary["totals"]
    assert (totals["tasks"], totals["attempts"], totals["finished"]) == (12, 24, 24)
    assert (totals["passed"], totals["failed"], totals["not_run"]) == (19, 5, 0)
    assert totals["pass_rate"] == round(19 / 24, 4)
    assert (totals["tasks_passed"], totals["tasks_failed"], totals["tasks_flaky"]) == (9, 2, 1)
    tasks_out = _by_id(summary)
    assert tasks_out["flaky"]["status"] == "flaky" and tasks_out["flaky"]["pass_rate"] == 0.5
    assert [a["passed"] for a in tasks_out["flaky"]["attempts"]] == [True, False]
    wrong = tasks_out["wrong-answer"]["attempts"][0]
    assert wrong["status"] == "completed" and not wrong["passed"]
    assert wrong["final_output"] == "It costs $35.00."
    steps = tasks_out["out-of-steps"]["attempts"][0]
    assert (steps["status"], steps["steps"]) == ("max_steps", 2)
    assert all(a["url"].endswith("/product/desk-lamp") for a in tasks_out["open-first"]["attempts"])
    attempts = [a for t in summary["tasks"] for a in t["attempts"]]
    # one run directory (with its report) per attempt, linked from the index
    index = (out / "index.html").read_text()
    for a in attempts:
        run = json.loads((out / a["run_dir"] / "run.json").read_text())
        assert run["status"] == a["status"]
        assert (out / a["report"]).is_file() and f'href="{a["report"]}"' in index
    assert 2 <= _max_overlap(attempts) <= 4


def _run_shard(task_file: Path, out: Path, shard: str) -> subprocess.Popen[str]:
    return popen_screenloop(
        ["batch", str(task_file), "--shard", shard, "--concurrency", "2", "--record", str(out),
         "--trust-task-file"],
        clean_env(),
    )  # fmt: skip


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_the_example_evaluation_in_three_shards_merges_into_one_summary(tmp_path: Path) -> None:
    outs = [tmp_path / f"shard{i}" for i in (1, 2, 3)]
    procs = [_run_shard(EXAMPLES, out, f"{i}/3") for i, out in enumerate(outs, start=1)]
    for proc in procs:
        _, stderr = proc.communicate(timeout=540)
        assert proc.returncode in (ExitCode.COMPLETED, ExitCode.CHECKS_FAILED), stderr[-3000:]
    shard_tasks = [_summary(out)["tasks"] for out in outs]
    ids = [t["id"] for tasks in shard_tasks for t in tasks]
    all_ids = [t["id"] for t in yaml.safe_load(EXAMPLES.read_text())["tasks"]]
    assert sorted(ids) == sorted(all_ids)  # every task, each exactly once
    merged_dir = tmp_path / "merged"
    res = screenloop("batch", "merge", *map(str, outs), "--record", str(merged_dir), "--json")
    assert res.code == ExitCode.CHECKS_FAILED, res.stderr
    merged = _summary(merged_dir)
    assert res.json()["totals"] == merged["totals"]
    # the same summary: the shards' task entries, in file order, links made relative
    expected = sorted((t for tasks in shard_tasks for t in tasks), key=lambda t: t["index"])
    for out, tasks in zip(outs, shard_tasks, strict=True):
        for task in tasks:
            for a in task["attempts"]:
                a["run_dir"] = f"../{out.name}/{a['run_dir']}"
                a["report"] = f"../{out.name}/{a['report']}"
    assert merged["tasks"] == expected
    assert merged["shards"] == [{"index": i, "count": 3} for i in (1, 2, 3)]
    assert merged["complete"] is True
    status = {t["id"]: t["status"] for t in merged["tasks"]}
    assert status == {
        "lamp-price": "passed",
        "open-first-product": "passed",
        "sign-in": "passed",  # its command asked the shop: signed in as ada
        "add-to-cart-visible": "passed",  # the agent.check question, answered yes
        "lamp-price-wrong": "failed",
        "endless-scroll": "failed",
        "stuck-on-a-dead-spot": "failed",
        "nudged-to-act": "passed",  # the url check: it acted only after the nudge
    }
    assert (merged["totals"]["passed"], merged["totals"]["failed"]) == (5, 3)
    ended = {t["id"]: [a["status"] for a in t["attempts"]] for t in merged["tasks"]}
    assert ended["stuck-on-a-dead-spot"] == ["stuck"]  # nudged after 3 clicks, stopped at 5
    assert ended["endless-scroll"] == ["max_steps"]
    assert ended["nudged-to-act"] == ["completed"]
    nudged = merged_dir / _by_id(merged)["nudged-to-act"]["attempts"][0]["run_dir"]
    assert _nudges(nudged) == ["text_only"]  # the one "continue" that made it act
    stuck = merged_dir / _by_id(merged)["stuck-on-a-dead-spot"]["attempts"][0]["run_dir"]
    assert _nudges(stuck) == ["stuck", "stuck"]  # the nudge at 3 repeats, the stop at 5
    checks = {c["kind"] for t in merged["tasks"] for a in t["attempts"] for c in a["checks"]}
    assert checks == {"status", "answer", "url", "question", "command"}
    for a in (a for t in merged["tasks"] for a in t["attempts"]):
        assert (merged_dir / a["report"]).is_file()


def _posts(server: ScriptedResponsesServer) -> int:
    return len([r for r in server.requests if r.method == "POST"])


def _wait_for_posts(server: ScriptedResponsesServer, n: int, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while _posts(server) < n:
        assert time.monotonic() < deadline, f"only {_posts(server)} of {n} model requests came"
        time.sleep(0.05)


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_sigint_mid_batch_then_resume_finishes_only_the_rest(tmp_path: Path) -> None:
    lamp = "demo:/product/desk-lamp"
    tasks = [
        {"id": name, "task": "What does the desk lamp cost?", "url": lamp,
         "check": {"answer": r"\$39"}}
        for name in ("a", "b", "c", "d")
    ]  # fmt: skip
    task_file = _write_tasks(tmp_path / "tasks.yaml", tasks, display="800x600", max_steps=4)
    # one model for the whole batch, one attempt at a time: its turns are taken in order
    script = [
        turn(computer_call("screenshot")),
        turn(message("$39.00")),  # a is done
        turn(message("$39.00"), delay=120),  # b's first request: the model "thinks"
        turn(computer_call("screenshot")),  # --resume: b again
        turn(message("$39.00")),
        turn(message("$39.00")),  # c
        turn(message("$39.00")),  # d
    ]
    out = tmp_path / "out"
    with ScriptedResponsesServer(script) as server:
        args = ["batch", str(task_file), "--record", str(out), "--base-url", server.base_url,
                "--provider", "custom"]  # fmt: skip
        proc = popen_screenloop(args, clean_env())
        try:
            _wait_for_posts(server, 3)
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == ExitCode.CANCELLED, stderr[-3000:]
        assert "PASS a#1" in stdout
        summary = _summary(out)
        done = _by_id(summary)
        assert done["a"]["status"] == "passed"
        assert [t["not_run"] for t in summary["tasks"]] == [0, 1, 1, 1]
        assert summary["complete"] is False
        b = json.loads((out / "runs" / "b" / "attempt-1.json").read_text())
        assert (b["finished"], b["status"]) == (False, "cancelled")
        assert json.loads((out / "runs/b/attempt-1/run.json").read_text())["status"] == "cancelled"
        assert not (out / "runs" / "c").exists()
        a_record = (out / "runs" / "a" / "attempt-1.json").read_bytes()

        res = screenloop(*args, "--resume", "--json", timeout=400)
        assert res.code == ExitCode.COMPLETED, res.stderr[-3000:]
        assert _posts(server) == 3 + 4  # b twice, c and d once each; a not again
    final = _summary(out)
    assert final["complete"] and final["passed"] and final["totals"]["passed"] == 4
    assert (out / "runs" / "a" / "attempt-1.json").read_bytes() == a_record
    assert [t["status"] for t in final["tasks"]] == ["passed"] * 4
    assert "resume: 1 finished attempt(s) kept" in res.stderr  # --json: words on stderr


def test_a_bad_task_file_is_a_usage_error_with_its_lines(tmp_path: Path) -> None:
    task_file = tmp_path / "tasks.jsonl"
    task_file.write_text(
        '{"task": "fine"}\n{"task": "bad", "max_steps": "ten"}\n{"task": "x", "launch": "xterm"}\n'
    )
    res = screenloop("batch", str(task_file), "--record", str(tmp_path / "out"), timeout=60)
    assert res.code == ExitCode.USAGE
    assert f"{task_file}:2: max_steps: an integer, got 'ten'" in res.stderr
    assert f"{task_file}:3: launch: needs --trust-task-file" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()  # nothing started
    no_script = tmp_path / "real-model.jsonl"
    no_script.write_text('{"task": "needs a real model", "url": "http://127.0.0.1:9/"}\n')
    res = screenloop("batch", str(no_script), timeout=60)  # clean_env(): no key anywhere
    assert res.code == ExitCode.USAGE
    assert f"{no_script}:1: task 001-needs-a-real-model: no API key" in res.stderr
    res = screenloop("batch", str(tmp_path / "nope.yaml"), timeout=60)
    assert res.code == ExitCode.USAGE and "cannot read the task file" in res.stderr
    res = screenloop("batch", "merge", str(tmp_path), "--record", str(tmp_path / "m"), timeout=60)
    assert res.code == ExitCode.USAGE and "no summary.json" in res.stderr
