"""`LightconeComputer` on serve-computers: lifecycle, keepalive, hosted screenshots, typed errors.

The actions themselves are proven by effect in tests/e2e/test_lightcone_cli.py
(the CLI on the all-actions probe page) and tests/executors/test_lightcone_sdk.py.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import Agent
from agent._computers_server import ComputersServer
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import (
    ActionFailedError,
    ExecutorClosedError,
    LightconeAuthError,
    LightconeComputer,
    LightconeSessionGoneError,
    LightconeUnavailableError,
)

tzafon = pytest.importorskip("tzafon")
pytestmark = pytest.mark.browser

KEY = "slc-unit-key-8910"


@pytest.fixture(scope="module")
def server() -> Iterator[ComputersServer]:
    with ComputersServer(api_key=KEY, keep_exchanges=True) as srv:
        yield srv


def lightcone(server: ComputersServer, **kwargs: object) -> LightconeComputer:
    return LightconeComputer(api_key=KEY, base_url=server.origin, **kwargs)  # type: ignore[arg-type]


def test_a_missing_sdk_is_a_typed_error_that_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "tzafon", None)
    computer = LightconeComputer(api_key="x")
    with pytest.raises(LightconeUnavailableError, match=r"pip install 'screenloop\[lightcone\]'"):
        asyncio.run(computer.start())
    assert issubclass(LightconeUnavailableError, ImportError)


async def test_a_refused_key_is_a_typed_error_without_the_key(server: ComputersServer) -> None:
    computer = LightconeComputer(api_key="sk-wrong-key-0000", base_url=server.origin)
    with pytest.raises(LightconeAuthError) as info:
        await computer.start()
    assert info.value.status == 401
    assert "sk-wrong-key-0000" not in str(info.value) and "sk-wrong" not in repr(computer)


async def test_created_session_is_deleted_on_close_and_attached_one_is_kept(
    server: ComputersServer,
) -> None:
    async with lightcone(server, keepalive_s=None) as computer:
        created = computer.computer_id
        assert created in server.pool.ids()
        shot = await computer.screenshot()
        assert (shot.width, shot.height) == (1280, 720) and shot.data[:4] == b"\x89PNG"
    assert created not in server.pool.ids()

    other = tzafon.Lightcone(api_key=KEY, base_url=server.origin).computers.create(kind="browser")
    async with lightcone(server, computer_id=other.id, keepalive_s=None) as attached:
        assert attached.environment == "browser"
        await attached.screenshot()
    assert other.id in server.pool.ids()  # not ours to delete
    async with lightcone(server, computer_id=other.id, keep=False, keepalive_s=None):
        pass
    assert other.id not in server.pool.ids()


async def test_a_failed_action_raises_naming_it_and_a_gone_session_is_closed(
    server: ComputersServer,
) -> None:
    async with lightcone(server, keepalive_s=None) as computer:
        await computer.click(10, 10)
        await computer.keypress([])  # the server refuses an empty chord
        with pytest.raises(ActionFailedError, match=r"keypress \(action 2 of 3\)"):
            await computer.settle(1.0)
        session_id = computer.computer_id
        assert session_id is not None
        await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(server.pool.end(session_id, "test"), server.loop)  # type: ignore[arg-type]
        )
        with pytest.raises(LightconeSessionGoneError) as info:
            await computer.screenshot()
        assert isinstance(info.value, ExecutorClosedError)


async def test_keepalive_holds_an_idle_session_while_the_model_thinks(
    server: ComputersServer,
) -> None:
    async with lightcone(server, idle_timeout_s=30, keepalive_s=0.05) as computer:
        session_id = computer.computer_id

        def keepalives() -> int:
            return sum(1 for e in server.exchanges if e.route == "computers/{id}/keepalive")

        before = keepalives()
        for _ in range(1200):  # nothing else talks to the session meanwhile
            if keepalives() >= before + 3:
                break
            await asyncio.sleep(0.05)
        assert keepalives() >= before + 3
        assert session_id in server.pool.ids()
        assert computer.round_trips >= 4


async def test_hosted_screenshots_go_to_the_model_as_urls_and_to_the_record_as_files(
    server: ComputersServer, tmp_path: Path
) -> None:
    script = [turn(computer_call("click", x=500, y=500)), turn(message("done"))]
    with ScriptedResponsesServer(script) as responses:
        async with lightcone(server, hosted_screenshots=True, keepalive_s=None) as computer:
            agent = Agent(
                computer, base_url=responses.base_url, api_key="sk-x", run_dir=tmp_path / "run"
            )
            result = await agent.run("look")
        bodies = [r.body for r in responses.requests]
    assert result.status == "completed", result.error
    first = bodies[0]["input"][0]["content"][1]["image_url"]
    output = bodies[1]["input"][0]["output"]["image_url"]
    for url in (first, output):
        assert url.startswith(f"{server.origin}/computers/") and url.endswith(".png")
    shots = sorted((tmp_path / "run" / "screenshots").iterdir())
    assert len(shots) == 2 and all(p.read_bytes()[:4] == b"\x89PNG" for p in shots)
