"""`screenloop batch TASKS` and `screenloop batch merge DIRS`: many runs, one summary.

The batch command takes every `screenloop run` option that is not about one
task (``--model``, ``--base-url``, ``--max-steps``, ``--safety``, ``--secret``...,
and whatever the run command gains later) as the default of every task; a task's
own keys override them (agent/_batch/_tasks.py). Its own options: ``--concurrency``,
``--repeat``, ``--shard``, ``--resume``, ``--record``, ``--overwrite``,
``--trust-task-file``, ``--json``. ``--watch [PORT]`` serves one watch page for
the whole batch: every attempt's run registers with it (``/runs`` lists them,
``/?run=ID`` shows one); its URL is printed once on stderr.

Exit status: 0 when every attempt of every task met its success check; 8 when
one did not (the summary says which); 2 for a bad command line or task file;
130/143 when interrupted (the summary is flushed; ``--resume`` finishes the rest).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TextIO, get_type_hints

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent._api._provider import resolve_provider
from agent._batch._attempt import Attempt, BatchRunSettings, attempt_options
from agent._batch._engine import (
    BatchEvents,
    BatchPlan,
    BatchRunner,
    hold_batch_dir,
    parse_shard,
    sha256_file,
)
from agent._batch._index import write_index
from agent._batch._summary import SUMMARY_FILENAME, merge_summaries, write_json_atomic
from agent._batch._tasks import BatchTask, load_tasks
from agent._cli._batch_ask import BatchAsk
from agent._cli._exit_codes import ExitCode
from agent._cli._options import parse_secrets
from agent._cli._reaper import reaper
from agent._cli._run import RunOptions, check_run_options
from agent._cli._session import CommandSession, cli_words
from agent._cli._watch import linger, start_watch
from agent._errors import ConfigurationError, TaskFileError
from agent._record._claim import reserve_run_dir

__all__ = ["BATCH_HELP", "BatchOptions", "batch_command"]

BATCH_HELP = (
    "Exit status: 0 every task met its success check; 8 a task did not (see summary.json); "
    "2 bad command line or task file; 130 interrupted (the summary is written; --resume "
    "finishes the rest); 143 terminated."
)

# `screenloop run` options that describe one task (they come from the task file) or
# that the batch has its own version of.
_NOT_INHERITED = frozenset(
    {
        "task",
        "url",
        "desktop",
        "launch",
        "allow_windowless",
        "host_desktop",
        "yes",
        "x_display",
        "record",
        "overwrite",
        "json_output",
        "downloads",
        "upload_dir",
        "runs_root",
    }
)


@dataclass(frozen=True)
class _BatchOwn:
    """The options only a batch has (the fields before the inherited run options)."""

    paths: Annotated[
        list[str],
        typer.Argument(
            help="A task file (.jsonl, .yaml): one task per line or list item. "
            "Or `merge DIR...`: one summary of shard output directories (into --record).",
            metavar="TASKS | merge DIR...",
            show_default=False,
        ),
    ]
    concurrency: Annotated[int, typer.Option(help="Attempts running at the same time.")] = 1
    repeat: Annotated[
        int, typer.Option(help="Attempts of each task (pass rate and flakiness per task).")
    ] = 1
    shard: Annotated[
        str | None,
        typer.Option(
            help="i/n: run only shard i of n (the tasks at positions p with p mod n = i-1), for a "
            "CI matrix or a Kubernetes Indexed Job; `batch merge` joins the outputs.",
            show_default=False,
        ),
    ] = None
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Keep the finished attempts in --record; run only the others."
        ),
    ] = False
    record: Annotated[
        Path | None,
        typer.Option(
            help="Batch output directory (default runs/<timestamp>-batch-<file>): "
            "summary.json, index.html, runs/<task>/attempt-<k>/.",
            show_default=False,
        ),
    ] = None
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing non-empty --record directory.")
    ] = False
    trust_task_file: Annotated[
        bool,
        typer.Option(
            "--trust-task-file",
            help="Let the task file run programs (launch, check.command), choose a base_url "
            "and read scripts outside its directory.",
        ),
    ] = False
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object on stdout.")
    ] = False


def _batch_options() -> type[Any]:
    """`_BatchOwn`'s fields, then every inheritable `RunOptions` field, as one dataclass."""
    hints = get_type_hints(RunOptions, include_extras=True)
    own = get_type_hints(_BatchOwn, include_extras=True)
    fields: list[tuple[str, Any, Any]] = []
    for f in dataclasses.fields(_BatchOwn):
        fields.append((f.name, own[f.name], _field_of(f)))
    for f in dataclasses.fields(RunOptions):
        if f.name in _NOT_INHERITED or f.name in own or not _has_default(f):
            continue
        fields.append((f.name, hints[f.name], _field_of(f)))
    return dataclasses.make_dataclass("BatchOptions", fields, frozen=True)


def _has_default(f: dataclasses.Field[Any]) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def _field_of(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return dataclasses.field(default=f.default)
    if f.default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=f.default_factory)
    return dataclasses.field()


