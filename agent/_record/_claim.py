"""One writer per run directory: a lock held for the whole run, and no silent reuse.

`claim_run_dir` is what `screenloop run` holds around a run: an exclusive
``flock`` on ``<run_dir>/.lock`` (a second run into the same directory is
refused at once, whichever process it is in), and under that lock a check
that the directory holds no earlier run -- refused unless ``overwrite``, which
clears it first. `reserve_run_dir` makes a default directory name unique by
creating it (two runs of the same task started in the same second get two
directories).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from agent._errors import RunDirectoryError

__all__ = ["LOCK_NAME", "claim_run_dir", "reserve_run_dir"]

LOCK_NAME = ".lock"


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
def claim_run_dir(run_dir: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Hold `run_dir` for one run (see the module docstring); raises `RunDirectoryError`."""
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirectoryError(f"{run_dir} exists and is not a directory")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(run_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise RunDirectoryError(f"cannot use {run_dir} as a run directory: {exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunDirectoryError(
                f"another screenloop run is writing to {run_dir}; choose another --record"
            ) from None
        earlier = sorted(p.name for p in run_dir.iterdir() if p.name != LOCK_NAME)
        if earlier and not overwrite:
            shown = ", ".join(earlier[:4]) + (" ..." if len(earlier) > 4 else "")
            raise RunDirectoryError(
                f"{run_dir} is not empty ({shown}); pass --overwrite to replace it, "
                "or choose another --record directory"
            )
        for name in earlier:
            path = run_dir / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        yield run_dir
    finally:
        os.close(fd)  # releases the lock
