"""Chromium discovery order and its error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox import CHROMIUM_ARGS, BrowserNotFoundError, chromium_args, find_chromium


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_explicit_path_wins(tmp_path: Path) -> None:
    exe = _exe(tmp_path / "mine" / "chrome")
    env = {"SCREENLOOP_CHROMIUM": str(_exe(tmp_path / "env" / "chrome")), "HOME": str(tmp_path)}
    assert find_chromium(exe, env=env) == exe


def test_explicit_path_missing_raises_and_does_not_fall_back(tmp_path: Path) -> None:
    with pytest.raises(BrowserNotFoundError) as info:
        find_chromium(tmp_path / "nope", env={"HOME": str(tmp_path)})
    assert str(tmp_path / "nope") in str(info.value)


def test_env_var_then_playwright_cache_then_system(tmp_path: Path) -> None:
    system = _exe(tmp_path / "usr" / "lib" / "chromium" / "chromium")
    cache = tmp_path / "home" / ".cache" / "ms-playwright"
    env: dict[str, str] = {"HOME": str(tmp_path / "home")}
    assert find_chromium(env=env, system_paths=(str(system),)) == system
    old = _exe(cache / "chromium-1100" / "chrome-linux" / "chrome")
    new = _exe(cache / "chromium-1200" / "chrome-linux64" / "chrome")
    _exe(cache / "chromium_headless_shell-1300" / "chrome-linux" / "headless_shell")
    assert old.exists()
    assert find_chromium(env=env, system_paths=(str(system),)) == new
    from_env = _exe(tmp_path / "env" / "chrome")
    env["SCREENLOOP_CHROMIUM"] = str(from_env)
    assert find_chromium(env=env, system_paths=(str(system),)) == from_env


def test_playwright_browsers_path_env(tmp_path: Path) -> None:
    shell = _exe(
        tmp_path / "pw" / "chromium_headless_shell-1300" / "chrome-linux" / "headless_shell"
    )
    env = {"HOME": str(tmp_path), "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "pw")}
    assert find_chromium(env=env, system_paths=()) == shell


def test_not_found_lists_every_path_tried(tmp_path: Path) -> None:
    missing = (str(tmp_path / "a" / "chromium"), str(tmp_path / "b" / "chromium-headless-shell"))
    with pytest.raises(BrowserNotFoundError) as info:
        find_chromium(env={"HOME": str(tmp_path)}, system_paths=missing)
    message = str(info.value)
    for path in missing:
        assert path in message
    assert "ms-playwright" in message
    assert "SCREENLOOP_CHROMIUM" in message
    assert len(info.value.tried) == 4


def test_non_executable_is_skipped(tmp_path: Path) -> None:
    plain = tmp_path / "chromium"
    plain.write_text("")
    os.chmod(plain, 0o644)
    with pytest.raises(BrowserNotFoundError):
        find_chromium(env={"HOME": str(tmp_path)}, system_paths=(str(plain),))


def test_default_finds_a_real_binary_not_the_wrapper() -> None:
    path = find_chromium()
    assert path.is_file()
    assert str(path) != "/usr/bin/chromium"


def test_launch_args() -> None:
    args = chromium_args(extra=["--foo", "--disable-quic"])
    for flag in (
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-quic",
    ):
        assert flag in CHROMIUM_ARGS
    assert args.count("--disable-quic") == 1
    assert args[-1] == "--foo"
