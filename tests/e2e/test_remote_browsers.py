"""Remote browsers (issue 17): a Chromium screenloop did not launch, reached by CDP or
by a Playwright browser server, passes the same all-actions probe as a launched one.

Both run Debian's Chromium, headless, on loopback (tests/remote_browsers.py). The
probe page's own event log proves each action's effect (test_browser_e2e).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from remote_browsers import cdp_chromium, playwright_server
from test_browser_e2e import every_action

from executors import PlaywrightComputer
from executors._browser._policy import is_loopback_endpoint
from sandbox import DomainPolicy

pytestmark = pytest.mark.browser


async def test_every_action_over_cdp(pages_origin: str, tmp_path: Path) -> None:
    with cdp_chromium() as cdp_url:
        summary = await every_action(pages_origin, tmp_path, cdp_url=cdp_url)
    assert summary["executor"]["class"] == "PlaywrightComputer"


async def test_every_action_on_a_playwright_browser_server(
    pages_origin: str, tmp_path: Path
) -> None:
    with playwright_server() as ws_endpoint:
        summary = await every_action(pages_origin, tmp_path, ws_endpoint=ws_endpoint)
    assert summary["executor"]["class"] == "PlaywrightComputer"


async def test_a_loopback_remote_browser_gets_every_policy_layer() -> None:
    policy = DomainPolicy(allow=["127.0.0.1"])
    with cdp_chromium() as cdp_url:
        async with PlaywrightComputer(cdp_url=cdp_url, policy=policy) as computer:
            assert computer.remote == "cdp"
            assert computer.policy_layers == ("routes", "redirects", "proxy")
        async with PlaywrightComputer(cdp_url=cdp_url) as computer:
            assert computer.policy_layers == ()  # an open policy: nothing routed, no proxy


@pytest.mark.parametrize(
    ("endpoint", "loopback"),
    [
        ("http://127.0.0.1:9222", True),
        ("ws://127.5.0.1:3000/abc", True),
        ("ws://[::1]:3000/", True),
        ("http://localhost:9222", True),
        ("http://10.0.0.5:9222", False),
        ("wss://grid.example.com/session?token=x", False),
        ("http://[bad", False),
    ],
)
def test_which_endpoints_can_reach_the_policy_proxy(endpoint: str, loopback: bool) -> None:
    assert is_loopback_endpoint(endpoint) is loopback
