"""Figure 7: the whole step over a real-ish network link, per capture format.

Every model is across a network. Here each side's scripted server sits behind
its own loopback *link shaper* (`LinkShaper`): a TCP proxy that delays every
chunk by half the round trip in each direction and paces the upload (client to
server) to a link rate; the download is paced at 10x the upload (a typical
asymmetric line). The step window (response n arriving to response n+1
arriving) then includes sending the screenshot up the link, as a user sees it.

Sides, interleaved step by step on the figure-1 workload (browser, 5-action
cycle): screenloop with each capture option a user can pick (`FORMATS`: PNG as
Chromium encodes it fast, the default; PNG with more compression; lossless
WebP at both efforts; WebP and JPEG at quality 80, lossy), and the OpenAI CUA
sample's loop (``page.screenshot()`` PNG, the whole history resent each
request).

Connections: a new TCP connection costs `setup_rtts` round trips before its
first byte goes through (TCP handshake + TLS 1.3 on a real link), and the
shaper counts connections per side, so connection reuse shows in the step and
in the count. Every client keeps an idle connection `KEEPALIVE_S`: the
interleaving makes each side idle while the others take their turns (N times
its own step gap), which in a real run never happens (the connection idles
only for the step gap, and is busy while the model thinks).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from bench._baseline import BrowserHands, baseline_page, run_baseline
from bench._common import Baton, PageServer, ServerProcess, log, spread
from bench._workload import STEP_PAGE, run_screenloop, script_turns
from executors._computer import Size

__all__ = ["FORMATS", "LinkShaper", "measure_network"]

# side name -> PlaywrightComputer image options
FORMATS: dict[str, dict[str, Any]] = {
    "png": {"image_format": "png"},
    "png small": {"image_format": "png", "compression": "small"},
    "webp lossless": {"image_format": "webp", "lossless": True},
    "webp lossless small": {"image_format": "webp", "lossless": True, "compression": "small"},
    "webp q80": {"image_format": "webp", "quality": 80},
    "jpeg q80": {"image_format": "jpeg", "quality": 80},
}
KEEPALIVE_S = 120.0
_CHUNK = 16 * 1024
_DOWN_FACTOR = 10


class LinkShaper:
    """A loopback TCP proxy in its own thread: `rtt_s` added, upload paced to `up_mbit`."""

    def __init__(self, target: str, up_mbit: float, rtt_s: float, setup_rtts: float = 2.0) -> None:
        host, port = target.removeprefix("http://").split("/", 1)[0].split(":")
        self.target = (host, int(port))
        self.up_bps = up_mbit * 1e6
        self.one_way_s = rtt_s / 2
        self.setup_s = setup_rtts * rtt_s
        self.connections = 0
        self.bytes_up = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-link", daemon=True)
        self.port = 0

    @property
    def base_url(self) -> str:
        """The URL clients use instead of the server's."""
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        s_writer: asyncio.StreamWriter | None = None
        try:
            await asyncio.sleep(self.setup_s)  # handshakes: nothing passes before them
            s_reader, s_writer = await asyncio.open_connection(*self.target)
            up = self._pipe(c_reader, s_writer, self.up_bps, count=True)
            down = self._pipe(s_reader, c_writer, self.up_bps * _DOWN_FACTOR, count=False)
            await asyncio.gather(up, down, return_exceptions=True)
        except (asyncio.CancelledError, OSError):
            pass  # the shaper is stopping, or the server went away
        finally:
            for w in (c_writer, s_writer):
                with contextlib.suppress(Exception):
                    if w is not None:
                        w.close()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, bps: float, count: bool
    ) -> None:
        """Pace chunks to `bps` (a queue of delivery times) and delay each by one way."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                at, data = await queue.get()
                if not data:
                    with contextlib.suppress(Exception):
                        writer.write_eof()
                    return
                delay = at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(deliver())
        link_free = 0.0
        try:
            while True:
                data = await reader.read(_CHUNK)
                now = time.monotonic()
                if count:
                    self.bytes_up += len(data)
                link_free = max(now, link_free) + len(data) * 8 / bps
                queue.put_nowait((link_free + self.one_way_s, data))
                if not data:
                    break
            await sender
        except Exception:
            sender.cancel()

    def __enter__(self) -> LinkShaper:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


async def _link(
    size: Size, up_mbit: float, rtt_s: float, steps: int, reps: int, formats: list[str]
) -> dict[str, Any]:

    from executors import PlaywrightComputer

    turns = script_turns(size, steps, runs=reps)
    names = [f"screenloop {f}" for f in formats] + ["sample"]
    windows: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    with contextlib.ExitStack() as stack:
        pages = stack.enter_context(PageServer({"/": STEP_PAGE}))
        url = pages.url("/")
        links = {}
        for n in names:
            srv = stack.enter_context(ServerProcess(turns))
            links[n] = stack.enter_context(LinkShaper(srv.base_url, up_mbit, rtt_s))
        async with baseline_page(size, url) as page:
            hands = BrowserHands(page)
            async with contextlib.AsyncExitStack() as astack:
                runs: dict[str, Callable[[Baton], Any]] = {}
                for f in formats:
                    computer = await astack.enter_async_context(
                        PlaywrightComputer(size=size, start_url=url, **FORMATS[f])
                    )

                    def side(name: str, comp: Any) -> Callable[[Baton], Any]:
                        async def run(baton: Baton) -> list[dict[str, float]]:
                            r = await run_screenloop(
                                comp,
                                links[name].base_url,
                                steps=steps,
                                baton=baton,
                                name=name,
                                keepalive_s=KEEPALIVE_S,
                            )
                            return r.windows

                        return run

                    runs[f"screenloop {f}"] = side(f"screenloop {f}", computer)

                async def sample(baton: Baton) -> list[dict[str, float]]:
                    return await run_baseline(
                        hands,
                        links["sample"].base_url,
                        size,
                        baton=baton,
                        name="sample",
                        keepalive_s=KEEPALIVE_S,
                    )

                runs["sample"] = sample
                for rep in range(reps):
                    order = names[rep % len(names) :] + names[: rep % len(names)]
                    baton = Baton(order)
                    got = await asyncio.gather(*(runs[n](baton) for n in names))
                    for n, w in zip(names, got, strict=True):
                        windows[n].extend(w)
    rows = []
    sample_median = spread(w["total"] for w in windows["sample"])["median"]
    for n in names:
        total = spread(w["total"] for w in windows[n])
        rows.append(
            {
                "side": n,
                "n": total["n"],
                "total_s": total,
                "http_s": spread(w["http"] for w in windows[n]),
                # the wait for the image: settle (the browser capture overlaps it),
                # capture and encode (lossless WebP converts during the capture)
                "image_s": spread(
                    w.get("settle", 0.0) + w["capture"] + w["encode"] for w in windows[n]
                ),
                "request_bytes": spread(w["request_bytes"] for w in windows[n]),
                "ratio_vs_sample": total["median"] / sample_median if sample_median else None,
                "connections": links[n].connections,
                "bytes_up": links[n].bytes_up,
            }
        )
    return {
        "up_mbit": up_mbit,
        "rtt_ms": rtt_s * 1000,
        "setup_rtts": 2.0,
        "keepalive_s": KEEPALIVE_S,
        "rows": rows,
        "windows": windows,
    }


def measure_network(
    size: list[int],
    links_mbit: list[float],
    rtt_ms: float = 40.0,
    steps: int = 12,
    reps: int = 1,
    formats: list[str] | None = None,
) -> dict[str, Any]:
    """Figure 7: step windows through a shaped link, per format, against the sample."""
    sz = Size(*size)
    formats = formats or list(FORMATS)
    out: dict[str, Any] = {"links": {}, "loadavg": []}
    for mbit in links_mbit:
        key = f"{mbit:g} Mbit/s up, {rtt_ms:g} ms RTT, {sz.width}x{sz.height}"
        log(f"network: {key}, {reps} reps x {steps} steps, formats {formats}")
        out["links"][key] = asyncio.run(_link(sz, mbit, rtt_ms / 1000, steps, reps, formats))
        out["loadavg"].append(os.getloadavg()[0])
    return out
