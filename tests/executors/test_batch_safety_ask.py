"""``--safety ask`` in a batch: questions one at a time on the terminal, naming the attempt.

The batch runs in this process through the command's `BatchRunner` with the
command's `BatchAsk`; its console writes into a transcript that answers each
question (through a pipe the prompt reads, as a terminal) once it has seen
which attempt asks: ``y`` for some tasks, ``n`` for another. The scripted model
raises a pending safety check on a click that opens a link; where each attempt
ended proves what was answered.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser_server import LoopbackServer
from rich.console import Console

from agent._batch._attempt import BatchRunSettings
from agent._batch._engine import BatchPlan, BatchRunner
from agent._batch._tasks import load_tasks
from agent._cli._batch_ask import BatchAsk
from agent._cli._run import RunOptions
from agent.testing import computer_call, message, safety_check, turn

pytestmark = pytest.mark.browser

LINK = """<body style='margin:0'><a id=go style='display:block;position:absolute;left:0;
top:0;width:400px;height:100px'>go</a><script>
document.getElementById('go').href = '/ask-done?who=' +
  new URLSearchParams(location.search).get('who');
</script></body>"""
ANSWERS = {"t0": "y", "t1": "n", "t2": "y"}


class Terminal(io.StringIO):
    """The console's output; answers each question on `answer_fd` for the attempt asking."""

    def __init__(self, answer_fd: int, ask: list[BatchAsk]) -> None:
        super().__init__()
        self.answer_fd = answer_fd
        self.ask = ask
        self.order: list[str] = []
        self.waited_behind = 0
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            n = super().write(text)
            if "[y/N]" in text:
                keys = re.findall(r"(t\d)#1 asks:", self.getvalue())
                key = keys[-1]
                self.order.append(key)
                threading.Thread(target=self._answer, args=(key,), daemon=True).start()
        return n

    def _answer(self, key: str) -> None:
        if len(self.order) == 1:  # the first question waits until another attempt queues
            deadline = time.monotonic() + 120
            while self.ask[0].waiting < 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            self.waited_behind = self.ask[0].waiting
        os.write(self.answer_fd, f"{ANSWERS[key]}\n".encode())


def _task(web: LoopbackServer, key: str) -> dict[str, Any]:
    check = safety_check("malicious_instructions", f"The page of {key} asks to follow a link.")
    return {
        "id": key,
        "task": f"Follow the link ({key}).",
        "url": web.url(f"/ask-link?who={key}"),
        "coordinates": "pixels",
        "safety": "ask",
        "script": [
            turn(computer_call("screenshot")),
            turn(computer_call("click", x=200, y=50, safety_checks=[check])),
            turn(message("followed")),
        ],
        "check": {"url": rf"/ask-done\?who={key}$"},
    }


@pytest.mark.timeout(600)
def test_safety_questions_of_concurrent_attempts_are_asked_one_at_a_time(
    web: LoopbackServer, tmp_path: Path
) -> None:
    web.pages["/ask-link"] = LINK
    web.pages["/ask-done"] = "<body>followed</body>"
    task_file = tmp_path / "tasks.yaml"
    task_file.write_text(yaml.safe_dump([_task(web, k) for k in ANSWERS]))
    read_fd, write_fd = os.pipe()
    holder: list[BatchAsk] = []
    terminal = Terminal(write_fd, holder)
    with os.fdopen(read_fd, "r") as stdin:
        ask = BatchAsk(Console(file=terminal, width=200), watch=False, stdin=stdin)
        holder.append(ask)
        plan = BatchPlan(load_tasks(task_file), tmp_path / "out", task_file.name, "test")
        settings = BatchRunSettings(
            base=RunOptions(task="", display="800x600"),
            secrets={},
            task_dir=tmp_path,
            ask=ask.for_attempt,
        )
        summary = asyncio.run(BatchRunner(plan, settings, concurrency=3).run())
    os.close(write_fd)

    attempts = {t["id"]: t["attempts"][0] for t in summary["tasks"]}
    assert attempts["t0"]["passed"] and attempts["t2"]["passed"], attempts
    assert attempts["t1"]["status"] == "safety_denied" and not attempts["t1"]["passed"]
    assert sorted(terminal.order) == ["t0", "t1", "t2"]  # each attempt asked once
    transcript = terminal.getvalue()
    # one question at a time: each header is followed by its own question, never another's
    blocks = re.findall(r"(t\d)#1 asks:\n.*?\n\s*(\w+): The page of (t\d)", transcript)
    assert [(a, b) for a, _, b in blocks] == [(k, k) for k in terminal.order]
    assert terminal.waited_behind >= 1  # another attempt was waiting behind the first question
    assert ask.asking == 0 and ask.waiting == 0


