"""Desktop capture benchmark: per-capture time on Xvfb, median of N.

Run: ``.venv/bin/python -m bench.capture_desktop [-n 30]``

Methods, each at 1280x720 and 1920x1080, on a screen showing a UI-like picture
(text, coloured blocks, a photo-like noisy patch; a blank screen would flatter
every encoder): mss grab alone; mss + PNG ``compress_level=1`` (screenloop's
default); mss + PNG default level (what a straightforward runtime does);
mss + JPEG q80; mss + WebP q80 method 0; ``DesktopComputer.screenshot()`` end
to end; ``pyautogui.screenshot()`` (scrot underneath, writes a temp file) alone
and + PNG encoding. Ratios are against ``pyautogui.screenshot()`` + PNG (or
against mss + default PNG when scrot is missing).

`measure(n)` returns the rows so another benchmark can fold them in.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

from executors import DesktopComputer
from executors._computer import Size
from executors._desktop import encode_bgra
from sandbox import VirtualDisplay

SIZES = [Size(1280, 720), Size(1920, 1080)]

_VIEWER = """
import sys, tkinter as tk
root = tk.Tk()
root.attributes("-fullscreen", True)
image = tk.PhotoImage(file=sys.argv[1])
tk.Label(root, image=image, borderwidth=0).pack()
root.mainloop()
"""


def _ui_picture(size: Size, path: Path) -> None:
    rng = random.Random(7)
    image = Image.new("RGB", size, (246, 247, 249))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size.width, 56), fill=(32, 33, 36))
    draw.rectangle((0, 56, 240, size.height), fill=(235, 237, 240))
    for y in range(80, size.height - 20, 22):
        x = 260
        for _ in range(rng.randint(4, 12)):
            word = "".join(
                rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))
            )
            colour = rng.choice([(20, 20, 20), (26, 115, 232), (60, 64, 67), (217, 48, 37)])
            draw.text((x, y), word, fill=colour)
            x += 8 * len(word) + 8
    for _ in range(12):
        x0, y0 = rng.randrange(260, size.width - 200), rng.randrange(80, size.height - 120)
        draw.rectangle((x0, y0, x0 + 180, y0 + 90), outline=(200, 200, 200), fill=(255, 255, 255))
    photo = Image.effect_noise((size.width // 4, size.height // 4), 60).convert("RGB")
    image.paste(photo, (size.width - photo.width - 20, size.height - photo.height - 20))
    image.save(path)


def _median_ms(fn: Callable[[], object], n: int) -> float:
    fn()  # warm up (connections, imports)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def _python_with_tkinter() -> str:
    for python in (sys.executable, "/usr/bin/python3"):
        probe = f"{python} -c 'import tkinter'"
        if Path(python).exists() and os.system(probe + " 2>/dev/null") == 0:
            return python
    raise SystemExit("no Python with tkinter to show the benchmark picture")


def measure(n: int = 30) -> list[tuple[str, Size, float]]:
    """(method, size, median ms) for every method at every size."""
    import mss

    rows: list[tuple[str, Size, float]] = []
    python = _python_with_tkinter()
    has_scrot = shutil.which("scrot") is not None
    workdir = tempfile.mkdtemp(prefix="screenloop-bench-")
    old_cwd = os.getcwd()
    os.chdir(workdir)  # pyscreeze's scrot writes its temp file into the CWD
    try:
        for size in SIZES:
            picture = Path(workdir, f"ui-{size.width}.png")
            _ui_picture(size, picture)
            with VirtualDisplay(size.width, size.height) as display:
                display.launch([python, "-c", _VIEWER, str(picture)])
                os.environ["DISPLAY"] = display.display
                sct = mss.MSS(display=display.display)
                _wait_for_picture(sct)

                def grab(sct: mss.MSS = sct) -> tuple[bytes, Size]:
                    shot = sct.grab(sct.monitors[0])
                    return bytes(shot.bgra), Size(shot.width, shot.height)

                def png_default(sct: mss.MSS = sct) -> bytes:
                    raw, screen = grab(sct)
                    image = Image.frombytes("RGB", screen, raw, "raw", "BGRX")
                    out = io.BytesIO()
                    image.save(out, format="PNG")
                    return out.getvalue()

                rows.append(("mss grab only", size, _median_ms(grab, n)))
                for label, fmt in [
                    ("mss + PNG level 1", "png"),
                    ("mss + JPEG q80", "jpeg"),
                    ("mss + WebP q80 m0", "webp"),
                ]:
                    rows.append(
                        (
                            label,
                            size,
                            _median_ms(lambda f=fmt, s=size: encode_bgra(*grab(), s, f), n),
                        )
                    )
                rows.append(("mss + PNG default level", size, _median_ms(png_default, n)))
                rows.append(
                    ("DesktopComputer.screenshot()", size, asyncio.run(_computer_ms(display, n)))
                )
                if has_scrot:
                    # pyscreeze uses scrot only when it believes it runs on X11.
                    os.environ.setdefault("XDG_SESSION_TYPE", "x11")
                    import pyautogui

                    rows.append(
                        ("pyautogui.screenshot()", size, _median_ms(pyautogui.screenshot, n))
                    )

                    def pyautogui_png() -> bytes:
                        out = io.BytesIO()
                        pyautogui.screenshot().save(out, format="PNG")
                        return out.getvalue()

                    rows.append(
                        ("pyautogui.screenshot() + PNG", size, _median_ms(pyautogui_png, n))
                    )
                sct.close()
    finally:
        os.chdir(old_cwd)
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def _wait_for_picture(sct: object, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    first = bytes(sct.grab(sct.monitors[0]).bgra)  # type: ignore[attr-defined]
    while time.monotonic() < deadline:
        if bytes(sct.grab(sct.monitors[0]).bgra) != first:  # type: ignore[attr-defined]
            time.sleep(0.2)  # let the viewer finish drawing
            return
        time.sleep(0.02)


async def _computer_ms(display: VirtualDisplay, n: int) -> float:
    async with DesktopComputer(display) as computer:
        await computer.screenshot()
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            await computer.screenshot()
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def render(rows: list[tuple[str, Size, float]]) -> str:
    """A plain-text table with the ratio to the baseline at the same size."""
    baseline_name = (
        "pyautogui.screenshot() + PNG"
        if any(r[0] == "pyautogui.screenshot() + PNG" for r in rows)
        else "mss + PNG default level"
    )
    base = {size: ms for name, size, ms in rows if name == baseline_name}
    lines = [f"{'method':34} {'size':>10} {'median ms':>10} {'x faster':>9}  (vs {baseline_name})"]
    for name, size, ms in rows:
        ratio = base[size] / ms if ms else float("inf")
        lines.append(f"{name:34} {size.width:>5}x{size.height:<4} {ms:>10.1f} {ratio:>9.1f}")
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="captures per method (median)")
    args = parser.parse_args()
    print(render(measure(args.n)))
    if shutil.which("scrot") is None:
        print("scrot is not installed: pyautogui.screenshot() was not measured")


if __name__ == "__main__":
    main()
