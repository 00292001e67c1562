"""Take docs/watch.png: the watch page during a demo run, at 1280x720 (README).

    .venv/bin/python docs/watch_screenshot.py

Runs the bundled demo with the watch page and the checkout's safety check
asked on the page, opens the page in headless Chromium, photographs it while
the check waits for an answer, then acknowledges it and lets the run finish.
"""

from __future__ import annotations

import asyncio
import io
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.async_api import async_playwright

from agent import WatchServer
from agent._cli._demo import run_demo
from agent._watch._run import page_only
from sandbox import chromium_args, find_chromium

OUT = Path(__file__).resolve().parent / "watch.png"


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, WatchServer() as watch:
        run = asyncio.ensure_future(
            run_demo(run_dir=Path(tmp) / "run", watch=watch, pace=0.3, ask=page_only)
        )
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(find_chromium()), args=chromium_args(), headless=True
            )
            page = await browser.new_page(viewport={"width": 1280, "height": 720})
            await page.goto(watch.url)  # the page waits for the run to start
            approve = page.locator(".approval button.ack")
            await approve.wait_for(timeout=120_000)
            await page.wait_for_function("document.getElementById('img').complete")
            png = await page.screenshot()
            await approve.click()
            await page.locator("#report").wait_for(timeout=120_000)
            await browser.close()
        result, problem = await run
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=128)
    image.save(OUT, optimize=True)
    print(f"{OUT}: {OUT.stat().st_size} bytes; run {result.status}, order problem: {problem}")
    return 0 if result.status == "completed" and problem is None else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
