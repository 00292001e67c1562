"""Files in and out of the browser: downloads and file choosers.

- Downloads are always accepted and saved: into ``downloads_dir`` when one was
  chosen, else into a directory of the computer's own (removed when it
  closes), from which the agent's recorder moves them into the run directory.
  Each is an event ``download`` with its path, name and size, told to the model.
- A file chooser (``<input type=file>``) never opens a native dialog. With an
  ``upload_dir``, the model is told the chooser opened and which files it may
  pick, and picks one by name (`choose_file`); only a regular file directly in
  that directory can be given to the page (the name is checked after
  resolving links). Without one, the chooser is left unanswered (cancelled)
  and the model is told uploads are not allowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from playwright.async_api import Download, FileChooser
from playwright.async_api import Error as PlaywrightError

from executors._browser._shared import BrowserState
from executors._errors import ActionFailedError

__all__ = ["Transfers", "unique_path"]

logger = logging.getLogger(__name__)

_MAX_LISTED = 20
# Playwright's ``filechooser`` event needs a round trip after the click that opened
# it, so on a busy machine it can trail that step's screenshot: a choose_file asked
# for at once waits this long for it before saying no chooser is open.
_CHOOSER_WAIT_S = 2.0


def unique_path(directory: Path, name: str) -> Path:
    """``directory/name``, or ``name (1)``, ``name (2)``... when that exists already."""
    clean = Path(name).name or "download"
    target = directory / clean
    stem, suffix = Path(clean).stem, Path(clean).suffix
    n = 1
    while target.exists():
        target = directory / f"{stem} ({n}){suffix}"
        n += 1
    return target


class Transfers:
    """Saves downloads, answers file choosers; owns the temporary download directory."""

    def __init__(
        self, state: BrowserState, downloads_dir: Path | None, upload_dir: Path | None
    ) -> None:
        self._state = state
        self.kept = downloads_dir is not None  # files stay where the user chose
        self._own_dir: Path | None = None
        self._downloads_dir = downloads_dir
        self.upload_dir = upload_dir
        self._saving: set[asyncio.Future[Any]] = set()
        self._chooser: FileChooser | None = None
        self._chooser_opened = asyncio.Event()

    @property
    def downloads_dir(self) -> Path:
        """Where downloads are saved (created on first use)."""
        if self._downloads_dir is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix="screenloop-downloads-"))
            self._downloads_dir = self._own_dir
        self._downloads_dir.mkdir(parents=True, exist_ok=True)
        return self._downloads_dir

    def close(self) -> None:
        """Remove the computer's own download directory (what was not moved out is gone)."""
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    # -- downloads ------------------------------------------------------------------------

    def on_download(self, download: Download) -> None:
        """A page's ``download`` event: save it in the background (see `saved`)."""
        task = self._state.spawn(self._save(download))
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    async def saved(self, timeout: float) -> None:
        """Wait (bounded) for the downloads being saved, so the step that caused them tells."""
        if self._saving:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*self._saving, return_exceptions=True), timeout
                )

    async def _save(self, download: Download) -> None:
        name = Path(download.suggested_filename).name or "download"
        target = unique_path(self.downloads_dir, name)
        try:
            await download.save_as(target)
        except PlaywrightError as exc:
            self._state.emit(
                "download",
                f"download of {download.url} failed: {exc.message}",
                notice=f"The download of {name} failed.",
                url=download.url,
                name=name,
            )
            return
        size = target.stat().st_size
        self._state.emit(
            "download",
            f"downloaded {download.url} to {target} ({size} bytes)",
            notice=f"Downloaded {target.name} ({_size(size)}).",
            url=download.url,
            name=target.name,
            size=size,
            path=str(target),
            kept=self.kept,
        )

    # -- file choosers --------------------------------------------------------------------

    def allowed_files(self) -> list[str]:
        """The names of the files the model may upload (regular files in `upload_dir`)."""
        if self.upload_dir is None or not self.upload_dir.is_dir():
            return []
        return sorted(p.name for p in self.upload_dir.iterdir() if p.is_file())

    def on_file_chooser(self, chooser: FileChooser) -> None:
        """A page's ``filechooser`` event: keep it for the model, or refuse it."""
        if self.upload_dir is None:
            self._state.emit(
                "file_chooser",
                "file chooser cancelled: no upload directory",
                notice="A file chooser opened, but uploads are not allowed in this run; "
                "it was cancelled.",
                allowed=False,
            )
            return
        self._chooser = chooser
        self._chooser_opened.set()
        names = self.allowed_files()
        listed = ", ".join(names[:_MAX_LISTED]) + (" ..." if len(names) > _MAX_LISTED else "")
        self._state.emit(
            "file_chooser",
            f"file chooser open ({len(names)} files allowed)",
            notice="A file chooser opened (not drawn in the screenshot). Files you may pick: "
            f"{listed or '(none)'}. Call the choose_file function with one file name.",
            allowed=True,
            files=names,
        )

    async def choose(self, name: str) -> str:
        """Give the open file chooser the allowed file `name`; returns what was chosen."""
        if self.upload_dir is None:
            raise ActionFailedError("uploads are not allowed in this run (no upload directory)")
        if self._chooser is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._chooser_opened.wait(), _CHOOSER_WAIT_S)
        chooser, self._chooser = self._chooser, None
        self._chooser_opened.clear()
        if chooser is None:
            raise ActionFailedError("no file chooser is open: click the file input first")
        root = self.upload_dir.resolve()
        path = (root / name).resolve()
        if Path(name).name != name or path.parent != root or not path.is_file():
            self._chooser = chooser  # still open: the model may pick again
            self._chooser_opened.set()
            raise ActionFailedError(
                f"{name!r} is not one of the files allowed: {', '.join(self.allowed_files())}"
            )
        try:
            await asyncio.wait_for(chooser.set_files(path), self._state.options.action_timeout_s)
        except (asyncio.TimeoutError, PlaywrightError) as exc:
            raise ActionFailedError(f"giving {name!r} to the file chooser failed: {exc}") from exc
        self._state.input_generation += 1
        self._state.emit(
            "file_chosen",
            f"file chooser given {path}",
            notice=f"The file {name} was chosen for upload.",
            name=name,
        )
        return name


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
