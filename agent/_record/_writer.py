"""A one-thread, in-order file writer for the run directory.

Per step the recorder appends a steps.jsonl line and rewrites run.json
(temp file + rename). On a busy machine the rename alone cost 2-8 ms, all of
it on the loop's critical path between two model calls. `Writer` runs those
writes on one worker thread, in the order they were queued, while the loop
goes on to its next request; the caller prepares every byte beforehand (the
data written is a snapshot). `drain` waits for all of them: the recorder
drains before its final, durable run.json, so a run that ends -- completed,
failed, cancelled -- leaves every step on disk as before. A write that fails
is raised from the next call (or `drain`), as it would have been at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["Writer"]


class Writer:
    """Runs queued write jobs one at a time, in order, on a worker thread."""

    def __init__(self, name: str = "screenloop-record") -> None:
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        """Queue `job`; first raise the error of an earlier job that failed."""
        self._raise_failed()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
        future = self._pool.submit(job)
        with self._lock:
            self._pending.append(future)

    def _raise_failed(self) -> None:
        with self._lock:
            done = [f for f in self._pending if f.done()]
            self._pending = [f for f in self._pending if not f.done()]
        for future in done:
            future.result()  # the job's own error (OSError: disk full, directory gone)

    def drain(self) -> None:
        """Wait for every queued job; raise the first error among them."""
        with self._lock:
            pending, self._pending = self._pending, []
        error: BaseException | None = None
        for future in pending:
            try:
                future.result()
            except BaseException as exc:  # the first one is raised, after all are done
                error = error or exc
        if error is not None:
            raise error

    def close(self) -> None:
        """Drain, then stop the worker thread (raises a job's error after stopping)."""
        try:
            self.drain()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