@pytest.mark.timeout(600)
def test_with_a_watch_page_the_first_answer_wins(web: LoopbackServer, tmp_path: Path) -> None:
    """The terminal never answers; the page acknowledges one attempt's check and denies
    the other's (through its HTTP control, with the token): the page's answers decide,
    and the terminal question in progress is abandoned."""
    import httpx

    from agent._watch._server import TOKEN_HEADER, WatchServer

    web.pages["/ask-link"] = LINK
    web.pages["/ask-done"] = "<body>followed</body>"
    task_file = tmp_path / "tasks.yaml"
    task_file.write_text(yaml.safe_dump([_task(web, k) for k in ("t0", "t1")]))
    decide = {"t0": "acknowledge", "t1": "deny"}
    read_fd, write_fd = os.pipe()  # a terminal nobody types on
    terminal = io.StringIO()
    answered: dict[str, str] = {}

    def answer_on_the_page(server: WatchServer, done: threading.Event) -> None:
        with httpx.Client(timeout=30) as client:
            while not done.is_set() and len(answered) < 2:
                for run in server.runs():
                    who = re.search(r"\((t\d)\)", run.task)
                    assert who is not None, run.task
                    for entry in run.entries(0, 0.1):
                        if entry.get("kind") != "approval" or who.group(1) in answered:
                            continue
                        reply = client.post(
                            server.base_url + "control",
                            json={"run": run.id, "action": decide[who.group(1)], "id": entry["id"]},
                            headers={TOKEN_HEADER: server.token},
                        )
                        assert reply.status_code == 200, reply.text
                        answered[who.group(1)] = entry["id"]

    with os.fdopen(read_fd, "r") as stdin, WatchServer(0) as server:
        ask = BatchAsk(Console(file=terminal, width=200), watch=True, stdin=stdin)
        plan = BatchPlan(load_tasks(task_file), tmp_path / "out", task_file.name, "test")
        settings = BatchRunSettings(
            base=RunOptions(task="", display="800x600"),
            secrets={},
            task_dir=tmp_path,
            watch=server,
            ask=ask.for_attempt,
        )
        done = threading.Event()
        answerer = threading.Thread(target=answer_on_the_page, args=(server, done), daemon=True)
        answerer.start()
        try:
            summary = asyncio.run(BatchRunner(plan, settings, concurrency=2).run())
        finally:
            done.set()
            answerer.join(30)
    os.close(write_fd)

    attempts = {t["id"]: t["attempts"][0] for t in summary["tasks"]}
    assert attempts["t0"]["passed"], attempts["t0"]
    assert attempts["t1"]["status"] == "safety_denied"
    assert sorted(answered) == ["t0", "t1"]
    for key, decision in (("t0", "acknowledged"), ("t1", "denied")):
        run_dir = tmp_path / "out" / attempts[key]["run_dir"]
        steps = [json.loads(s) for s in (run_dir / "steps.jsonl").read_text().splitlines()]
        said = [
            (e["by"], e["data"]["decision"])
            for s in steps
            for e in s["events"]
            if e.get("control") == "safety_answer"
        ]
        assert said == [("watch", decision)]
    assert "(answered on the watch page)" in terminal.getvalue()
    assert ask.asking == 0 and ask.waiting == 0  # no question left open on the terminal
