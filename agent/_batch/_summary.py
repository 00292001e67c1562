"""``summary.json``: the attempts of a batch (or of merged shards), per task and in total.

The summary is rebuilt from the attempt records every time (as attempts end,
at the end, and by `merge`), with one function, so a batch run in one
piece and the same batch run in shards and merged give the same summary. Its
shape (schema version 1):

    {"schema_version": 1, "kind": "screenloop-batch",
     "task_file": "tasks.yaml", "task_file_sha256": "…",
     "shards": [{"index": 1, "count": 3}, …],       # the shards it holds
     "generated_at": "…",
     "totals": {"tasks", "attempts", "finished", "passed", "failed", "not_run",
                "pass_rate", "tasks_passed", "tasks_failed", "tasks_flaky",
                "tasks_incomplete", "steps", "tokens", "time_s"},
     "complete": true,       # every attempt of every shard of the file has finished
     "passed": true,         # complete, and every attempt met its success check
     "exit_code": 0,         # what `screenloop batch` exits with (0, or 8)
     "tasks": [{"id", "index", "task", "check", "attempts_planned",
                "passed", "failed", "not_run", "pass_rate", "flaky",
                "status": "passed|failed|flaky|incomplete",
                "attempts": [<attempt record>, …]}]}

An attempt record is what agent/_batch/_attempt.py writes (``task_id``,
``attempt``, ``finished``, ``passed``, ``status``, ``checks``, ``steps``,
``tokens``, ``time_s``, ``final_output``, ``url``, ``error``, ``run_dir`` and
``report`` relative to the summary's directory...).

`merge` reads shard directories as untrusted input: bounded JSON, a fixed
shape (pydantic), paths that must stay inside their shard, one task file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent._batch._attempt import utc_now
from agent._cli._exit_codes import ExitCode
from agent._errors import RunDirectoryError
from agent._record._untrusted import contained, read_json_object

__all__ = [
    "SUMMARY_FILENAME",
    "SUMMARY_KIND",
    "build_summary",
    "merge_summaries",
    "task_entry",
    "write_json_atomic",
]

SUMMARY_FILENAME = "summary.json"
SUMMARY_KIND = "screenloop-batch"


def task_entry(
    meta: Mapping[str, Any], planned: int, attempts: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """One task of the summary: its metadata, its attempts, and what they add up to."""
    ordered = sorted(attempts, key=lambda a: int(a.get("attempt", 0)))
    finished = [a for a in ordered if a.get("finished")]
    passed = sum(1 for a in finished if a.get("passed"))
    failed = len(finished) - passed
    not_run = max(planned - len(finished), 0)
    if not_run:
        status = "incomplete"
    elif failed == 0:
        status = "passed"
    else:
        status = "failed" if passed == 0 else "flaky"
    return {
        "id": meta["id"],
        "index": meta["index"],
        "task": meta["task"],
        "check": meta.get("check"),
        "attempts_planned": planned,
        "passed": passed,
        "failed": failed,
        "not_run": not_run,
        "pass_rate": round(passed / len(finished), 4) if finished else None,
        "flaky": passed > 0 and failed > 0,
        "status": status,
        "attempts": [dict(a) for a in ordered],
    }


def build_summary(
    tasks: Iterable[Mapping[str, Any]],
    *,
    task_file: str,
    task_file_sha256: str,
    shards: Sequence[Mapping[str, int]],
) -> dict[str, Any]:
    """The summary of `tasks` (entries from `task_entry`)."""
    entries = sorted(tasks, key=lambda t: int(t["index"]))
    attempts = [a for t in entries for a in t["attempts"]]
    finished = [a for a in attempts if a.get("finished")]
    passed = sum(1 for a in finished if a.get("passed"))
    planned = sum(int(t["attempts_planned"]) for t in entries)
    count = int(shards[0]["count"]) if shards else 1
    all_shards = {int(s["index"]) for s in shards} == set(range(1, count + 1))
    complete = all_shards and all(t["not_run"] == 0 for t in entries)
    all_passed = complete and all(t["status"] == "passed" for t in entries)
    totals = {
        "tasks": len(entries),
        "attempts": planned,
        "finished": len(finished),
        "passed": passed,
        "failed": len(finished) - passed,
        "not_run": planned - len(finished),
        "pass_rate": round(passed / len(finished), 4) if finished else None,
        "tasks_passed": sum(1 for t in entries if t["status"] == "passed"),
        "tasks_failed": sum(1 for t in entries if t["status"] == "failed"),
        "tasks_flaky": sum(1 for t in entries if t["status"] == "flaky"),
        "tasks_incomplete": sum(1 for t in entries if t["status"] == "incomplete"),
        "steps": sum(int(a.get("steps") or 0) for a in finished),
        "tokens": sum(int(a.get("tokens") or 0) for a in finished),
        "time_s": round(sum(float(a.get("time_s") or 0) for a in finished), 3),
    }
    return {
        "schema_version": 1,
        "kind": SUMMARY_KIND,
        "task_file": task_file,
        "task_file_sha256": task_file_sha256,
        "shards": sorted(
            ({"index": int(s["index"]), "count": int(s["count"])} for s in shards),
            key=lambda s: s["index"],
        ),
        "generated_at": utc_now(),
        "totals": totals,
        "complete": complete,
        "passed": all_passed,
        "exit_code": int(ExitCode.COMPLETED if all_passed else ExitCode.CHECKS_FAILED),
        "tasks": entries,
    }


def write_json_atomic(path: Path, data: Any) -> None:
    """Write `data` as JSON to `path` through a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# -- merge ----------------------------------------------------------------------------


