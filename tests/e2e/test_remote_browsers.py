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
