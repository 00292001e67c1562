"""A "typical runtime" loop, configured the way common computer-use runtimes work.

Browser: Playwright ``page.screenshot()`` (PNG), actions through ``page.mouse`` /
``page.keyboard``, scroll by ``window.scrollBy`` (as OpenAI's CUA sample app).
Desktop: pyautogui with its default ``PAUSE = 0.1`` for input and
``pyautogui.screenshot()`` (scrot underneath) encoded as PNG at Pillow's default
level. Both: base64 in JSON, the whole history resent every request
(``store: false``), one blocking HTTP client, nothing recorded.

Settle is excluded: typical runtimes sleep a fixed 0.5-2 s after each action;
that is measured separately (bench/_settle.py), not here.
It speaks the same dialect to the same scripted server as screenloop and its
step windows are split into the same phases.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from playwright.async_api import Page, async_playwright

from bench._common import BENCH_API_KEY, Baton
from executors import Size
from sandbox import chromium_args, find_chromium

__all__ = ["BrowserHands", "DesktopHands", "NaiveDesktopHands", "run_baseline"]


@contextlib.asynccontextmanager
async def baseline_page(size: Size, url: str) -> AsyncIterator[Page]:
    """The baseline's page, the OpenAI CUA sample's way: a Playwright and a Chromium of its
    own, one page at `size` showing `url`."""
    pw = await async_playwright().start()
    browser = await pw.chromium.launch(executable_path=str(find_chromium()), args=chromium_args())
    try:
        page = await browser.new_page(viewport={"width": size.width, "height": size.height})
        await page.goto(url)
        yield page
    finally:
        await browser.close()
        await pw.stop()


class BrowserHands:
    """Playwright the plain way: one page, ``page.screenshot()`` PNG."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.environment = "browser"

    async def act(self, a: dict[str, Any]) -> None:
        """Perform one action."""
        page, kind = self.page, a["type"]
        if kind == "click":
            await page.mouse.click(a["x"], a["y"], button=a.get("button", "left"))
        elif kind == "type":
            await page.keyboard.type(a["text"])
        elif kind == "keypress":
            for key in a["keys"]:  # one after another, as the sample app does
                await page.keyboard.press(_PW_KEYS.get(key.upper(), key))
        elif kind == "scroll":
            await page.mouse.move(a["x"], a["y"])
            await page.evaluate(f"window.scrollBy({a['scroll_x']}, {a['scroll_y']})")
        else:
            raise ValueError(f"baseline does not do {kind!r}")

    async def capture(self) -> tuple[bytes, float]:
        """PNG bytes and encode seconds (page.screenshot() encodes inside Chromium)."""
        return await self.page.screenshot(), 0.0


_PW_KEYS = {"BACKSPACE": "Backspace", "ENTER": "Enter", "CTRL": "Control", "ESC": "Escape"}


class DesktopHands:
    """pyautogui with its defaults (PAUSE 0.1 s after every call), scrot capture, PNG."""

    def __init__(self) -> None:
        import pyautogui

        self.gui = pyautogui
        self.environment = "desktop"

    async def act(self, a: dict[str, Any]) -> None:
        """Perform one action (blocking, as pyautogui is)."""
        gui, kind = self.gui, a["type"]
        if kind == "click":
            gui.click(a["x"], a["y"], button=a.get("button", "left"))
        elif kind == "type":
            gui.write(a["text"])
        elif kind == "keypress":
            gui.hotkey(*[k.lower() for k in a["keys"]])
        elif kind == "scroll":
            gui.scroll(-round(a["scroll_y"] / 100), x=a["x"], y=a["y"])
        else:
            raise ValueError(f"baseline does not do {kind!r}")

    async def capture(self) -> tuple[bytes, float]:
        """PNG bytes of ``pyautogui.screenshot()`` and the seconds spent encoding them."""
        image = self.gui.screenshot()
        t0 = time.perf_counter()
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue(), time.perf_counter() - t0


def _tool(width: int, height: int, environment: str) -> dict[str, Any]:
    return {
        "type": "computer_use",
        "display_width": width,
        "display_height": height,
        "environment": environment,
    }