BatchOptions = _batch_options()


def _base_options(opts: Any) -> RunOptions:
    """The batch's options as a `RunOptions` every attempt starts from."""
    names = {f.name for f in dataclasses.fields(RunOptions)}
    given = {f.name: getattr(opts, f.name) for f in dataclasses.fields(opts) if f.name in names}
    for name in ("record", "overwrite", "json_output"):
        given.pop(name, None)
    return RunOptions(task="", **given)


def _check_tasks(
    tasks: list[BatchTask], base: RunOptions, name: str, *, can_ask: bool = False
) -> str | None:
    """Check every task's run options as `screenloop run` would, before anything starts.

    Returns the API key the batch's own options resolve to (for the log's redaction).
    """
    errors: list[str] = []
    key: str | None = None
    for task in tasks:
        opts = attempt_options(base, task, Path("."))
        if task.demo_path is not None:
            opts = dataclasses.replace(opts, url="http://127.0.0.1/")
        if task.script is not None:
            opts = dataclasses.replace(opts, base_url="http://127.0.0.1:1/v1", provider="custom")
        if opts.safety == "ask" and not can_ask:
            errors.append(
                f"{name}:{task.line}: safety: ask needs a terminal or --watch (someone to "
                "answer); use deny or allow"
            )
            continue
        try:
            check_run_options(opts)
            if task.script is None:  # no key for a real model: said now, not per attempt
                settings = resolve_provider(
                    api_key=opts.api_key,
                    base_url=opts.base_url,
                    provider=opts.provider,
                    send_env_key=opts.send_env_key,
                )
                key = key or settings.api_key
        except ConfigurationError as exc:
            errors.append(f"{name}:{task.line}: task {task.id}: {cli_words(str(exc))}")
    if errors:
        raise TaskFileError("\n".join(errors[:20]), errors=errors)
    return key


