"""Figure 5: capture. Every capture path at both sizes, time and bytes per screenshot.

Browser (measured here, methods interleaved round-robin on the bench page):
``page.screenshot()`` PNG (the typical runtime), ``page.screenshot()`` JPEG q80,
CDP ``Page.captureScreenshot`` PNG without ``optimizeForSpeed``, and
`PlaywrightComputer.screenshot()` in PNG (CDP, ``optimizeForSpeed``), JPEG q80
and WebP q80.

Desktop: the timings come from `bench.capture_desktop.measure` (the executors'
capture benchmark, folded in as is); the bytes per format are those of the same
UI picture it shows, encoded the way `DesktopComputer` encodes (PNG level 1,
JPEG q80, WebP q80 method 0) and as Pillow's default PNG (pyautogui's path).
"""

from __future__ import annotations

import asyncio
import base64
import io
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench._common import PageServer, log, spread
from bench._workload import STEP_PAGE
from executors._computer import Size

__all__ = ["measure_capture"]


async def _browser(size: Size, n: int) -> list[dict[str, Any]]:
    from executors._playwright import PlaywrightComputer

    with PageServer({"/": STEP_PAGE}) as pages:
        async with PlaywrightComputer(size=size, start_url=pages.url("/")) as computer:
            page = computer.page
            session = await page.context.new_cdp_session(page)

            async def cdp_png() -> bytes:
                result = await session.send("Page.captureScreenshot", {"format": "png"})
                return base64.b64decode(result["data"])

            def computer_shot(fmt: str, quality: int | None) -> Callable[[], Awaitable[bytes]]:
                async def shot() -> bytes:
                    computer.image_format = fmt  # type: ignore[assignment]
                    computer.quality = quality
                    return (await computer.screenshot()).data

                return shot

            methods: dict[str, Callable[[], Awaitable[bytes]]] = {
                "page.screenshot() PNG": lambda: page.screenshot(),
                "page.screenshot() JPEG q80": lambda: page.screenshot(type="jpeg", quality=80),
                "CDP captureScreenshot PNG": cdp_png,
                "PlaywrightComputer PNG (CDP optimizeForSpeed)": computer_shot("png", None),
                "PlaywrightComputer JPEG q80": computer_shot("jpeg", 80),
                "PlaywrightComputer WebP q80": computer_shot("webp", 80),
            }
            times: dict[str, list[float]] = {m: [] for m in methods}
            sizes: dict[str, int] = {}
            failures: dict[str, int] = {m: 0 for m in methods}
            await page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(0)))")
            for name, fn in methods.items():
                await _retrying(fn, name, failures)  # warm up
            for _ in range(n):
                for name, fn in methods.items():
                    t0 = time.perf_counter()
                    data = await _retrying(fn, name, failures)
                    if data is None:
                        continue
                    times[name].append(time.perf_counter() - t0)
                    sizes[name] = len(data)
            computer.image_format, computer.quality = "png", None
    base = spread(times["page.screenshot() PNG"])["median"]
    rows = []
    for name in methods:
        s = spread(times[name])
        rows.append(
            {
                "environment": "browser",
                "method": name,
                "size": list(size),
                "time_s": s,
                "bytes": sizes.get(name),
                "x_faster_than_baseline": base / s["median"] if s["median"] else None,
                "failed_captures": failures[name],
            }
        )
    return rows


async def _retrying(
    fn: Callable[[], Awaitable[bytes]], name: str, failures: dict[str, int], tries: int = 3
) -> bytes | None:
    """Chromium sometimes answers "Unable to capture screenshot" on a loaded machine:
    count it and try again (a timed sample only ever covers one successful call)."""
    for attempt in range(tries):
        try:
            return await fn()
        except Exception as exc:
            failures[name] += 1
            log(f"capture: {name} failed ({exc.__class__.__name__}), attempt {attempt + 1}")
            await asyncio.sleep(0.05)
    return None


def _desktop(sizes: list[Size], n: int) -> list[dict[str, Any]]:
    from bench import capture_desktop
    from executors._desktop import encode_bgra

    saved = capture_desktop.SIZES
    capture_desktop.SIZES = list(sizes)  # the sizes of this run (smaller in --smoke)
    try:
        timing = capture_desktop.measure(n)
    finally:
        capture_desktop.SIZES = saved
    base_name = (
        "pyautogui.screenshot() + PNG"
        if any(r[0] == "pyautogui.screenshot() + PNG" for r in timing)
        else "mss + PNG default level"
    )
    base = {size: ms for name, size, ms in timing if name == base_name}
    encoded: dict[tuple[str, Size], int] = {}
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="bench-capture-") as tmp:
        for size in sizes:
            path = Path(tmp, f"ui-{size.width}.png")
            capture_desktop._ui_picture(size, path)
            with Image.open(path) as image:
                raw = image.convert("RGB").tobytes("raw", "BGRX")
                out = io.BytesIO()
                image.convert("RGB").save(out, format="PNG")
                encoded[("PNG default level", size)] = len(out.getvalue())
            for image_format in ("png", "jpeg", "webp"):
                label = {"png": "PNG level 1", "jpeg": "JPEG q80", "webp": "WebP q80 m0"}[
                    image_format
                ]
                encoded[(label, size)] = len(encode_bgra(raw, size, size, image_format, 80))
    rows = []
    for name, size, ms in timing:
        fmt: str | None = next(
            (
                label
                for label in ("PNG level 1", "JPEG q80", "WebP q80 m0", "PNG default level")
                if label in name
            ),
            None,
        )
        if name == "DesktopComputer.screenshot()":
            fmt = "PNG level 1"
        elif name.startswith("pyautogui.screenshot() +"):
            fmt = "PNG default level"
        rows.append(
            {
                "environment": "desktop",
                "method": name,
                "size": list(size),
                "time_s": {"n": n, "median": ms / 1000},
                "bytes": encoded.get((fmt, size)) if fmt else None,
                "x_faster_than_baseline": base[size] / ms if ms and size in base else None,
            }
        )
    return rows


def measure_capture(sizes: list[Size], n: int) -> dict[str, Any]:
    """Figure 5: rows for every browser and desktop capture path at every size."""
    rows: list[dict[str, Any]] = []
    for size in sizes:
        log(f"capture: browser {size.width}x{size.height}, {n} rounds")
        rows.extend(asyncio.run(_browser(size, n)))
    log(f"capture: desktop (bench.capture_desktop.measure, n={n})")
    rows.extend(_desktop(sizes, n))
    return {"rows": rows, "baseline": {"browser": "page.screenshot() PNG", "desktop": "pyautogui"}}
