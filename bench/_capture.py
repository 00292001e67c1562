"""Figure 5: capture. Every capture path at both sizes, time and bytes per screenshot.

The timings come from the executors' capture benchmarks, folded in as they are:
`bench.capture_browser.measure` (``page.screenshot()`` PNG/JPEG, CDP PNG with and
without ``optimizeForSpeed``, CDP JPEG/WebP q80, `PlaywrightComputer.screenshot()`
at DPR 1 and 2) and `bench.capture_desktop.measure` (mss grab, + PNG level 1 /
JPEG / WebP / default PNG, `DesktopComputer.screenshot()`, ``pyautogui.screenshot()``
with and without PNG). Each is a median of n back-to-back captures per method.
Added here: the bytes of one capture per method of the same content (browser:
the same page, captured once per method; desktop: the same UI picture encoded
the way `DesktopComputer` encodes and as Pillow's default PNG).
"""

from __future__ import annotations

import asyncio
import base64
import io
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench._common import log
from executors import PlaywrightComputer
from executors._computer import Size

__all__ = ["measure_capture"]


async def _browser_bytes(size: Size) -> dict[str, int]:
    """Bytes of one capture per method on `bench.capture_browser`'s page (not timed)."""

    from bench import capture_browser

    async with PlaywrightComputer(size=size) as computer:
        page = computer.page
        await page.set_content(capture_browser._PAGE)
        await computer.settle(5)
        session = await computer.context.new_cdp_session(page)

        async def cdp(**params: Any) -> bytes:
            result = await session.send("Page.captureScreenshot", params)
            return base64.b64decode(result["data"])

        methods: dict[str, Callable[[], Awaitable[bytes]]] = {
            "page.screenshot() PNG": lambda: page.screenshot(),
            "page.screenshot() JPEG q80": lambda: page.screenshot(type="jpeg", quality=80),
            "CDP PNG": lambda: cdp(format="png"),
            "CDP PNG optimizeForSpeed": lambda: cdp(format="png", optimizeForSpeed=True),
            "CDP JPEG q80": lambda: cdp(format="jpeg", quality=80, optimizeForSpeed=True),
            "CDP WebP q80": lambda: cdp(format="webp", quality=80, optimizeForSpeed=True),
            "PlaywrightComputer.screenshot() PNG": lambda: _data(computer),
        }
        failures = {m: 0 for m in methods}
        out: dict[str, int] = {}
        for name, fn in methods.items():
            data = await _retrying(fn, name, failures)
            if data is not None:
                out[name] = len(data)
        return out


async def _data(computer: PlaywrightComputer) -> bytes:
    return (await computer.screenshot()).data


def _browser(sizes: list[Size], n: int) -> list[dict[str, Any]]:
    """Timings from `bench.capture_browser.measure` (folded in as is) + bytes per method."""
    from bench import capture_browser

    saved = capture_browser.SIZES
    capture_browser.SIZES = list(sizes)  # the sizes of this run (smaller in --smoke)
    try:
        timing = asyncio.run(capture_browser.measure(n))
        sizes_bytes = {size: asyncio.run(_browser_bytes(size)) for size in sizes}
    finally:
        capture_browser.SIZES = saved
    rows = []
    for row in timing:
        w, h = (int(v) for v in str(row["size"]).split("x"))
        size = Size(w, h)
        nbytes = sizes_bytes.get(size, {}).get(row["method"])
        if nbytes is None and row["method"].startswith("PlaywrightComputer"):
            nbytes = sizes_bytes.get(size, {}).get("PlaywrightComputer.screenshot() PNG")
        rows.append(
            {
                "environment": "browser",
                "method": row["method"],
                "size": [w, h],
                "time_s": {"n": n, "median": row["ms"] / 1000},
                "bytes": nbytes,
                "x_faster_than_baseline": 1 / row["ratio"] if row.get("ratio") else None,
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
    log(f"capture: browser (bench.capture_browser.measure, n={n})")
    rows: list[dict[str, Any]] = _browser(sizes, n)
    log(f"capture: desktop (bench.capture_desktop.measure, n={n})")
    rows.extend(_desktop(sizes, n))
    return {"rows": rows, "baseline": {"browser": "page.screenshot() PNG", "desktop": "pyautogui"}}
