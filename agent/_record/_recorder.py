"""The run directory writer (docs/run-directory.md, schema version 1).

``run.json`` is rewritten atomically (temp file + rename) whenever it changes;
``steps.jsonl`` gets one line per step, flushed; screenshots are files under
``screenshots/``. Flushed means handed to the OS: a run killed at any point
leaves every finished step readable and a whole run.json. ``fsync`` (on the
disk, surviving a power cut) happens at `start` and `finish` only: per step it
cost 1-7 ms on a busy machine, a large share of a step's runtime. The per-step
steps.jsonl line and run.json rewrite are prepared on the caller's thread and
written in order on a worker thread (`agent._record._writer`), off the loop's
critical path; `finish` waits for them before its final, durable run.json, and
a failed write is raised from the next call. Everything
passes through the `Redactor` first, and every ``data:image`` URL in a request
body is replaced by ``{"screenshot_ref": "screenshots/NNNN.png"}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agent._record._claim import reserve_run_dir
from agent._record._writer import Writer
from agent._secrets import Redactor
from executors._browser._transfers import unique_path
from executors._computer import Screenshot

__all__ = ["SCHEMA_VERSION", "RunRecorder", "default_run_dir"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# Characters str.splitlines() treats as line ends that json.dumps leaves unescaped.
_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key(url: str) -> tuple[int, int]:
    # Keyed by length and str hash (SipHash, randomly keyed per process) so the recorder
    # does not keep every screenshot's data URL alive. Python caches a str's hash, so
    # the request body's reference to the same URL is found for free (a blake2b digest
    # of the ~130 KB URL cost ~0.5 ms, twice per step).
    return len(url), hash(url)


def default_run_dir(runs_root: str | os.PathLike[str], task: str) -> Path:
    """``<runs_root>/<YYYYmmdd-HHMMSS>-<task-slug>``, made unique with a suffix and created."""
    slug = re.sub(r"[^a-z0-9]+", "-", task.lower()).strip("-")[:40] or "task"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    # created here, so two runs started in the same second cannot pick the same name
    return reserve_run_dir(Path(runs_root) / f"{stamp}-{slug}")


class RunRecorder:
    """Writes one run directory. Create it, call `start`, then `write_step` per step."""

    def __init__(self, run_dir: Path, redactor: Redactor | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.redact = redactor or Redactor()
        self.summary: dict[str, Any] = {}
        self._refs: dict[tuple[int, int], str] = {}
        self._steps_file: Any = None
        self._writer = Writer()
        self.closed = False

    # -- files --------------------------------------------------------------
    def start(self, summary: dict[str, Any]) -> None:
        """Create the directory and write the first run.json (status ``running``)."""
        (self.run_dir / "screenshots").mkdir(parents=True, exist_ok=True)
        self.summary = {
            "schema_version": SCHEMA_VERSION,
            "status": "running",
            "final_output": None,
            "error": None,
            "steps": 0,
            "started_at": _utc_now(),
            "ended_at": None,
            "initial_screenshot": None,
            **summary,
        }
        self._steps_file = open(self.run_dir / "steps.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        self.write_summary()

    def save_screenshot(self, index: int, shot: Screenshot, url: str | None = None) -> str:
        """Write ``screenshots/NNNN.<fmt>`` and remember `url` (its data URL) for refs."""
        ext = "jpg" if shot.format == "jpeg" else shot.format
        rel = f"screenshots/{index:04d}.{ext}"
        (self.run_dir / rel).write_bytes(shot.data)
        if url is not None:
            self._refs.setdefault(_key(url), rel)  # identical images share the first file
        return rel

    def add_download(self, source: Path, *, url: str, size: int, move: bool) -> str:
        """List a downloaded file in run.json's ``downloads``; returns where it is now.

        With `move`, the file is moved into ``downloads/`` of the run directory
        (the path recorded is then relative to it); else it stays where it is.
        """
        where = str(source)
        if move:
            target_dir = self.run_dir / "downloads"
            target_dir.mkdir(parents=True, exist_ok=True)
            target = unique_path(target_dir, source.name)
            shutil.move(source, target)
            where = target.relative_to(self.run_dir).as_posix()
        downloads = self.summary.setdefault("downloads", [])
        downloads.append({"name": Path(where).name, "size": size, "url": url, "path": where})
        self.write_summary(durable=False)
        return where

    def update(self, **fields: Any) -> None:
        """Change fields of run.json and rewrite it atomically."""
        self.summary.update(fields)
        self.write_summary(durable=False)

    def write_summary(self, *, durable: bool = True) -> None:
        """Atomically rewrite run.json: when `durable`, at once (after every queued
        write) and fsynced; else queued for the writer thread."""
        data = json.dumps(self.redact(self.summary), indent=2, ensure_ascii=False)
        if durable:
            self._writer.drain()
            self._replace_summary(data, durable=True)
        else:
            self._writer.submit(lambda: self._replace_summary(data, durable=False))

    def _replace_summary(self, data: str, *, durable: bool) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".run.", suffix=".json", dir=self.run_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(data)
                fh.flush()
                if durable:
                    os.fsync(fh.fileno())
            os.replace(tmp, self.run_dir / "run.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def write_step(self, step: dict[str, Any]) -> None:
        """Append one steps.jsonl line (redacted, screenshots as refs) and flush it."""
        if self._steps_file is None:
            return
        line = json.dumps(self.redact(self.scrub(step)), ensure_ascii=False)
        # str.splitlines() (used by readers) also breaks at these; JSON allows escaping them.
        line = line.translate(_LINE_BREAKS) + "\n"
        steps_file = self._steps_file
        self._writer.submit(lambda: _append(steps_file, line))

    def scrub(self, obj: Any) -> Any:
        """Replace every ``data:image`` URL by ``{"screenshot_ref": path-or-None}``."""
        if isinstance(obj, str):
            if obj.startswith("data:image/"):
                return {"screenshot_ref": self._refs.get(_key(obj))}
            return obj
        if isinstance(obj, dict):
            return {k: self.scrub(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.scrub(v) for v in obj]
        return obj

    def finish(self, **fields: Any) -> None:
        """Write the final run.json and close steps.jsonl (idempotent)."""
        if self.closed:
            return
        self.closed = True
        try:
            self._writer.close()
        except OSError as exc:  # the final run.json below is still attempted
            logger.warning("a run directory write failed: %s", exc)
        if self._steps_file is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._steps_file.fileno())
            self._steps_file.close()
            self._steps_file = None
        self.summary.update(ended_at=_utc_now(), **fields)
        self.write_summary(durable=True)


def _append(steps_file: Any, line: str) -> None:
    """One steps.jsonl line, flushed (handed to the OS)."""
    steps_file.write(line)
    steps_file.flush()
