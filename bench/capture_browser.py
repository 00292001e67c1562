"""Browser capture benchmark: per-capture time in headless Chromium, median of N.

Run: ``.venv/bin/python -m bench.capture_browser [-n 30]``

Methods, each at 1280x720 and 1920x1080, on a UI-like page (text, coloured
blocks, a noisy photo-like canvas; a blank page would flatter every encoder):
``page.screenshot()`` PNG (what most runtimes do), ``page.screenshot()`` JPEG
q80, CDP ``Page.captureScreenshot`` PNG, PNG with ``optimizeForSpeed``, JPEG
q80, WebP q80, and ``PlaywrightComputer.screenshot()`` end to end (PNG, DPR 1
and DPR 2). Ratios are against ``page.screenshot()`` PNG measured in the same
run.

`measure(n)` returns the rows so another benchmark can fold them in.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from executors import PlaywrightComputer
from executors._computer import Size

SIZES = [Size(1280, 720), Size(1920, 1080)]

_PAGE = """<!doctype html><html><head><style>
body{margin:0;font:14px sans-serif;background:#f6f7f9}
header{height:56px;background:#202124;color:#fff;padding:16px;box-sizing:border-box}
nav{position:absolute;top:56px;left:0;width:240px;bottom:0;background:#ebedf0}
main{position:absolute;top:56px;left:260px;right:20px}
.card{display:inline-block;width:180px;height:90px;margin:8px;background:#fff;border:1px solid #ccc}
p{margin:4px 0;color:#3c4043} a{color:#1a73e8}
canvas{position:fixed;right:20px;bottom:20px}
</style></head><body><header>screenloop capture benchmark</header><nav></nav><main id=m></main>
<canvas id=c></canvas><script>
let seed = 7; const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const m = document.getElementById('m');
for (let i = 0; i < 40; i++) {
  const words = []; for (let j = 0; j < 4 + rnd() * 10; j++)
    words.push(Math.random().toString(36).slice(2, 3 + rnd() * 8));
  m.insertAdjacentHTML('beforeend', '<p>' + words.join(' ') + ' <a href=#>link</a></p>');
  if (i % 4 === 0) m.insertAdjacentHTML('beforeend', '<div class=card></div>'.repeat(3));
}
const c = document.getElementById('c'); c.width = innerWidth / 4; c.height = innerHeight / 4;
const ctx = c.getContext('2d'); const img = ctx.createImageData(c.width, c.height);
for (let i = 0; i < img.data.length; i += 4) {
  const v = 128 + (rnd() - 0.5) * 120; img.data[i] = v; img.data[i + 1] = v * 0.9;
  img.data[i + 2] = v * 0.8; img.data[i + 3] = 255; }
ctx.putImageData(img, 0, 0);
</script></body></html>"""


async def _median_ms(fn: Callable[[], Awaitable[object]], n: int) -> float:
    await fn()  # warm up
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


async def _measure_size(size: Size, n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    async with PlaywrightComputer(size=size) as computer:
        page = computer.page
        await page.set_content(_PAGE)
        await computer.settle(5)
        session = await computer.context.new_cdp_session(page)

        def cdp(**params: Any) -> Callable[[], Awaitable[object]]:
            return lambda: session.send("Page.captureScreenshot", params)

        methods: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("page.screenshot() PNG", lambda: page.screenshot()),
            ("page.screenshot() JPEG q80", lambda: page.screenshot(type="jpeg", quality=80)),
            ("CDP PNG", cdp(format="png")),
            ("CDP PNG optimizeForSpeed", cdp(format="png", optimizeForSpeed=True)),
            ("CDP JPEG q80", cdp(format="jpeg", quality=80, optimizeForSpeed=True)),
            ("CDP WebP q80", cdp(format="webp", quality=80, optimizeForSpeed=True)),
            ("PlaywrightComputer.screenshot() PNG", computer.screenshot),
        ]
        for name, fn in methods:
            rows.append(
                {
                    "size": f"{size.width}x{size.height}",
                    "method": name,
                    "ms": await _median_ms(fn, n),
                }
            )
    async with PlaywrightComputer(size=size, device_scale_factor=2) as computer:
        await computer.page.set_content(_PAGE)
        await computer.settle(5)
        rows.append(
            {
                "size": f"{size.width}x{size.height}",
                "method": "PlaywrightComputer.screenshot() PNG, DPR 2",
                "ms": await _median_ms(computer.screenshot, n),
            }
        )
    base = rows[0]["ms"]
    for row in rows:
        row["ratio"] = row["ms"] / base
    return rows


async def measure(n: int = 30) -> list[dict[str, Any]]:
    """Median per-capture milliseconds of every method at every size."""
    rows: list[dict[str, Any]] = []
    for size in SIZES:
        rows.extend(await _measure_size(size, n))
    return rows


def render(rows: list[dict[str, Any]], n: int) -> str:
    """A markdown table of `rows`."""
    lines = [
        f"Browser capture, headless Chromium, median of {n} "
        "(ratio: to page.screenshot() PNG at the same size, same run)",
        "",
        "| size | method | ms | ratio |",
        "|---|---|---:|---:|",
    ]
    lines += [f"| {r['size']} | {r['method']} | {r['ms']:.1f} | {r['ratio']:.2f} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="captures per method (median)")
    args = parser.parse_args(argv)
    rows = asyncio.run(measure(args.n))
    sys.stdout.write(render(rows, args.n) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
