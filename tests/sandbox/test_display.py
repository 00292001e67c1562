"""VirtualDisplay on a real Xvfb: starts, has the size asked for, launches programs,
and leaves no process behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox import DisplayError, VirtualDisplay

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]


def _children(names: set[str]) -> set[int]:
    """Pids of live processes named in `names` whose parent is this process."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        state, ppid = fields[0], int(fields[1])
        if comm in names and ppid == os.getpid() and state != "Z":
            found.add(int(entry.name))
    return found


def _alive_in_group(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group `pgid`."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


def _gone(pid: int) -> bool:
    """True when `pid` no longer runs (absent, or a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def _xdpyinfo_dimensions(display: VirtualDisplay) -> str:
    out = subprocess.run(
        ["xdpyinfo"], env=display.env, capture_output=True, text=True, check=True, timeout=10
    ).stdout
    line = next(li for li in out.splitlines() if "dimensions:" in li)
    return line.split()[1]


@pytest.mark.skipif(shutil.which("xdpyinfo") is None, reason="xdpyinfo is not installed")
def test_starts_with_the_requested_size() -> None:
    with VirtualDisplay(1024, 600) as display:
        assert display.display.startswith(":")
        assert display.size == (1024, 600)
        assert display.env["DISPLAY"] == display.display
        assert _xdpyinfo_dimensions(display) == "1024x600"


def test_launch_runs_a_program_on_the_display(tmp_path: Path) -> None:
    out = tmp_path / "display.txt"
    with VirtualDisplay(640, 480, window_manager=False) as display:
        proc = display.launch(
            [
                sys.executable,
                "-c",
                f"import os; open({str(out)!r}, 'w').write(os.environ['DISPLAY'])",
            ]
        )
        assert proc.wait(timeout=30) == 0
        assert out.read_text() == display.display


def test_launch_splits_a_command_line_like_a_shell(tmp_path: Path) -> None:
    out = tmp_path / "args.txt"
    script = tmp_path / "args.py"
    script.write_text(f"import sys; open({str(out)!r}, 'w').write(repr(sys.argv[1:]))")
    with VirtualDisplay(640, 480, window_manager=False) as display:
        proc = display.launch(f"{sys.executable} {script} 'two words' plain")
        assert proc.wait(timeout=30) == 0
    assert out.read_text() == repr(["two words", "plain"])


def test_close_leaves_no_process_behind() -> None:
    names = {"Xvfb", "openbox", "sleep", "sh"}
    before = _children(names)
    display = VirtualDisplay(640, 480).start()
    # A program that forks a grandchild: it must go too (process group teardown).
    launched = display.launch(["sh", "-c", "sleep 300 & sleep 300; wait"])
    started = _children(names) - before
    assert len(started) >= 3  # Xvfb, openbox, sh
    pgids = [os.getpgid(pid) for pid in display.pids]
    display.close()
    assert _children(names) - before == set()
    for pgid in pgids:
        assert _alive_in_group(pgid) == []
    assert launched.poll() is not None
    display.close()  # idempotent


def test_close_runs_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), VirtualDisplay(640, 480) as display:
        pids = display.pids
        raise RuntimeError("boom")
    assert all(_gone(pid) for pid in pids)


async def test_async_context_manager_and_two_displays_at_once() -> None:
    async with VirtualDisplay(640, 480) as one, VirtualDisplay(800, 600) as two:
        assert one.display != two.display
        assert one.running and two.running
        pids = one.pids + two.pids
    assert not one.running and not two.running
    assert all(_gone(pid) for pid in pids)


def test_missing_xvfb_says_how_to_install_it() -> None:
    with pytest.raises(DisplayError, match="apt-get install xvfb"):
        VirtualDisplay(xvfb="Xvfb-does-not-exist").start()


def test_display_is_an_error_before_start_and_after_close() -> None:
    display = VirtualDisplay(640, 480, window_manager=False)
    with pytest.raises(DisplayError, match="not started"):
        _ = display.display
    display.start()
    display.close()
    with pytest.raises(DisplayError):
        display.start()


def test_display_is_usable_as_soon_as_start_returns() -> None:
    # No sleep, no polling: start() returns only once Xvfb (and openbox) accept clients.
    with VirtualDisplay(640, 480) as display:
        t0 = time.monotonic()
        proc = display.launch(["xdpyinfo"], stdout=subprocess.DEVNULL)
        assert proc.wait(timeout=30) == 0, time.monotonic() - t0