class _Progress:
    """Live progress on a terminal (rich), else one line per finished attempt."""

    def __init__(self, console: Console, live: bool, quiet: bool) -> None:
        self.console = console
        self.quiet = quiet
        self.running: dict[str, int] = {}
        self.passed = self.failed = 0
        self.bar: Progress | None = None
        self.bar_task: Any = None
        if live and not quiet:
            self.bar = Progress(
                TextColumn("[bold]batch[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=console,
                transient=True,
            )

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The bar stopped while the terminal asks a question (--safety ask)."""
        if self.bar is None:
            yield
            return
        self.bar.stop()
        try:
            yield
        finally:
            self.bar.start()

    def events(self) -> BatchEvents:
        return BatchEvents(
            planned=self.planned, started=self.started, step=self.step, finished=self.finished
        )

    def _describe(self) -> str:
        running = ", ".join(f"{k} step {v}" for k, v in list(self.running.items())[:3])
        more = f" +{len(self.running) - 3}" if len(self.running) > 3 else ""
        return f"[green]{self.passed} passed[/] [red]{self.failed} failed[/] {running}{more}"

    def _update(self, advance: int = 0) -> None:
        if self.bar is not None and self.bar_task is not None:
            self.bar.update(self.bar_task, advance=advance, description=self._describe())

    def planned(self, total: int, kept: int) -> None:
        if self.bar is not None:
            self.bar_task = self.bar.add_task(self._describe(), total=total, completed=kept)
        elif kept and not self.quiet:
            self.console.print(f"resume: {kept} finished attempt(s) kept", markup=False)

    def started(self, attempt: Attempt) -> None:
        self.running[attempt.key] = 0
        self._update()

    def step(self, attempt: Attempt, step: int) -> None:
        self.running[attempt.key] = step
        self._update()

    def finished(self, attempt: Attempt, record: dict[str, Any]) -> None:
        self.running.pop(attempt.key, None)
        if record.get("passed"):
            self.passed += 1
        else:
            self.failed += 1
        self._update(advance=1)
        if self.quiet:
            return
        failed = [c for c in record.get("checks") or [] if not c.get("ok")]
        why = f"  ({failed[0]['detail']})" if failed else ""
        report = record.get("report") or record.get("run_dir")
        self.console.print(
            f"{'PASS' if record.get('passed') else 'FAIL'} {attempt.key}  {record['status']}  "
            f"{record['steps']} step(s)  {record['time_s']:.1f}s  {record['tokens']} tokens  "
            f"{report}{why}",
            markup=False,
            highlight=False,
        )


def _print_summary(session: CommandSession, summary: dict[str, Any], out: Path) -> None:
    totals = summary["totals"]
    rate = totals["pass_rate"]
    session.console.print(
        f"{totals['tasks']} task(s), {totals['attempts']} attempt(s): {totals['passed']} passed, "
        f"{totals['failed']} failed, {totals['not_run']} not run"
        + (f" (pass rate {rate * 100:.0f}%)" if rate is not None else "")
        + f"; flaky tasks: {totals['tasks_flaky']}",
        markup=False,
    )
    session.console.print(f"summary: {out / SUMMARY_FILENAME}", markup=False)
    session.console.print(f"index: {out / 'index.html'}", markup=False)


def _merge(opts: Any, session: CommandSession) -> int:
    dirs = [Path(p) for p in opts.paths[1:]]
    try:
        out = opts.record or reserve_run_dir(Path("runs") / time.strftime("%Y%m%d-%H%M%S-batch"))
        out.mkdir(parents=True, exist_ok=True)
        if any(d.resolve() == out.resolve() for d in dirs):
            raise ConfigurationError("batch merge: --record must not be one of the merged dirs")
        summary = merge_summaries(dirs, out)
    except OSError as exc:
        return session.usage_error(ConfigurationError(f"batch merge: {exc}"))
    except ConfigurationError as exc:
        return session.usage_error(exc)
    write_json_atomic(out / SUMMARY_FILENAME, summary)
    write_index(out, summary)
    code = ExitCode(summary["exit_code"])
    if summary["totals"]["not_run"] or not summary["complete"]:
        code = ExitCode.CHECKS_FAILED
    if opts.json_output:
        session.print_json(summary, code)
    else:
        _print_summary(session, summary, out)
    return code


def batch_command(
    opts: Any,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    interactive: bool | None = None,
) -> int:
    """`screenloop batch`; returns the exit status."""
    session = CommandSession(json_output=opts.json_output, out=out, err=err)
    if opts.paths and opts.paths[0] == "merge":
        return _merge(opts, session)
    tty = interactive if interactive is not None else session.out.isatty()
    # a safety question needs someone to answer: a terminal (or the watch page)
    asking_tty = tty and (interactive is not None or sys.stdin.isatty())
    try:
        if len(opts.paths) != 1:
            raise ConfigurationError(
                "batch takes one task file (or `merge DIR...`); got " + " ".join(opts.paths)
            )
        if opts.repeat < 1 or opts.repeat > 1000:
            raise ConfigurationError("--repeat must be from 1 to 1000")
        if opts.concurrency < 1 or opts.concurrency > 256:
            raise ConfigurationError("--concurrency must be from 1 to 256")
        if opts.resume and opts.record is None:
            raise ConfigurationError("--resume needs --record: the batch directory to finish")
        if opts.resume and opts.overwrite:
            raise ConfigurationError("choose --resume or --overwrite, not both")
        shard = parse_shard(opts.shard)
        task_file = Path(opts.paths[0])
        tasks = load_tasks(task_file, trusted=opts.trust_task_file)
        base = _base_options(opts)
        can_ask = asking_tty or opts.watch is not None
        api_key = _check_tasks(tasks, base, str(task_file), can_ask=can_ask)
        secrets = parse_secrets(opts.secrets)
        sha = sha256_file(task_file)
    except ConfigurationError as exc:
        return session.usage_error(exc)
    session.start_logging(opts.verbose, api_key=api_key or opts.api_key, secrets=secrets)
    watch = None
    if opts.watch is not None:  # one page for every attempt (issue 19)
        try:
            watch = start_watch(opts.watch, session.err_console, what="the batch's runs")
        except ConfigurationError as exc:
            return session.usage_error(exc)
    target = opts.record or reserve_run_dir(
        Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-batch-{task_file.stem[:40]}"
    )
    plan = BatchPlan(tasks, target, task_file.name, sha, repeat=opts.repeat, shard=shard)
    asks = asking_tty and any(
        attempt_options(base, t, target).safety == "ask" for t in plan.selected
    )
    progress = _Progress(session.console, live=tty and not opts.json_output, quiet=False)
    ask = (
        BatchAsk(session.console, watch=watch is not None, paused=progress.paused) if asks else None
    )
    settings = BatchRunSettings(
        base=base,
        secrets=secrets,
        task_dir=task_file.parent.resolve(),
        watch=watch,
        ask=ask.for_attempt if ask is not None else None,
    )
    runner = BatchRunner(
        plan, settings, concurrency=opts.concurrency, resume=opts.resume, events=progress.events()
    )
    desktop = any(t.options.get("desktop") for t in plan.selected)

    async def main() -> dict[str, Any]:
        with (
            hold_batch_dir(target, resume=opts.resume, overwrite=opts.overwrite),
            reaper() if desktop else contextlib.nullcontext(),
            progress,
        ):
            return await runner.run()

    outcome = session.run(main())
    if watch is not None:
        if tty and outcome.failed is None:  # the page keeps the results until Enter
            linger(watch, session.err_console)
        watch.close()
    summary = runner.summary() if outcome.value is None else outcome.value
    if outcome.failed is not None and outcome.error is not None:
        return outcome.failed  # the batch never started (its directory is in use...)
    code = outcome.failed if outcome.failed is not None else ExitCode(summary["exit_code"])
    if opts.json_output:
        session.print_json({**summary, "record": str(target)}, code)
    else:
        _print_summary(session, summary, target)
    return code