class _AttemptIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    task_id: str = Field(max_length=64)
    attempt: int = Field(ge=1, le=1000)
    finished: bool
    passed: bool
    status: str = Field(max_length=40)
    steps: int = Field(default=0, ge=0)
    tokens: int = Field(default=0, ge=0)
    time_s: float = Field(default=0.0, ge=0)
    run_dir: str | None = None
    report: str | None = None


class _TaskIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(max_length=64)
    index: int = Field(ge=0)
    task: str
    check: dict[str, Any] | None = None
    attempts_planned: int = Field(ge=0, le=1000)
    attempts: list[_AttemptIn]


class _ShardIn(BaseModel):
    index: int = Field(ge=1)
    count: int = Field(ge=1)


class _SummaryIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    schema_version: Literal[1]
    kind: Literal["screenloop-batch"]
    task_file: str
    task_file_sha256: str
    shards: list[_ShardIn] = Field(min_length=1)
    tasks: list[_TaskIn]


def _read_shard(directory: Path) -> _SummaryIn:
    path = directory / SUMMARY_FILENAME
    if not path.is_file():
        raise RunDirectoryError(
            f"{directory}: no {SUMMARY_FILENAME} (not a batch output directory)"
        )
    data = read_json_object(path)
    try:
        return _SummaryIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RunDirectoryError(
            f"{path}: not a batch summary: {where}: {first['msg']} ({exc.error_count()} error(s))"
        ) from None


def _relink(value: str | None, shard: Path, out: Path, what: str) -> str | None:
    if value is None:
        return None
    target = contained(shard, value, what)  # refuses a path that leaves the shard
    return Path(os.path.relpath(target, out.resolve())).as_posix()


def merge_summaries(dirs: Sequence[Path], out: Path) -> dict[str, Any]:
    """One summary of the shard outputs in `dirs`, with links relative to `out`."""
    if not dirs:
        raise RunDirectoryError("batch merge: name the shard output directories")
    shards = [(d, _read_shard(d)) for d in dirs]
    first = shards[0][1]
    entries: dict[str, dict[str, Any]] = {}
    seen_shards: dict[int, Path] = {}
    for directory, summary in shards:
        if summary.task_file_sha256 != first.task_file_sha256:
            raise RunDirectoryError(
                f"{directory}: its task file differs from {shards[0][0]}'s "
                f"({summary.task_file} vs {first.task_file}); merge shards of one task file"
            )
        for shard in summary.shards:
            if shard.count != first.shards[0].count:
                raise RunDirectoryError(
                    f"{directory}: shard {shard.index}/{shard.count} does not belong with "
                    f"{first.shards[0].count} shards"
                )
            if shard.index in seen_shards:
                raise RunDirectoryError(
                    f"{directory}: shard {shard.index}/{shard.count} is also in "
                    f"{seen_shards[shard.index]}"
                )
            seen_shards[shard.index] = directory
        root = directory.resolve()
        for task in summary.tasks:
            if task.id in entries:
                raise RunDirectoryError(f"{directory}: task {task.id!r} is in two shards")
            attempts = []
            for attempt in task.attempts:
                record = attempt.model_dump()
                record["run_dir"] = _relink(attempt.run_dir, root, out, "run_dir")
                record["report"] = _relink(attempt.report, root, out, "report")
                attempts.append(record)
            meta = {"id": task.id, "index": task.index, "task": task.task, "check": task.check}
            entries[task.id] = task_entry(meta, task.attempts_planned, attempts)
    return build_summary(
        entries.values(),
        task_file=first.task_file,
        task_file_sha256=first.task_file_sha256,
        shards=[{"index": i, "count": first.shards[0].count} for i in seen_shards],
    )
