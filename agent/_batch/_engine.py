"""The batch: which attempts (shard, repeats, resume), run N at a time, summarized as they end.

Layout of a batch output directory (``--record DIR``)::

    summary.json                    rewritten (atomically) as attempts end, and at the end
    index.html                      the same, for a person
    runs/<task id>/attempt-<k>/     one run directory per attempt (docs/run-directory.md)
    runs/<task id>/attempt-<k>.json the attempt record, once the attempt has ended
    .batch.lock                     one batch writes here at a time

**Shards**: ``--shard i/n`` takes the tasks at positions ``p`` (0-based, in file
order) with ``p % n == i - 1``: deterministic, balanced, every task in exactly
one shard, all attempts of a task in the same one.

**Resume**: an attempt whose record says ``finished`` (and whose run directory
still has its run.json) is kept; any other attempt -- never started, or
cancelled by Ctrl-C -- runs (again) into a cleared run directory.

**Order**: attempt 1 of every task, then attempt 2 of every task..., so a
flaky task shows up early and repeats do not run back to back.

**One browser**: the attempts run in one event loop; when any of them drives a
local browser (`shares_browser`), the batch holds the loop's Playwright driver
and shared Chromium for its whole length (`keep_shared_browsers`): every such
attempt gets a browser context of its own in the one browser, started once. A
task with ``isolated_browser``, ``user_data_dir`` or ``headed`` gets its own.
If the shared browser dies, the attempts on it end with a typed error
(`BrowserGoneError`) and the next attempt starts a fresh one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent._batch._attempt import (
    Attempt,
    BatchRunSettings,
    attempt_options,
    dumps_record,
    run_attempt,
    shares_browser,
)
from agent._batch._index import write_index
from agent._batch._summary import (
    SUMMARY_FILENAME,
    build_summary,
    task_entry,
    write_json_atomic,
)
from agent._batch._tasks import BatchTask
from agent._errors import ConfigurationError, RunDirectoryError
from agent._events import AgentHooks, StepStarted
from agent._record._claim import locked_dir, remove_entries
from agent._record._untrusted import read_json_object
from executors._browser._launch import keep_shared_browsers

__all__ = [
    "FLUSH_EVERY_S",
    "LOCK_NAME",
    "BatchEvents",
    "BatchPlan",
    "BatchRunner",
    "Shard",
    "hold_batch_dir",
    "parse_shard",
    "sha256_file",
]

LOCK_NAME = ".batch.lock"
FLUSH_EVERY_S = 1.0
"""summary.json and index.html are rewritten after an attempt at most this often (and at
the end): a batch of thousands of attempts does not rewrite a large summary thousands
of times."""
_SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`."""

    index: int = 1
    count: int = 1

    def holds(self, task: BatchTask) -> bool:
        """Whether `task` belongs to this shard."""
        return task.index % self.count == self.index - 1

    def to_json(self) -> dict[str, int]:
        return {"index": self.index, "count": self.count}


