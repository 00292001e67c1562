"""Many browser agents in one process share one Playwright driver and one Chromium.

Each agent is driven by its own scripted Responses server, on its own page of
the same origin: it types its name, presses Enter (the page stores the name
in a cookie and offers it as a download), answers a confirm() by its own
dialog policy and downloads the file. Every effect is read back from each
agent's page and downloads directory: nothing of one agent shows up in
another's. Processes are counted from /proc (descendants of this process).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from rel_support import API_KEY, Site, alive, check_run_dir, children_of

from agent import Agent, AgentHooks, StepStarted
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import BrowserGoneError, ExecutorClosedError, PlaywrightComputer

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html><body style='margin:0'>
<input id=t style='position:absolute;left:0;top:0;width:300px;height:40px'>
<button id=c style='position:absolute;left:0;top:60px;width:300px;height:40px'
  onclick="document.getElementById('r').textContent = confirm('sure?') ? 'yes' : 'no'">ask</button>
<a id=d style='position:absolute;left:0;top:120px;width:300px;height:40px;display:block'>get</a>
<div id=r style='position:absolute;left:0;top:180px'>-</div>
<script>
document.getElementById('t').addEventListener('keydown', e => {
  if (e.key !== 'Enter') return;
  const who = e.target.value;
  document.cookie = 'who=' + who + '; path=/';
  const a = document.getElementById('d');
  a.href = URL.createObjectURL(new Blob([who], {type: 'text/plain'}));
  a.download = who + '.txt';
});
</script></body></html>"""


def task_script(name: str) -> list[Any]:
    return [
        turn(computer_call("click", x=150, y=20)),
        turn(computer_call("type", text=name)),
        turn(computer_call("keypress", keys=["ENTER"])),
        turn(computer_call("click", x=150, y=80)),
        turn(computer_call("click", x=150, y=140)),
        turn(message("done")),
    ]


def processes() -> dict[str, set[int]]:
    """This process's descendants: Chromium browser processes and node (Playwright drivers)."""
    found: dict[str, set[int]] = {"browser": set(), "child": set(), "node": set()}
    for pid in children_of(os.getpid()):
        try:
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if exe == "node":
            found["node"].add(pid)
        elif "chrom" in exe:
            # Chromium's children rewrite their command line (arguments joined by spaces)
            kind = "child" if b"--type=" in cmdline else "browser"
            found[kind].add(pid)
    return found


def renderers(pids: set[int]) -> list[int]:
    """Those of `pids` that are Chromium renderer processes."""
    found = []
    for pid in pids:
        try:
            if b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


