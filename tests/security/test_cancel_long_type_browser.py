"""Cancelling a run stops a long `type` in real Chromium (issue 13, row 6, browser).

Proved by effect: the text goes into a textarea; once the first characters
arrive the run is cancelled; after it ends the test appends a marker through
the same page (queued behind any typing still going on in Chromium) and reads
the textarea: far fewer than all the characters arrived before the marker.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rel_support import Site, scripted_agent

from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import PlaywrightComputer

pytestmark = pytest.mark.browser

TEXT_LEN = 10_000
PAGE = "<textarea id=t style='position:absolute;left:0;top:0;width:600px;height:300px'></textarea>"


async def test_cancel_stops_a_long_browser_type(tmp_path: Path) -> None:
    script = [
        turn(computer_call("click", x=100, y=100)),
        turn(computer_call("type", text="q" * TEXT_LEN)),
        turn(message("never")),
    ]
    with Site() as site:
        site.pages["/t"] = ("text/html", PAGE)
        async with PlaywrightComputer(size=(640, 400), start_url=site.url("/t")) as pc:
            with ScriptedResponsesServer(script) as server:
                agent = scripted_agent(pc, server, tmp_path / "run")
                task = asyncio.ensure_future(agent.run("type a lot"))
                handle = await pc.page.wait_for_function(
                    "document.getElementById('t').value.length > 0", timeout=60_000
                )
                await handle.dispose()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await asyncio.wait_for(task, 60)
            await pc.type("#")  # queued behind any typing still in progress
            value = await pc.page.evaluate("document.getElementById('t').value")
    typed = value.split("#")[0].count("q")
    assert "#" in value
    assert 0 < typed < TEXT_LEN // 2, f"{typed} of {TEXT_LEN} characters typed after the cancel"
