"""The pytest plugin's fixtures (see agent/pytest_plugin.py).

Everything asynchronous (the browser, the desktop, the client) lives on one
event loop per test, run by a `Portal` (agent/_pytest/_portal.py) in a
background thread. Sync tests call ``agent.run(...)``, ``agent.check(...)``;
async tests ``await agent.arun(...)``, ``await agent.acheck(...)``: both hop to
the portal's loop. The computer fixtures yield the real `PlaywrightComputer` /
`DesktopComputer`; their methods must run on the portal's loop:
``agent.call(computer.navigate, url)``. The test-facing agent is
`ScreenloopAgent` (agent/_pytest/_agent.py); settings are resolved in
agent/_pytest/_settings.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import pytest

# Every pytest run in an environment with screenloop installed imports this
# module (the plugin's entry point): what it needs is imported inside the
# fixtures, so a run that uses none of them pays nothing (docs/pytest-plugin.md).
if TYPE_CHECKING:
    from agent._pytest._agent import ScreenloopAgent
    from agent._pytest._portal import Portal
    from agent._pytest._settings import ScreenloopSettings
    from executors._computer import Computer

__all__ = [
    "AGENT_KEY",
    "CALL_PASSED_KEY",
    "agent",
    "computer",
    "desktop",
    "screenloop_portal",
    "screenloop_settings",
    "screenloop_url",
]

logger = logging.getLogger(__name__)

AGENT_KEY = pytest.StashKey["ScreenloopAgent"]()
CALL_PASSED_KEY = pytest.StashKey[bool]()


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def screenloop_settings(request: pytest.FixtureRequest) -> ScreenloopSettings:
    """The resolved screenloop settings of this test (marker, options, ini, defaults)."""
    from agent._errors import ConfigurationError
    from agent._pytest._settings import resolve_settings

    try:
        return resolve_settings(request.config, request.node)
    except ConfigurationError as exc:
        pytest.fail(f"screenloop: {exc}", pytrace=False)


@pytest.fixture
def screenloop_url(request: pytest.FixtureRequest) -> str | None:
    """The base URL of the app under test (``--screenloop-url`` / ini ``screenloop_url``).

    Override this fixture in a conftest to start your app per test and return
    its URL; a marker ``url`` is joined to it (``url="/products"``).
    """
    from agent._pytest._settings import option

    value = option(request.config, "screenloop-url")
    return str(value) if value else None


@pytest.fixture
def screenloop_portal() -> Iterator[Portal]:
    """The event loop (in a background thread) this test's computer and agent run on."""
    from agent._pytest._portal import Portal

    portal = Portal()
    yield portal
    portal.close()


def _start_url(settings: ScreenloopSettings, base: str | None) -> str | None:
    if settings.url and base:
        return urljoin(base, settings.url)
    return settings.url or base


@pytest.fixture
def computer(
    screenloop_settings: ScreenloopSettings,
    screenloop_url: str | None,
    screenloop_portal: Portal,
) -> Iterator[Computer]:
    """A started `PlaywrightComputer` (headless Chromium unless --screenloop-headed)."""
    from executors import PlaywrightComputer

    s = screenloop_settings
    display = None
    if s.headed and not os.environ.get("DISPLAY"):
        # As `screenloop run --headed` does: a virtual display of its own.
        from sandbox._display import VirtualDisplay

        display = VirtualDisplay(*s.display).start()
    try:
        comp = PlaywrightComputer(
            size=s.display,
            start_url=_start_url(s, screenloop_url),
            headless=not s.headed,
            x_display=display.display if display is not None else None,
        )

        async def _start() -> None:
            await comp.start()
            await comp.settle(3.0)

        screenloop_portal.run(_start())
        try:
            yield comp
        finally:
            screenloop_portal.run(comp.close())
    finally:
        if display is not None:
            display.close()


@pytest.fixture
def desktop(
    screenloop_settings: ScreenloopSettings, screenloop_portal: Portal
) -> Iterator[Computer]:
    """A started `DesktopComputer` on a fresh Xvfb display running the marker's ``launch``."""
    from executors import DesktopComputer
    from sandbox._display import VirtualDisplay

    s = screenloop_settings
    display = VirtualDisplay(*s.display).start()
    try:
        for argv in s.launch:
            display.launch(argv)
        comp = DesktopComputer(display)
        screenloop_portal.run(comp.start())
        try:
            yield comp
        finally:
            screenloop_portal.run(comp.close())
    finally:
        display.close()


@pytest.fixture
def agent(
    request: pytest.FixtureRequest,
    screenloop_settings: ScreenloopSettings,
    screenloop_url: str | None,
    screenloop_portal: Portal,
) -> Iterator[ScreenloopAgent]:
    """The test-facing agent, bound to ``desktop`` if the test uses it, else ``computer``."""
    from agent._pytest._agent import ScreenloopAgent
    from agent._pytest._cassette import Cassette
    from agent._pytest._settings import cassette_path_for, run_dir_name

    name = "desktop" if "desktop" in request.fixturenames else "computer"
    comp: Computer = request.getfixturevalue(name)
    s = screenloop_settings
    run_dir = s.run_root / run_dir_name(request.node.nodeid)
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    start = _start_url(s, screenloop_url) if name == "computer" else None
    cassette = Cassette.load(cassette_path_for(request.node))
    wrapper = ScreenloopAgent(
        computer=comp,
        portal=screenloop_portal,
        settings=s,
        run_dir=run_dir,
        cassette=cassette,
        origin=_origin(start),
    )
    request.node.stash[AGENT_KEY] = wrapper
    try:
        yield wrapper
    finally:
        with contextlib.suppress(Exception):
            screenloop_portal.run(wrapper.aclose())
        passed = request.node.stash.get(CALL_PASSED_KEY, False)
        outcome = wrapper.transport.finish(test_passed=passed)
        wrapper.outcome = outcome
        logger.info("screenloop cassette: %s", outcome.message)
        for prop in wrapper.properties():
            request.node.user_properties.append(prop)
        request.node.user_properties.append(("screenloop_cassette", outcome.status))
        request.node.user_properties.append(("screenloop_cassette_message", outcome.message))
