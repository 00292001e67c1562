"""`wait_for_launched` on a real Xvfb: a window ends the wait, a program that
shows none raises `LaunchError` at the bound, with its stderr."""

from __future__ import annotations

import shutil

import pytest

from sandbox import LaunchError, VirtualDisplay, wait_for_launched

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
