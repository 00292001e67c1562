"""Finding a Chromium binary and the flags it is launched with.

Discovery order (first hit wins): an explicit path, the ``SCREENLOOP_CHROMIUM``
environment variable, Playwright's own downloaded Chromium (if someone ran
``playwright install``), then Debian's ``chromium`` package (the real binary,
not the ``/usr/bin`` wrapper script) and its ``chromium-headless-shell``.

Playwright itself drives the browser in ``executors/``; this module is plain
data and file-system look-ups.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from sandbox._errors import BrowserNotFoundError

__all__ = [
    "CHROMIUM_ARGS",
    "CHROMIUM_ENV_VAR",
    "SYSTEM_CHROMIUM_PATHS",
    "chromium_args",
    "find_chromium",
    "playwright_cache_dirs",
]

logger = logging.getLogger(__name__)

CHROMIUM_ENV_VAR = "SCREENLOOP_CHROMIUM"

SYSTEM_CHROMIUM_PATHS: tuple[str, ...] = (
    "/usr/lib/chromium/chromium",
    "/usr/lib/chromium/chromium-headless-shell",
    "/usr/lib/chromium-browser/chromium-browser",
    "/opt/google/chrome/chrome",
)

# Flags that keep a sandboxed browser quiet and deterministic. Playwright adds
# its own defaults too; these are the ones screenloop relies on.
CHROMIUM_ARGS: tuple[str, ...] = (
    # No traffic the agent did not cause (updates, metrics, sync, prefetch).
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--dns-prefetch-disable",
    "--no-pings",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-default-apps",
    "--disable-extensions",
    "--password-store=basic",
    "--use-mock-keychain",
    # QUIC would bypass nothing, but it makes request timing noisy; TCP only.
    "--disable-quic",
    # Scroll jumps land at once instead of animating, so settling is short.
    "--disable-smooth-scrolling",
    # Keep cross-site iframes in the page's renderer so the per-page network
    # interception (redirect checks) sees their requests too.
    "--disable-site-isolation-trials",
    # Background tabs keep running timers/frames (popups are followed).
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--disable-dev-shm-usage",
    # The full browser's new headless mode builds each window's omnibox popups
    # (two WebUI pages) ahead of time, in a renderer of their own per browser
    # context: ~30 MiB and half the renderer CPU of every agent on a shared
    # browser, for a URL bar no agent sees. Chromium merges this list with
    # Playwright's own --disable-features.
    "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,PreloadTopChromeWebUI",
)


def chromium_args(*, extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The launch flags screenloop uses, plus `extra` (appended, duplicates dropped)."""
    args = list(CHROMIUM_ARGS)
    for arg in extra:
        if arg not in args:
            args.append(arg)
    return args


def playwright_cache_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """Where Playwright keeps the browsers it downloads, on this platform."""
    env = os.environ if env is None else env
    dirs: list[Path] = []
    custom = env.get("PLAYWRIGHT_BROWSERS_PATH")
    if custom and custom != "0":
        dirs.append(Path(custom).expanduser())
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "darwin":
        dirs.append(home / "Library" / "Caches" / "ms-playwright")
    elif sys.platform == "win32":
        local = env.get("LOCALAPPDATA")
        if local:
            dirs.append(Path(local) / "ms-playwright")
    else:
        cache = env.get("XDG_CACHE_HOME")
        dirs.append(Path(cache) / "ms-playwright" if cache else home / ".cache" / "ms-playwright")
    return dirs


_REVISION = re.compile(r"-(\d+)$")

# (directory prefix, relative executable paths) for Playwright's Chromium builds.
_PLAYWRIGHT_LAYOUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "chromium-",
        (
            "chrome-linux64/chrome",
            "chrome-linux/chrome",
            "chrome-mac/Chromium.app/Contents/MacOS/Chromium",
            "chrome-mac-arm64/Google Chrome for Testing.app/Contents/MacOS/"
            "Google Chrome for Testing",
            "chrome-win64/chrome.exe",
            "chrome-win/chrome.exe",
        ),
    ),
    (
        "chromium_headless_shell-",
        (
            "chrome-headless-shell-linux64/chrome-headless-shell",
            "chrome-linux/headless_shell",
            "chrome-mac/headless_shell",
            "chrome-win/headless_shell.exe",
        ),
    ),
)


def _playwright_candidates(cache_dirs: list[Path]) -> list[Path]:
    found: list[tuple[int, int, Path]] = []
    for base in cache_dirs:
        if not base.is_dir():
            continue
        for rank, (prefix, rels) in enumerate(_PLAYWRIGHT_LAYOUTS):
            for child in base.glob(prefix + "*"):
                match = _REVISION.search(child.name)
                if not match or not child.name.startswith(prefix):
                    continue
                found.extend(
                    (rank, -int(match.group(1)), child / rel)
                    for rel in rels
                    if (child / rel).exists()
                )
    # Full Chromium before the headless shell; newest revision first.
    return [path for _, _, path in sorted(found, key=lambda t: (t[0], t[1]))]


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_chromium(
    executable_path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    system_paths: tuple[str, ...] = SYSTEM_CHROMIUM_PATHS,
) -> Path:
    """Return the Chromium binary to launch, or raise `BrowserNotFoundError`.

    An explicit path or the ``SCREENLOOP_CHROMIUM`` variable, when given, must
    point at an executable: a typo there raises instead of silently launching
    another browser.
    """
    env = os.environ if env is None else env
    tried: list[str] = []
    if executable_path is not None:
        path = Path(executable_path).expanduser()
        if _usable(path):
            return path
        raise BrowserNotFoundError([f"{path} (explicit path: missing or not executable)"])
    from_env = env.get(CHROMIUM_ENV_VAR)
    if from_env:
        path = Path(from_env).expanduser()
        if _usable(path):
            return path
        raise BrowserNotFoundError(
            [f"{path} (from ${CHROMIUM_ENV_VAR}: missing or not executable)"]
        )
    tried.append(f"${CHROMIUM_ENV_VAR} (not set)")
    cache_dirs = playwright_cache_dirs(env)
    candidates = _playwright_candidates(cache_dirs)
    if not candidates:
        tried.extend(f"{d} (Playwright downloads: no Chromium there)" for d in cache_dirs)
    for path in candidates:
        if _usable(path):
            logger.debug("using Playwright's Chromium at %s", path)
            return path
        tried.append(f"{path} (Playwright download)")
    for text in system_paths:
        path = Path(text)
        if _usable(path):
            logger.debug("using system Chromium at %s", path)
            return path
        tried.append(f"{path} (system)")
    raise BrowserNotFoundError(tried)
