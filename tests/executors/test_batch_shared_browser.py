"""A batch's browser attempts share one Chromium (a context each), with no cross-talk.

The batch runs in this process through the command's own `BatchRunner`; every
time an attempt starts or takes a step, the Chromium browser processes under
this process are counted from /proc (the main process of each browser: a
``chrom*`` program without ``--type=``, which its renderers and helpers have).
Each task's page sets a cookie of its own, the model types a text of its own
and submits; the page the attempt ends on shows the cookie its context saw
before and after and the typed text, checked by the task's ``url`` check.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser_server import LoopbackServer

from agent._batch._attempt import Attempt, BatchRunSettings
from agent._batch._engine import BatchEvents, BatchPlan, BatchRunner
from agent._batch._tasks import load_tasks
from agent._cli._run import RunOptions
from agent.testing import computer_call, message, turn

pytestmark = pytest.mark.browser

FORM = """<body style='margin:0'>
<form action='/xt-done' method='get'>
<input type='hidden' name='before' id='before'>
<input name='q' id='q' style='position:absolute;left:0;top:0;width:400px;height:60px'>
</form>
<script>
document.getElementById('before').value = document.cookie;  // a fresh context: empty
document.cookie = 'who=' + new URLSearchParams(location.search).get('who');
</script></body>"""
DONE = """<body><script>
location.replace('/xt-final?cookie=' + encodeURIComponent(document.cookie) + '&'
                 + location.search.slice(1));
</script></body>"""


def _process_table() -> dict[int, tuple[int, int, list[str]]]:
    """pid -> (parent pid, start time in ticks, argv) of every process readable now."""
    table: dict[int, tuple[int, int, list[str]]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            argv = Path(entry.path, "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (
            int(fields[1]),
            int(fields[19]),
            [a.decode(errors="replace") for a in argv if a],
        )
    return table


def browser_processes() -> set[tuple[int, int]]:
    """(pid, start time) of every Chromium browser (main) process under this process."""
    table = _process_table()
    mine: set[int] = {os.getpid()}
    grew = True
    while grew:
        more = {pid for pid, (ppid, _, _) in table.items() if ppid in mine} - mine
        mine |= more
        grew = bool(more)
    found = set()
    for pid in mine:
        _, start, argv = table.get(pid, (0, 0, []))
        argv = " ".join(argv).split()  # a helper's argv is rewritten as one string
        program = Path(argv[0]).name if argv else ""
        helper = "crashpad" in program or any(a.startswith("--type=") for a in argv)
        if "chrom" in program and not helper:
            found.add((pid, start))
    return found


def _task(web: LoopbackServer, i: int) -> dict[str, Any]:
    script = [
        turn(computer_call("click", x=200, y=30)),
        turn(computer_call("type", text=f"text-t{i}")),
        turn(computer_call("keypress", keys=["ENTER"])),
        turn(message(f"typed text-t{i}")),
    ]
    return {
        "id": f"t{i}",
        "task": "Type your text and submit.",
        "url": web.url(f"/xt-form?who=t{i}"),
        "coordinates": "pixels",
        "script": script,
        # the cookie its own page set, nothing before it, its own typed text
        "check": {"url": rf"/xt-final\?cookie=who%3Dt{i}&before=&q=text-t{i}$"},
    }


@pytest.mark.timeout(600)
@pytest.mark.parametrize("concurrency", [2, 1])
def test_a_batch_of_browser_tasks_runs_in_one_chromium_without_cross_talk(
    web: LoopbackServer, tmp_path: Path, concurrency: int
) -> None:
    """At concurrency 1 no two attempts overlap: without the batch's hold on it the
    browser would close after each attempt and the next would start another."""
    web.pages["/xt-form"] = FORM
    web.pages["/xt-done"] = DONE
    web.pages["/xt-final"] = "<body>done</body>"
    task_file = tmp_path / "tasks.yaml"
    count = 5 if concurrency > 1 else 4
    task_file.write_text(yaml.safe_dump([_task(web, i) for i in range(count)]))
    seen: set[tuple[int, int]] = set()
    running: set[str] = set()
    overlap = [0]

    def started(attempt: Attempt) -> None:
        running.add(attempt.key)
        overlap[0] = max(overlap[0], len(running))

    def finished(attempt: Attempt, record: dict[str, Any]) -> None:
        running.discard(attempt.key)

    def step(attempt: Attempt, number: int) -> None:
        seen.update(browser_processes())

    tasks = load_tasks(task_file)
    plan = BatchPlan(tasks, tmp_path / "out", task_file.name, "test", repeat=1)
    settings = BatchRunSettings(
        base=RunOptions(task="", display="800x600"), secrets={}, task_dir=tmp_path
    )
    events = BatchEvents(started=started, step=step, finished=finished)
    runner = BatchRunner(plan, settings, concurrency=concurrency, events=events)
    summary = asyncio.run(runner.run())

    failed = [
        (a["task_id"], a["status"], a["checks"], a["url"])
        for t in summary["tasks"]
        for a in t["attempts"]
        if not a["passed"]
    ]
    assert not failed
    assert summary["totals"]["passed"] == count
    assert overlap[0] == concurrency  # at 2: two attempts ran side by side
    assert len(seen) == 1, f"Chromium browser processes seen: {sorted(seen)}"
    assert not browser_processes()  # closed with the batch


@pytest.mark.timeout(600)
def test_a_task_asking_for_isolation_gets_a_browser_of_its_own(
    web: LoopbackServer, tmp_path: Path
) -> None:
    web.pages["/xt-form"] = FORM
    web.pages["/xt-done"] = DONE
    web.pages["/xt-final"] = "<body>done</body>"
    tasks = [_task(web, 0), {**_task(web, 1), "isolated_browser": True}, _task(web, 2)]
    task_file = tmp_path / "tasks.yaml"
    task_file.write_text(yaml.safe_dump(tasks))
    per_task: dict[str, set[tuple[int, int]]] = {}

    def step(attempt: Attempt, number: int) -> None:
        per_task.setdefault(attempt.task.id, set()).update(browser_processes())

    plan = BatchPlan(load_tasks(task_file), tmp_path / "out", task_file.name, "test")
    settings = BatchRunSettings(
        base=RunOptions(task="", display="800x600"), secrets={}, task_dir=tmp_path
    )
    runner = BatchRunner(plan, settings, concurrency=1, events=BatchEvents(step=step))
    summary = asyncio.run(runner.run())
    assert summary["totals"]["passed"] == 3, summary
    shared = per_task["t0"]
    assert len(shared) == 1 and per_task["t2"] == shared  # kept across the isolated one
    assert len(per_task["t1"]) == 2  # the kept shared one, and its own
    assert not browser_processes()
