"""One writer per run directory: a lock held for the whole run, and no silent reuse.

`claim_run_dir` is what `screenloop run` holds around a run: an exclusive
``flock`` on ``<run_dir>/.lock`` (a second run into the same directory is
refused at once, whichever process it is in), and under that lock a check
that the directory holds no earlier run -- refused unless ``overwrite``, which
clears it first. `reserve_run_dir` makes a default directory name unique by
creating it (two runs of the same task started in the same second get two
directories).

`hold_run_dir` is what every `Agent` run holds (the Python API): the claim its
caller took for this run (``screenloop run`` claims before it starts a
browser, and hands the claim to the one run it starts), or else a claim of its
own -- the same lock, so two `Agent` runs, or an `Agent` run and the CLI, never
write into one directory at once. A directory another program filled is not
cleared: without ``overwrite`` only an earlier *run* (its run.json or
steps.jsonl) is refused there, so a caller's own files (the pytest plugin's
checks) may come first.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import shutil
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from agent._errors import RunDirectoryError

__all__ = [
    "LOCK_NAME",
    "claim_run_dir",
    "hold_run_dir",
    "locked_dir",
    "remove_entries",
    "reserve_run_dir",
]

LOCK_NAME = ".lock"
# what an earlier run leaves in its directory (the Python API refuses these)
_RUN_RECORDS = frozenset({"run.json", "steps.jsonl"})


@dataclass
class _Claim:
    """A claim held by a caller, for the one run it starts in this context."""

    path: Path
    handed_over: bool = False


_CLAIMED: ContextVar[_Claim | None] = ContextVar("screenloop_run_dir_claim", default=None)


def reserve_run_dir(base: Path) -> Path:
    """Create and return `base`, or ``base-2``, ``base-3`` ... : the first that did not exist."""
    base.parent.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        candidate = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise AssertionError("unreachable")


@contextlib.contextmanager
def locked_dir(
    path: Path, *, unusable: str, busy: str, lock_name: str = LOCK_NAME
) -> Iterator[list[str]]:
    """Create `path` and hold its lock file `lock_name` for the block: the names already
    in it (the lock file aside).

    Raises `RunDirectoryError`: "`unusable`: why" when the directory cannot be
    made or its lock opened, `busy` when another process holds the lock.
    """
    if path.exists() and not path.is_dir():
        raise RunDirectoryError(f"{path} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path / lock_name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise RunDirectoryError(f"{unusable}: {exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunDirectoryError(busy) from None
        yield sorted(p.name for p in path.iterdir() if p.name != lock_name)
    finally:
        os.close(fd)  # releases the lock


def remove_entries(path: Path, names: Iterable[str]) -> None:
    """Delete `names` from directory `path` (a directory wholly; a symlink, not its target)."""
    for name in names:
        entry = path / name
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


@contextlib.contextmanager
def claim_run_dir(run_dir: Path, *, overwrite: bool = False, api: bool = False) -> Iterator[Path]:
    """Hold `run_dir` for one run (see the module docstring); raises `RunDirectoryError`.

    `api`: claimed by an `Agent` run itself (errors name its arguments, and only an
    earlier run's record counts as "not empty").
    """
    other = "another run_dir" if api else "another --record"
    with locked_dir(
        run_dir,
        unusable=f"cannot use {run_dir} as a run directory",
        busy=f"another screenloop run is writing to {run_dir}; choose {other}",
    ) as earlier:
        blocking = [n for n in earlier if n in _RUN_RECORDS] if api else earlier
        if blocking and not overwrite:
            shown = ", ".join(blocking[:4]) + (" ..." if len(blocking) > 4 else "")
            what = "holds an earlier run" if api else "is not empty"
            flag = "overwrite=True" if api else "--overwrite"
            raise RunDirectoryError(
                f"{run_dir} {what} ({shown}); pass {flag} to replace it, or choose {other}"
            )
        if overwrite:  # a caller's own files stay otherwise
            remove_entries(run_dir, earlier)
        previous = _CLAIMED.get()
        _CLAIMED.set(_Claim(_resolved(run_dir)))
        try:
            yield run_dir
        finally:
            # not Token.reset: a run claims inside its wall-time task (a copied
            # context) and releases in the caller's, once the record is final
            _CLAIMED.set(previous)


@contextlib.contextmanager
def hold_run_dir(run_dir: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Hold `run_dir` for an `Agent` run: the caller's claim of it, else one of its own."""
    held = _CLAIMED.get()
    if held is not None and not held.handed_over and held.path == _resolved(run_dir):
        held.handed_over = True  # one run per claim: a second one claims (and is refused)
        yield run_dir
        return
    with claim_run_dir(run_dir, overwrite=overwrite, api=True):
        yield run_dir


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()