def parse_shard(text: str | None) -> Shard:
    """``"2/3"`` -> ``Shard(2, 3)``; None -> the whole file."""
    if text is None:
        return Shard()
    match = _SHARD_RE.match(text)
    if not match:
        raise ConfigurationError(f"--shard must look like 2/3 (shard 2 of 3), got {text!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= index <= count or count > 10_000:
        raise ConfigurationError(f"--shard {text}: need 1 <= i <= n <= 10000")
    return Shard(index, count)


@dataclass(frozen=True)
class BatchPlan:
    """The attempts of one batch invocation."""

    tasks: Sequence[BatchTask]
    """Every task of the file; the shard picks its own."""
    out: Path
    task_file: str
    task_file_sha256: str
    repeat: int = 1
    shard: Shard = field(default_factory=Shard)

    @property
    def selected(self) -> list[BatchTask]:
        return [t for t in self.tasks if self.shard.holds(t)]

    def planned(self, task: BatchTask) -> int:
        return task.repeat or self.repeat

    def attempts(self) -> list[Attempt]:
        """Every attempt of the shard, round by round."""
        selected = self.selected
        rounds = max((self.planned(t) for t in selected), default=0)
        return [
            Attempt(t, n, self.out / "runs" / t.id / f"attempt-{n}", f"runs/{t.id}/attempt-{n}")
            for n in range(1, rounds + 1)
            for t in selected
            if n <= self.planned(t)
        ]

    def record_path(self, attempt: Attempt) -> Path:
        return self.out / "runs" / attempt.task.id / f"attempt-{attempt.number}.json"


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def hold_batch_dir(out: Path, *, resume: bool, overwrite: bool) -> Iterator[Path]:
    """One batch per output directory; a used one only with `resume` (kept) or `overwrite`."""
    with locked_dir(
        out,
        unusable=f"cannot use {out} for a batch",
        busy=f"another batch is writing to {out}",
        lock_name=LOCK_NAME,
    ) as earlier:
        if earlier and resume and SUMMARY_FILENAME not in earlier:
            raise RunDirectoryError(f"--resume: {out} is not a batch output (no summary.json)")
        if earlier and not resume:
            if not overwrite:
                raise RunDirectoryError(
                    f"{out} is not empty; pass --resume to finish that batch, --overwrite to "
                    "replace it, or choose another --record directory"
                )
            remove_entries(out, earlier)
        yield out


class _StepHooks(AgentHooks):
    def __init__(self, attempt: Attempt, on_step: Callable[[Attempt, int], None]) -> None:
        self.attempt = attempt
        self.on_step = on_step

    async def on_step_started(self, event: StepStarted) -> None:
        self.on_step(self.attempt, event.step)


@dataclass
class BatchEvents:
    """What the runner tells whoever shows progress (all optional)."""

    planned: Callable[[int, int], None] = lambda total, kept: None
    started: Callable[[Attempt], None] = lambda attempt: None
    step: Callable[[Attempt, int], None] = lambda attempt, step: None
    finished: Callable[[Attempt, dict[str, Any]], None] = lambda attempt, record: None


class BatchRunner:
    """Runs a `BatchPlan`'s attempts, `concurrency` at a time, keeping summary.json current."""

    def __init__(
        self,
        plan: BatchPlan,
        settings: BatchRunSettings,
        *,
        concurrency: int = 1,
        resume: bool = False,
        events: BatchEvents | None = None,
        share_browser: bool = True,
    ) -> None:
        """`share_browser`: hold one browser for the batch's local browser attempts
        (False: each attempt's browser closes with it, unless another attempt is on it
        -- the behaviour before the batch held it, kept as the bench's baseline)."""
        if concurrency < 1:
            raise ConfigurationError("--concurrency must be at least 1")
        self.plan = plan
        self.settings = settings
        self.concurrency = concurrency
        self.resume = resume
        self.events = events or BatchEvents()
        self.share_browser = share_browser
        self.records: dict[tuple[str, int], dict[str, Any]] = {}
        self._flushed_at = 0.0

    def _kept(self, attempt: Attempt) -> dict[str, Any] | None:
        """The record of an attempt finished by an earlier invocation, if any."""
        path = self.plan.record_path(attempt)
        if not path.is_file() or not (attempt.run_dir / "run.json").is_file():
            return None
        try:
            record = read_json_object(path)
        except RunDirectoryError:
            return None
        same = record.get("task_id") == attempt.task.id and record.get("attempt") == attempt.number
        if (
            not same
            or record.get("finished") is not True
            or not isinstance(record.get("passed"), bool)
        ):
            return None
        record["run_dir"] = attempt.rel_dir  # the layout's, whatever the file says
        report = attempt.run_dir / "report.html"
        record["report"] = f"{attempt.rel_dir}/report.html" if report.exists() else None
        return record

    def _check_resumable(self) -> None:
        """Refuse to resume a batch of another task file or shard into this directory."""
        path = self.plan.out / SUMMARY_FILENAME
        if not path.is_file():
            return
        earlier = read_json_object(path)
        if earlier.get("task_file_sha256") != self.plan.task_file_sha256:
            raise ConfigurationError(
                f"--resume: {self.plan.out} holds a batch of another version of the task "
                "file; finish it with that file, or start over with --overwrite"
            )
        if earlier.get("shards") != [self.plan.shard.to_json()]:
            raise ConfigurationError(
                f"--resume: {self.plan.out} holds shard(s) {earlier.get('shards')}, not "
                f"{self.plan.shard.index}/{self.plan.shard.count}"
            )

    def summary(self) -> dict[str, Any]:
        """The summary of the attempts recorded so far."""
        entries = []
        for task in self.plan.selected:
            attempts = [r for (tid, _), r in self.records.items() if tid == task.id]
            meta = {
                "id": task.id,
                "index": task.index,
                "task": task.task,
                "check": task.check.to_json() if task.check is not None else None,
            }
            entries.append(task_entry(meta, self.plan.planned(task), attempts))
        return build_summary(
            entries,
            task_file=self.plan.task_file,
            task_file_sha256=self.plan.task_file_sha256,
            shards=[self.plan.shard.to_json()],
        )

    def flush(self) -> dict[str, Any]:
        """Write summary.json and index.html; the summary."""
        summary = self.summary()
        write_json_atomic(self.plan.out / SUMMARY_FILENAME, summary)
        write_index(self.plan.out, summary)
        self._flushed_at = time.monotonic()
        return summary

    def _write(self, attempt: Attempt) -> Callable[[dict[str, Any]], None]:
        def write(record: dict[str, Any]) -> None:
            path = self.plan.record_path(attempt)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dumps_record(record), encoding="utf-8")
            self.records[(attempt.task.id, attempt.number)] = record

        return write

    async def run(self) -> dict[str, Any]:
        """Run every attempt not already finished; the final summary (flushed even if cancelled)."""
        self.plan.out.mkdir(parents=True, exist_ok=True)
        if self.resume:
            self._check_resumable()
        todo: list[Attempt] = []
        for attempt in self.plan.attempts():
            kept = self._kept(attempt) if self.resume else None
            if kept is not None:
                self.records[(attempt.task.id, attempt.number)] = kept
            else:
                todo.append(attempt)
        self.events.planned(len(todo) + len(self.records), len(self.records))
        self.flush()
        gate = asyncio.Semaphore(self.concurrency)

        async def one(attempt: Attempt) -> None:
            async with gate:
                self.events.started(attempt)
                hooks = _StepHooks(attempt, self.events.step)
                record = await run_attempt(attempt, self.settings, self._write(attempt), hooks)
                self.events.finished(attempt, record)
                if time.monotonic() - self._flushed_at >= FLUSH_EVERY_S:
                    self.flush()

        shared = self.share_browser and any(
            shares_browser(attempt_options(self.settings.base, a.task, a.run_dir)) for a in todo
        )
        tasks = [asyncio.ensure_future(one(a)) for a in todo]
        try:
            if tasks:
                async with keep_shared_browsers() if shared else contextlib.nullcontext():
                    await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            summary = self.flush()
        return summary
