"""Success checks: did an attempt do what its task asked?

An attempt passes when its run completed *and* every part of its task's
`SuccessCheck` holds:

- ``answer``: the regex is found (`re.search`) in the final answer;
- ``url``: the regex is found in the page's URL at the end of the run;
- ``question``: the model answers yes to an `agent.check` question about the final
  screen (one request: the screenshot, the question, a json_schema answer);
- ``command``: the program exits with status 0. It runs without a shell, in the
  task file's directory, with the attempt in its environment (``SCREENLOOP_RUN_DIR``,
  ``SCREENLOOP_STATUS``, ``SCREENLOOP_FINAL_OUTPUT``, ``SCREENLOOP_URL``,
  ``SCREENLOOP_TASK_ID``, ``SCREENLOOP_ATTEMPT``, ``SCREENLOOP_DEMO_URL`` for a demo
  shop) and without the API keys of the environment.

The question and the command are asked only of a completed run (a run that did
not complete has failed already); the answer and URL patterns are always
evaluated, for the summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from agent._batch._tasks import SuccessCheck
from agent._result import RunResult
from agent._secrets import Redactor

__all__ = ["KEY_VARIABLES", "evaluate_check"]

KEY_VARIABLES = ("TZAFON_API_KEY", "OPENAI_API_KEY", "LIGHTCONE_API_KEY")
_MAX_TEXT = 100_000
_MAX_OUTPUT = 2000

Asker = Callable[[str], Awaitable[bool]]


def _part(kind: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"kind": kind, "ok": ok, "detail": detail[:_MAX_OUTPUT]}


async def evaluate_check(
    check: SuccessCheck | None,
    result: RunResult,
    *,
    final_url: str | None,
    ask: Asker | None,
    cwd: Path,
    env: Mapping[str, str],
    redact: Redactor,
) -> list[dict[str, Any]]:
    """One ``{"kind", "ok", "detail"}`` per part of the check, the run's status first."""
    completed = result.status == "completed"
    why = ""
    if result.error:
        why = redact.text(f": {result.error.get('type')}: {result.error.get('message')}")
    parts = [_part("status", completed, f"the run ended with status {result.status}{why}")]
    if check is None:
        return parts
    answer = (result.final_output or "")[:_MAX_TEXT]
    if check.answer is not None:
        found = re.search(check.answer, answer) is not None
        verb = "found" if found else "not found"
        parts.append(_part("answer", found, f"/{check.answer}/ {verb} in the final answer"))
    if check.url is not None:
        url = (final_url or "")[:_MAX_TEXT]
        found = re.search(check.url, url) is not None
        parts.append(
            _part("url", found, f"/{check.url}/ {'found' if found else 'not found'} in {url!r}")
        )
    if check.question is not None:
        if not completed or ask is None:
            parts.append(_part("question", False, "not asked: the run did not complete"))
        else:
            try:
                yes = await ask(check.question)
            except Exception as exc:  # a failed check request fails the check, not the batch
                parts.append(_part("question", False, redact.text(f"{type(exc).__name__}: {exc}")))
            else:
                parts.append(_part("question", yes, f"the model answered {'yes' if yes else 'no'}"))
    if check.command is not None:
        if not completed:
            parts.append(_part("command", False, "not run: the run did not complete"))
        else:
            parts.append(await _run_command(check.command, check.timeout_s, cwd, env, redact))
    return parts


async def _run_command(
    argv: tuple[str, ...], timeout_s: float, cwd: Path, env: Mapping[str, str], redact: Redactor
) -> dict[str, Any]:
    environ = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES}
    environ.update(env)
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=environ,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        return _part("command", False, f"cannot start {argv[0]!r}: {exc.strerror or exc}")
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except (asyncio.TimeoutError, asyncio.CancelledError) as exc:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        await proc.wait()
        if isinstance(exc, asyncio.CancelledError):
            raise
        return _part("command", False, f"{argv[0]} did not finish within {timeout_s:g} s")
    tail = redact.text(out.decode("utf-8", "replace")[-_MAX_OUTPUT:]).strip()
    ok = proc.returncode == 0
    detail = f"{argv[0]} exited with status {proc.returncode}" + (f": {tail}" if tail else "")
    return _part("command", ok, detail)
