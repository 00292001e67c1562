"""`wait_for_launched` on a real Xvfb: a window ends the wait, a program that
shows none raises `LaunchError` at the bound, with its stderr."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from sandbox import (
    LaunchError,
    VirtualDisplay,
    check_launchable,
    check_launched,
    wait_for_launched,
)

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]


def test_a_window_ends_the_wait() -> None:
    with VirtualDisplay(320, 240) as display:
        proc = display.launch(["xterm", "-geometry", "20x5"])
        assert wait_for_launched(display, [proc], timeout_s=30) == 1


def test_a_running_program_without_a_window_raises_at_the_bound() -> None:
    with VirtualDisplay(320, 240) as display:
        proc = display.launch(["sh", "-c", "echo still starting >&2; exec sleep 60"])
        with pytest.raises(LaunchError) as info:
            wait_for_launched(display, [proc], timeout_s=0.5)
        assert "opened no window" in str(info.value)
        assert info.value.stderr_tail == "still starting"
        assert info.value.returncode is None
        # allowed: the count comes back instead
        assert wait_for_launched(display, [proc], timeout_s=0.2, windowless_ok=True) == 0


def test_a_program_that_fails_raises_with_its_status_and_stderr() -> None:
    with VirtualDisplay(320, 240) as display:
        lines = "; ".join(f"echo line{i} >&2" for i in range(30))
        proc = display.launch(["sh", "-c", f"{lines}; exit 7"])
        with pytest.raises(LaunchError) as info:
            wait_for_launched(display, [proc], timeout_s=30)
        assert info.value.returncode == 7
        assert info.value.stderr_tail.splitlines() == [f"line{i}" for i in range(10, 30)]
        assert "exited with status 7" in str(info.value)


@pytest.mark.parametrize(
    "argv",
    [
        ["xterm", "-e", "no-such-editor", "notes.txt"],
        ["/usr/bin/xterm", "-geometry", "80x24", "-e", "no-such-editor"],
        ["xfce4-terminal", "-e", "no-such-editor notes.txt"],
    ],
    ids=["xterm", "xterm-path", "xfce4-terminal-command-line"],
)
def test_a_terminal_told_to_run_a_missing_program_is_refused_before_it_starts(
    argv: list[str],
) -> None:
    with pytest.raises(LaunchError) as info:
        check_launchable(argv)
    assert "'no-such-editor' is not installed" in str(info.value)
    assert info.value.returncode is None


@pytest.mark.parametrize(
    "argv",
    [
        ["xterm", "-e", "sh", "-c", "nano"],  # the program is there (what sh runs is not ours)
        ["sh", "-e", "setup.sh"],  # not a terminal: -e is sh's errexit
        ["xterm"],
        ["xterm", "-e"],
        ["xfce4-terminal", "-e", "sh -c 'unbalanced"],
    ],
)
def test_programs_that_can_start_are_not_refused(argv: list[str]) -> None:
    check_launchable(argv)


def test_a_window_that_went_with_its_program_is_caught_after_the_wait(tmp_path: Path) -> None:
    """A terminal whose command ends at once may show its window before it exits 0: the
    wait sees the window, the later check sees the program gone with it."""
    stop = tmp_path / "stop"
    with VirtualDisplay(320, 240) as display:
        proc = display.launch(
            ["xterm", "-e", "sh", "-c", f"while [ ! -e {stop} ]; do sleep 0.05; done"]
        )
        assert wait_for_launched(display, [proc], timeout_s=30) == 1
        check_launched(display, [proc])  # running, window shown: nothing to say
        stop.touch()
        assert proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 30
        while True:  # until the window manager has dropped the window from its list
            try:
                check_launched(display, [proc])
            except LaunchError as exc:
                assert "exited with status 0 and its window is gone" in str(exc)
                assert exc.returncode == 0
                break
            assert time.monotonic() < deadline, "the window stayed listed after xterm exited"
            time.sleep(0.05)