async def wait_gone(pids: set[int], timeout: float = 60.0) -> list[int]:
    def poll() -> list[int]:
        deadline = time.monotonic() + timeout
        while alive(pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        return alive(pids)

    return await asyncio.to_thread(poll)


def agent_for(
    computer: PlaywrightComputer, server: ScriptedResponsesServer, run_dir: Path, **kwargs: Any
) -> Agent:
    return Agent(
        computer,
        base_url=server.base_url,
        api_key=API_KEY,
        coordinate_space="pixels",
        run_dir=run_dir,
        settle_max_s=2.0,
        **kwargs,
    )


async def test_agents_share_one_browser_without_cross_talk(tmp_path: Path) -> None:
    n = 4
    names = [f"agent{i}" for i in range(n)]
    with Site() as site:
        site.pages["/task.html"] = ("text/html", PAGE)
        computers = [
            PlaywrightComputer(
                size=(400, 260),
                start_url=site.url("/task.html"),
                dialogs="accept" if i % 2 == 0 else "dismiss",
                downloads_dir=tmp_path / f"downloads-{i}",
            )
            for i in range(n)
        ]
        servers = [ScriptedResponsesServer(task_script(name)) for name in names]
        for server in servers:
            server.__enter__()
        try:
            await asyncio.gather(*(c.start() for c in computers))
            procs = processes()
            assert len(procs["browser"]) == 1, procs
            assert len(procs["node"]) == 1, procs
            assert len({id(c.browser) for c in computers}) == 1
            # a renderer per agent's page (and at most one spare Chromium keeps ready):
            # no per-context renderers of browser UI (the new headless omnibox popups)
            assert len(renderers(procs["child"])) <= n + 1, renderers(procs["child"])
            agents = [
                agent_for(c, s, tmp_path / f"run-{i}")
                for i, (c, s) in enumerate(zip(computers, servers, strict=True))
            ]
            results = await asyncio.wait_for(
                asyncio.gather(
                    *(a.run(f"be {name}") for a, name in zip(agents, names, strict=True))
                ),
                180,
            )
            assert [r.status for r in results] == ["completed"] * n, [r.error for r in results]
            for i, (computer, name) in enumerate(zip(computers, names, strict=True)):
                check_run_dir(tmp_path / f"run-{i}", "completed")
                page = computer.page
                assert await page.evaluate("document.getElementById('t').value") == name
                assert await page.evaluate("document.cookie") == f"who={name}"
                answer = await page.evaluate("document.getElementById('r').textContent")
                assert answer == ("yes" if i % 2 == 0 else "no"), (i, answer)
                files = sorted(p.name for p in (tmp_path / f"downloads-{i}").iterdir())
                assert files == [f"{name}.txt"], (i, files)
                assert (tmp_path / f"downloads-{i}" / files[0]).read_text() == name
            assert len(processes()["browser"]) == 1

            # closing one agent's computer leaves the others working on the same browser
            started = processes()
            await computers[0].close()
            for computer in computers[1:]:
                await computer.click(150, 20)
                await computer.type("+more")
                value = await computer.page.evaluate("document.getElementById('t').value")
                assert value.endswith("+more"), value
            assert set(alive(started["browser"] | started["node"])) == (
                started["browser"] | started["node"]
            )
        finally:
            for computer in computers:
                await computer.close()
            for server in servers:
                server.__exit__(None, None, None)
    # the last close leaves nothing behind
    assert not await wait_gone(started["browser"] | started["child"] | started["node"])


async def test_isolated_computers_get_browsers_of_their_own(tmp_path: Path) -> None:
    with Site() as site:
        site.pages["/task.html"] = ("text/html", PAGE)
        shared = PlaywrightComputer(size=(400, 260), start_url=site.url("/task.html"))
        isolated = [
            PlaywrightComputer(size=(400, 260), start_url=site.url("/task.html"), isolated=True)
            for _ in range(2)
        ]
        try:
            await asyncio.gather(shared.start(), *(c.start() for c in isolated))
            procs = processes()
            assert len(procs["browser"]) == 3, procs  # the shared one and one per isolated
            assert len({id(c.browser) for c in [shared, *isolated]}) == 3
            # one isolated browser closing leaves the other computers running
            await isolated[0].close()
            for computer in (shared, isolated[1]):
                await computer.click(150, 20)
                await computer.type("still")
                assert await computer.page.evaluate("document.getElementById('t').value") == (
                    "still"
                )
            assert len(processes()["browser"]) == 2
        finally:
            for computer in [shared, *isolated]:
                await computer.close()
    assert not await wait_gone(procs["browser"] | procs["child"] | procs["node"])


class OnStep(AgentHooks):
    def __init__(self, step: int, action: Any) -> None:
        self.step = step
        self.action = action

    async def on_step_started(self, event: StepStarted) -> None:
        if event.step == self.step:
            await self.action()


async def test_a_crash_of_the_shared_browser_ends_every_run_with_a_typed_error(
    tmp_path: Path,
) -> None:
    n = 3
    clicks = [turn(computer_call("click", x=150, y=20))] * 30 + [turn(message("done"))]
    with Site() as site:
        site.pages["/task.html"] = ("text/html", PAGE)
        computers = [
            PlaywrightComputer(size=(400, 260), start_url=site.url("/task.html")) for _ in range(n)
        ]
        servers = [ScriptedResponsesServer(clicks) for _ in range(n)]
        for server in servers:
            server.__enter__()
        try:
            await asyncio.gather(*(c.start() for c in computers))
            procs = processes()
            (browser_pid,) = procs["browser"]

            async def kill() -> None:
                os.kill(browser_pid, signal.SIGKILL)

            agents = [
                agent_for(c, s, tmp_path / f"run-{i}", hooks=OnStep(3, kill) if i == 0 else None)
                for i, (c, s) in enumerate(zip(computers, servers, strict=True))
            ]
            results = await asyncio.wait_for(
                asyncio.gather(*(a.run("click on") for a in agents)), 120
            )
            for i, result in enumerate(results):
                assert result.status == "error", (i, result.status)
                assert result.error is not None
                assert result.error["type"] == "BrowserGoneError", (i, result.error)
                check_run_dir(tmp_path / f"run-{i}", "error")
            with pytest.raises(BrowserGoneError):
                await computers[1].click(1, 1)
            assert issubclass(BrowserGoneError, ExecutorClosedError)

            # a computer started afterwards gets a fresh browser
            async with PlaywrightComputer(size=(400, 260), start_url=site.url("/task.html")) as c:
                # its first click and typing reach the start page (they used to arrive,
                # more often than not here, before that page was parsed, and be lost)
                await c.click(150, 20)
                await c.type("again")
                assert await c.page.evaluate("document.activeElement.id") == "t"
                assert await c.page.evaluate("document.getElementById('t').value") == "again"
        finally:
            for computer in computers:
                await computer.close()
            for server in servers:
                server.__exit__(None, None, None)
    assert not await wait_gone(procs["child"] | procs["node"])
    assert processes()["browser"] == set()


def test_threads_each_with_their_own_loop_share_per_thread(tmp_path: Path) -> None:
    """Playwright's objects belong to one event loop: each thread's loop shares its own browser."""
    import threading

    seen: list[tuple[int, str, str]] = []
    both_started = threading.Barrier(2)
    counted: dict[str, set[int]] = {}

    async def two_agents(name: str, url: str) -> None:
        computers = [PlaywrightComputer(size=(400, 260), start_url=url) for _ in range(2)]
        try:
            await asyncio.gather(*(c.start() for c in computers))
            await asyncio.to_thread(both_started.wait, 60)
            if name == "a":
                counted.update(processes())
            await asyncio.to_thread(both_started.wait, 60)
            for i, computer in enumerate(computers):
                await computer.click(150, 20)
                await computer.type(f"{name}{i}")
            values = [
                await c.page.evaluate("document.getElementById('t').value") for c in computers
            ]
            seen.append((len({id(c.browser) for c in computers}), *values))
        finally:
            for computer in computers:
                await computer.close()

    with Site() as site:
        site.pages["/task.html"] = ("text/html", PAGE)
        threads = [
            threading.Thread(target=asyncio.run, args=(two_agents(n, site.url("/task.html")),))
            for n in ("a", "b")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert sorted(seen) == [(1, "a0", "a1"), (1, "b0", "b1")], seen
    assert len(counted["browser"]) == 2, counted  # one shared browser per thread's loop
    assert len(counted["node"]) == 2, counted


async def test_a_kept_browser_outlives_its_computers_and_a_crash_gets_a_fresh_one() -> None:
    """`keep_shared_browsers` (a batch holds it): the browser stays between computers; a
    crash is a typed error for the computer on it, and the next computer gets a fresh
    browser, kept the same way; it closes when the hold ends."""
    from executors._browser._launch import keep_shared_browsers

    with Site() as site:
        site.pages["/task.html"] = ("text/html", PAGE)
        url = site.url("/task.html")
        async with keep_shared_browsers():
            async with PlaywrightComputer(size=(400, 260), start_url=url) as first:
                await first.click(150, 20)
            (kept,) = processes()["browser"]  # its computer closed; the browser did not
            async with PlaywrightComputer(size=(400, 260), start_url=url) as on_it:
                assert processes()["browser"] == {kept}
                gone = asyncio.Event()
                assert on_it._lease is not None
                on_it._lease.on_gone(gone.set)  # the driver's word that it disconnected
                os.kill(kept, signal.SIGKILL)
                assert not await wait_gone({kept})
                await asyncio.wait_for(gone.wait(), 60)
                with pytest.raises(BrowserGoneError):
                    await on_it.click(150, 20)
            async with PlaywrightComputer(size=(400, 260), start_url=url) as fresh:
                assert await fresh.page.evaluate("1 + 1") == 2
                (second,) = processes()["browser"]
            assert second != kept
            assert processes()["browser"] == {second}  # kept again
        assert not await wait_gone({second})
    assert processes()["browser"] == set()
