"""Saved logins for `PlaywrightComputer`: a storage-state file or a profile directory.

- ``storage_state=FILE``: the context starts with the cookies and local storage
  of FILE (Playwright's storage-state JSON); a FILE that does not exist yet is
  fine when it is also ``save_storage_state`` (the first, logging-in run).
- ``save_storage_state=FILE``: at close, the context's state is written to
  FILE (atomically, mode 0600: it holds session cookies).
- ``user_data_dir=DIR``: a persistent Chromium profile (everything a profile
  keeps, across runs); not with ``cdp_url``/``ws_endpoint``.

These files hold secrets: nothing here logs or copies their content.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, BrowserType

__all__ = ["Logins"]


@dataclass(frozen=True)
class Logins:
    """Where a browser's logins come from and go to."""

    storage_state: Path | None = None
    user_data_dir: Path | None = None
    save_to: Path | None = None

    @classmethod
    def checked(
        cls,
        storage_state: str | os.PathLike[str] | None,
        user_data_dir: str | os.PathLike[str] | None,
        save_storage_state: str | os.PathLike[str] | None,
        *,
        remote: bool,
    ) -> Logins:
        """The settings, or ValueError for a combination that cannot work."""
        state = Path(storage_state) if storage_state is not None else None
        profile = Path(user_data_dir) if user_data_dir is not None else None
        save = Path(save_storage_state) if save_storage_state is not None else None
        if state is not None and profile is not None:
            raise ValueError("pass storage_state or user_data_dir, not both")
        if profile is not None and remote:
            raise ValueError("user_data_dir needs a browser launched here, not cdp_url/ws_endpoint")
        if profile is not None and profile.exists() and not profile.is_dir():
            raise ValueError(f"user_data_dir {profile} is not a directory")
        if state is not None and not state.is_file() and state != save:
            raise ValueError(f"storage_state {state} is not a file")
        return cls(state, profile, save)

    def state_to_load(self) -> str | None:
        """The storage-state file to start the context with (None: a fresh context)."""
        if self.storage_state is not None and self.storage_state.is_file():
            return str(self.storage_state)
        return None

    async def launch_persistent(self, chromium: BrowserType, **options: Any) -> BrowserContext:
        """Launch Chromium on the profile directory (created when missing)."""
        assert self.user_data_dir is not None
        self.user_data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return await chromium.launch_persistent_context(str(self.user_data_dir), **options)

    async def save(self, context: BrowserContext, path: Path | None = None) -> Path:
        """Write `context`'s storage state to `path` (default `save_to`), mode 0600."""
        target = path or self.save_to
        if target is None:
            raise ValueError("no file to save the storage state to")
        state = await context.storage_state()
        target.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp makes the file readable and writable by this user only (0600)
        fd, tmp = tempfile.mkstemp(prefix=".state.", suffix=".json", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(state, fh)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return target