async def run_baseline(
    hands: BrowserHands | DesktopHands | NaiveDesktopHands | Any,
    base_url: str,
    size: tuple[int, int],
    *,
    baton: Baton | None = None,
    name: str = "baseline",
    max_steps: int = 1000,
    keepalive_s: float | None = None,
) -> list[dict[str, float]]:
    """Run the typical loop until the scripted model stops calling; its step windows.

    `keepalive_s`: how long the HTTP client keeps an idle connection (httpx: 5 s).
    """
    expiry = 5.0 if keepalive_s is None else keepalive_s  # httpx's default: 5 s
    limits = httpx.Limits(
        max_connections=100, max_keepalive_connections=20, keepalive_expiry=expiry
    )
    http = httpx.Client(timeout=60, limits=limits)
    headers = {"Authorization": f"Bearer {BENCH_API_KEY}", "Content-Type": "application/json"}
    url = f"{base_url}/responses"
    tools = [_tool(size[0], size[1], hands.environment)]
    windows: list[dict[str, float]] = []
    if baton is not None:
        await baton.acquire(name)
    try:
        png, _ = await hands.capture()
        shot = base64.b64encode(png).decode()
        items: list[dict[str, Any]] = [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "bench: follow the script"},
                    {"type": "input_image", "image_url": f"data:image/png;base64,{shot}"},
                ],
            }
        ]
        w: dict[str, float] | None = None
        prev_recv = 0.0
        for step in range(1, max_steps + 1):
            pause = await baton.pass_on(name) if baton is not None and step > 1 else 0.0
            t0 = time.perf_counter()
            body = {"model": "bench-model", "input": items, "tools": tools, "store": False}
            t1 = time.perf_counter()
            payload = json.dumps(body).encode()
            t2 = time.perf_counter()
            resp = http.post(url, content=payload, headers=headers)  # noqa: ASYNC212 (typical: blocking)
            t3 = time.perf_counter()
            resp.raise_for_status()
            if w is not None:
                w.update(build=t1 - t0, serialize=t2 - t1, http=t3 - t2)
                w["total"] = t3 - prev_recv - pause
                w["other"] = w["total"] - sum(w[k] for k in _SUMMED)
                w["runtime"] = w["total"]
                w["request_bytes"] = float(len(payload))
                windows.append(w)
            prev_recv = t3
            data = json.loads(resp.content)
            output = [{k: v for k, v in i.items() if v is not None} for i in data["output"]]
            items.extend(output)
            calls = [i for i in output if i.get("type") == "computer_call"]
            t4 = time.perf_counter()
            if not calls:
                break
            w = {"parse": t4 - t3, "safety": 0.0, "action": 0.0, "capture": 0.0, "encode": 0.0}
            w["settle"] = w["record"] = 0.0
            w["step"] = float(step)
            for call in calls:
                ta = time.perf_counter()
                await hands.act(call["action"])
                tb = time.perf_counter()
                png, encode_s = await hands.capture()
                tc = time.perf_counter()
                shot = base64.b64encode(png).decode()
                td = time.perf_counter()
                items.append(
                    {
                        "type": "computer_call_output",
                        "call_id": call["call_id"],
                        "output": {
                            "type": "input_image",
                            "image_url": f"data:image/png;base64,{shot}",
                        },
                    }
                )
                w["action"] += tb - ta
                w["capture"] += tc - tb - encode_s
                w["encode"] += encode_s + td - tc
    finally:
        http.close()  # noqa: ASYNC212
        if baton is not None:
            await baton.leave(name)
    return windows


_SUMMED = (
    "parse",
    "safety",
    "action",
    "settle",
    "capture",
    "encode",
    "build",
    "serialize",
    "http",
    "record",
)


class NaiveDesktopHands:
    """Anthropic's computer-use tool with its sleeps removed: xdotool, then scrot at once.

    The stock tool sleeps 2 s before every screenshot (``_screenshot_delay``); this
    is the same mechanism with no wait at all, the desktop twin of the OpenAI
    sample's act-then-``page.screenshot()``.
    """

    def __init__(self, display: str, workdir: str) -> None:
        import os

        self.env = {**os.environ, "DISPLAY": display}
        self.path = os.path.join(workdir, "naive-shot.png")
        self.environment = "desktop"

    async def _run(self, *argv: str) -> None:
        import asyncio

        proc = await asyncio.create_subprocess_exec(*argv, env=self.env)
        if await proc.wait() != 0:
            raise RuntimeError(f"{argv[0]} failed")

    async def act(self, a: dict[str, Any]) -> None:
        """Perform one action with xdotool, as the tool does."""
        kind = a["type"]
        if kind == "click":
            button = {"left": "1", "middle": "2", "right": "3"}[a.get("button", "left")]
            await self._run("xdotool", "mousemove", str(a["x"]), str(a["y"]), "click", button)
        elif kind == "type":
            await self._run("xdotool", "type", "--delay", "12", "--", a["text"])
        elif kind == "keypress":
            await self._run("xdotool", "key", "--", "+".join(a["keys"]))
        elif kind == "scroll":
            button = "5" if a["scroll_y"] > 0 else "4"
            clicks = str(max(1, abs(a["scroll_y"]) // 100))
            await self._run(
                "xdotool", "mousemove", str(a["x"]), str(a["y"]),
                "click", "--repeat", clicks, button,
            )  # fmt: skip
        else:
            raise ValueError(f"baseline does not do {kind!r}")

    async def capture(self) -> tuple[bytes, float]:
        """PNG bytes from ``scrot`` (it encodes; no extra encode time)."""
        import asyncio
        import pathlib

        await self._run("scrot", "--overwrite", self.path)
        return await asyncio.to_thread(pathlib.Path(self.path).read_bytes), 0.0
