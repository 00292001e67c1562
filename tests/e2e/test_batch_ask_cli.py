"""``--safety ask`` in a batch off a terminal and without a watch page: refused at start."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from cli_support import screenloop

from agent._cli._exit_codes import ExitCode

ANSWER = {"output": [{"type": "message", "content": "done"}]}


def test_ask_with_nobody_to_answer_is_a_usage_error_before_anything_starts(
    tmp_path: Path,
) -> None:
    task_file = tmp_path / "tasks.yaml"
    tasks = [
        {"id": "a", "task": "x", "url": "demo:/products", "script": [ANSWER]},
        {"id": "b", "task": "y", "url": "demo:/products", "script": [ANSWER], "safety": "ask"},
    ]
    task_file.write_text(yaml.safe_dump(json.loads(json.dumps(tasks))))  # no aliases
    out = tmp_path / "out"
    # the batch's own --safety ask: every task; a task's key: that task
    for extra, lines in ((["--safety", "ask"], 2), ([], 1)):
        res = screenloop("batch", str(task_file), "--record", str(out), *extra)
        assert res.code == ExitCode.USAGE, res.stderr
        said = res.stderr.count("safety: ask needs a terminal or --watch")
        assert said == lines, res.stderr
        assert not out.exists()
