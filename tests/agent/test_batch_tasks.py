"""Batch task files are untrusted input: every problem is a typed, line-numbered error.

Also the pure parts of a batch: the shard split, the summary's arithmetic, merge's
refusals, and the index page's escaping. The batch itself, on real Chromium, is in
tests/e2e/test_batch.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent import ConfigurationError, RunDirectoryError, TaskFileError
from agent._batch._engine import BatchPlan, Shard, parse_shard
from agent._batch._index import render_index
from agent._batch._summary import build_summary, merge_summaries, task_entry
from agent._batch._tasks import load_tasks, parse_tasks

SCRIPT = [{"output": [{"type": "message", "content": "done"}]}]


def _jsonl(*objs: object) -> str:
    return "\n".join(json.dumps(o) for o in objs) + "\n"


def _errors(text: str, *, yaml: bool = False, trusted: bool = False, tmp: Path) -> list[str]:
    with pytest.raises(TaskFileError) as info:
        parse_tasks(
            text,
            name="tasks.yaml" if yaml else "tasks.jsonl",
            base_dir=tmp,
            trusted=trusted,
        )
    assert isinstance(info.value, ConfigurationError)  # exit status 2 on the command line
    return info.value.errors


def test_a_good_jsonl_file_reads_into_typed_tasks(tmp_path: Path) -> None:
    text = "# comment\n\n" + _jsonl(
        {
            "id": "price",
            "task": "What does it cost?",
            "url": "demo:/product/desk-lamp",
            "max-steps": 5,
            "allow_domain": "127.0.0.1",
            "script": SCRIPT,
            "check": {"answer": r"\$39", "url": "/product/"},
        },
        {"task": "Second task", "url": "http://127.0.0.1:9/", "max_time": 30, "repeat": 3},
    )
    first, second = parse_tasks(text, name="t.jsonl", base_dir=tmp_path)
    assert (first.id, first.index, first.line) == ("price", 0, 3)
    assert first.demo_path == "/product/desk-lamp" and "url" not in first.options
    assert first.options["max_steps"] == 5
    assert first.options["allow_domains"] == ["127.0.0.1"]  # the flag's name, a list
    assert first.check is not None and first.check.answer == r"\$39"
    assert second.id == "002-second-task" and second.repeat == 3
    assert second.options == {"url": "http://127.0.0.1:9/", "max_time": 30.0}


def test_yaml_defaults_and_line_numbers(tmp_path: Path) -> None:
    text = (
        "defaults:\n  max_steps: 4\n"
        "tasks:\n"
        "  - task: one\n    url: demo:/products\n"
        "  - task: two\n    max_steps: ten\n"
    )
    errors = _errors(text, yaml=True, tmp=tmp_path)
    assert errors == ["tasks.yaml:7: max_steps: an integer, got 'ten'"]
    good = text.replace("ten", "6")
    one, two = parse_tasks(good, name="tasks.yaml", base_dir=tmp_path)
    assert one.options["max_steps"] == 4 and two.options["max_steps"] == 6
    assert (one.line, two.line) == (4, 6)


@pytest.mark.parametrize(
    ("obj", "needle"),
    [
        ({"task": "t", "colour": "red"}, "tasks.jsonl:1: unknown key 'colour'"),
        ({"url": "http://x/"}, "tasks.jsonl:1: task: a non-empty string is required"),
        ({"task": "t", "max_steps": True}, "max_steps: an integer, got True"),
        ({"task": "t", "check": {"answer": "(unclosed"}}, "check.answer: not a valid regular"),
        ({"task": "t", "check": {}}, "check: an object with answer"),
        ({"task": "t", "check": {"colour": "x"}}, "check: unknown key(s) ['colour']"),
        ({"task": "t", "check": {"answer": "x", "timeout": -1}}, "check.timeout"),
        ({"task": "t", "api_key": "sk-123"}, "api_key: a task file may not set this"),
        ({"task": "t", "send-env-key": True}, "send-env-key: a task file may not set this"),
        ({"task": "t", "launch": "xterm"}, "launch: needs --trust-task-file"),
        ({"task": "t", "base_url": "http://evil/v1"}, "base_url: needs --trust-task-file"),
        ({"task": "t", "check": {"command": "true"}}, "check.command: runs a program"),
        ({"task": "t", "script": "../../etc/passwd"}, "script: a path outside"),
        ({"task": "t", "script": [{"fault": "nope"}]}, "script:"),
        ({"task": "t", "id": "../escape"}, "id: 1-64 letters"),
        ({"task": "t", "repeat": 0}, "repeat: an integer from 1 to 1000"),
        ({"task": "t", "agent": {"computer": 1}}, "agent: not an Agent argument"),
        ({"task": "t", "agent": {"max_type_chars": None}}, "agent: null is not allowed"),
        # the batch owns the one watch page (`batch --watch`): no page per task
        ({"task": "t", "watch": 8080}, "watch: a task file may not set this"),
        ({"task": "t", "agent": {"watch": True}}, "agent: not an Agent argument"),
        ({"task": "t", "url": "demo:nope"}, "url: demo:'nope' needs a /PATH"),
        (["not", "an", "object"], "a task must be an object, got list"),
    ],
)
def test_each_bad_task_is_a_line_numbered_error(tmp_path: Path, obj: object, needle: str) -> None:
    errors = _errors(_jsonl(obj), tmp=tmp_path)
    assert any(needle in e for e in errors), errors
    assert all(e.startswith("tasks.jsonl:1: ") for e in errors)


def test_every_error_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = _jsonl({"task": "a", "id": "x"}, {"task": "b", "nope": 1}, {"task": "c", "id": "x"})
    errors = _errors(text, tmp=tmp_path)
    assert errors == [
        "tasks.jsonl:2: unknown key 'nope'",
        "tasks.jsonl:3: id 'x' is already used on line 1",
    ]


def test_trusted_files_may_run_commands(tmp_path: Path) -> None:
    text = _jsonl({"task": "t", "launch": ["xterm"], "check": {"command": "test -d ."}})
    (task,) = parse_tasks(text, name="t.jsonl", base_dir=tmp_path, trusted=True)
    assert task.options["launch"] == ["xterm"]
    assert task.check is not None and task.check.command == ("test", "-d", ".")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{not json\n", "tasks.jsonl:1: not a JSON object"),
        ("a: &x [1]\nb: *x\n", "YAML aliases"),
        ("tasks: [\n", "not valid YAML"),
        ("", "no tasks"),
        ("[1, 2]", "a task must be an object"),
        ("foo: 1\n", "a YAML task file is a list of tasks"),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, needle: str) -> None:
    is_yaml = not text.startswith("{")
    with pytest.raises(TaskFileError, match=None) as info:
        parse_tasks(text, name="tasks.yaml" if is_yaml else "tasks.jsonl", base_dir=tmp_path)
    assert needle in str(info.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(TaskFileError, match="cannot read"):
        load_tasks(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"task": "\xff"}\n')
    with pytest.raises(TaskFileError, match="not UTF-8"):
        load_tasks(bad)


def test_shards_split_every_task_into_exactly_one(tmp_path: Path) -> None:
    text = _jsonl(*({"task": f"task {i}"} for i in range(14)))
    tasks = parse_tasks(text, name="t.jsonl", base_dir=tmp_path)
    seen: list[str] = []
    for i in range(1, 4):
        plan = BatchPlan(tasks, tmp_path, "t.jsonl", "0", repeat=2, shard=Shard(i, 3))
        seen += [t.id for t in plan.selected]
        assert len(plan.attempts()) == 2 * len(plan.selected)
    assert sorted(seen) == sorted(t.id for t in tasks)
    assert parse_shard("2/3") == Shard(2, 3)
    for bad in ("0/3", "4/3", "x", "1/"):
        with pytest.raises(ConfigurationError, match="--shard"):
            parse_shard(bad)


def _attempt(task_id: str, n: int, passed: bool, finished: bool = True) -> dict[str, object]:
    return {
        "task_id": task_id,
        "attempt": n,
        "finished": finished,
        "passed": passed,
        "status": "completed",
        "steps": 2,
        "tokens": 10,
        "time_s": 1.0,
        "checks": [{"kind": "status", "ok": passed, "detail": "<b>x</b>"}],
        "run_dir": f"runs/{task_id}/attempt-{n}",
        "report": f"runs/{task_id}/attempt-{n}/report.html",
    }


def _summary(entries: list[dict[str, object]], shard: int = 1, count: int = 1) -> dict:
    return build_summary(
        entries,
        task_file="t.yaml",
        task_file_sha256="abc",
        shards=[{"index": shard, "count": count}],
    )


def test_summary_pass_rate_and_flakiness() -> None:
    meta = {"id": "a", "index": 0, "task": "A"}
    flaky = task_entry(meta, 2, [_attempt("a", 2, False), _attempt("a", 1, True)])
    assert (flaky["status"], flaky["flaky"], flaky["pass_rate"]) == ("flaky", True, 0.5)
    assert [a["attempt"] for a in flaky["attempts"]] == [1, 2]
    half = task_entry({**meta, "id": "b", "index": 1}, 2, [_attempt("b", 1, True)])
    assert (half["status"], half["not_run"]) == ("incomplete", 1)
    summary = _summary([half, flaky])
    assert [t["id"] for t in summary["tasks"]] == ["a", "b"]
    totals = summary["totals"]
    assert (totals["attempts"], totals["finished"], totals["passed"]) == (4, 3, 2)
    assert summary["complete"] is False and summary["exit_code"] == 8


def test_merge_refuses_what_does_not_belong(tmp_path: Path) -> None:
    def shard_dir(name: str, shard: int, task_id: str, **changes: object) -> Path:
        d = tmp_path / name
        d.mkdir()
        entry = task_entry(
            {"id": task_id, "index": shard - 1, "task": "T"}, 1, [_attempt(task_id, 1, True)]
        )
        summary = {**_summary([entry], shard, 2), **changes}
        (d / "summary.json").write_text(json.dumps(summary))
        return d

    one, two = shard_dir("one", 1, "a"), shard_dir("two", 2, "b")
    merged = merge_summaries([one, two], tmp_path / "out")
    assert merged["complete"] and merged["passed"] and merged["exit_code"] == 0
    assert merged["tasks"][0]["attempts"][0]["report"] == "../one/runs/a/attempt-1/report.html"
    only_one = merge_summaries([one], tmp_path / "out")
    assert only_one["complete"] is False  # shard 2 of 2 is missing
    with pytest.raises(RunDirectoryError, match="also in"):
        merge_summaries([one, one], tmp_path / "out")
    other = shard_dir("other", 2, "c", task_file_sha256="def")
    with pytest.raises(RunDirectoryError, match="task file differs"):
        merge_summaries([one, other], tmp_path / "out")
    escape = shard_dir("escape", 2, "d")
    data = json.loads((escape / "summary.json").read_text())
    data["tasks"][0]["attempts"][0]["report"] = "../../etc/passwd"
    (escape / "summary.json").write_text(json.dumps(data))
    with pytest.raises(RunDirectoryError):
        merge_summaries([one, escape], tmp_path / "out")
    (escape / "summary.json").write_text('{"schema_version": 2}')
    with pytest.raises(RunDirectoryError, match="not a batch summary"):
        merge_summaries([escape], tmp_path / "out")
    with pytest.raises(RunDirectoryError, match=r"no summary\.json"):
        merge_summaries([tmp_path], tmp_path / "out")


def test_index_escapes_everything_and_links_only_relative_paths() -> None:
    evil = "<script>alert(1)</script>"
    entry = task_entry(
        {"id": "a", "index": 0, "task": evil},
        2,
        [
            {**_attempt("a", 1, False), "report": "javascript:alert(1)"},
            {**_attempt("a", 2, True)},
        ],
    )
    page = render_index({**_summary([entry]), "task_file": evil})
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "javascript:" not in page
    assert 'href="runs/a/attempt-2/report.html"' in page
    assert "default-src 'none'" in page


def test_resume_refuses_a_directory_of_another_file_or_shard(tmp_path: Path) -> None:
    import asyncio

    from agent._batch._attempt import BatchRunSettings
    from agent._batch._engine import BatchRunner
    from agent._cli._run import RunOptions

    tasks = parse_tasks(_jsonl({"task": "t", "script": SCRIPT}), name="t.jsonl", base_dir=tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    settings = BatchRunSettings(base=RunOptions(task=""), secrets={}, task_dir=tmp_path)
    for earlier, needle in (
        ({"task_file_sha256": "other", "shards": [{"index": 1, "count": 1}]}, "another version"),
        ({"task_file_sha256": "abc", "shards": [{"index": 2, "count": 3}]}, "holds shard"),
    ):
        (out / "summary.json").write_text(json.dumps(earlier))
        plan = BatchPlan(tasks, out, "t.jsonl", "abc")
        runner = BatchRunner(plan, settings, resume=True)
        with pytest.raises(ConfigurationError, match=needle):
            asyncio.run(runner.run())
        assert not (out / "runs").exists()  # nothing ran


def test_path_options_stay_in_the_task_files_directory(tmp_path: Path) -> None:
    from agent._batch._tasks import _Reader

    reader = _Reader("t.jsonl", tmp_path, trusted=False)
    assert reader._paths("profile", Path("state/login.json")) == (
        True,
        (tmp_path / "state" / "login.json").resolve(),
    )
    ok, message = reader._paths("profile", [Path("a"), Path("../../etc/passwd")])
    assert not ok and "outside the task file's directory" in message
    trusted = _Reader("t.jsonl", tmp_path, trusted=True)
    assert trusted._paths("profile", Path("/etc/passwd"))[0]


def test_the_batch_directory_is_held_and_not_reused_by_accident(tmp_path: Path) -> None:
    from agent._batch._engine import hold_batch_dir

    def hold(*, resume: bool = False, overwrite: bool = False) -> None:
        with hold_batch_dir(out, resume=resume, overwrite=overwrite):
            pass

    out = tmp_path / "out"
    with (
        hold_batch_dir(out, resume=False, overwrite=False),
        pytest.raises(RunDirectoryError, match="another batch"),
    ):
        hold(resume=True)
    (out / "something").write_text("x")
    with pytest.raises(RunDirectoryError, match="not empty"):
        hold()
    with pytest.raises(RunDirectoryError, match="not a batch output"):
        hold(resume=True)
    hold(overwrite=True)
    assert not (out / "something").exists()
