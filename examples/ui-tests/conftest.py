"""Start the demo shop for each test and sign in, so each test starts where it says.

The `screenloop_url` fixture is the plugin's hook for "where the app under
test is": returning the shop's URL here makes `@pytest.mark.screenloop(url=
"/products")` open that page. The shop runs on a fresh ephemeral port per
test (so tests can run in parallel with pytest-xdist); cassettes store the
origin as ``{{origin}}``, so they replay whatever the port.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from agent.demo import DEMO_PASSWORD, DEMO_USERNAME, DemoApp


@pytest.fixture
def shop() -> Iterator[DemoApp]:
    """The Pebble & Pine demo shop, signed in as the demo user.

    ``SHOP_VARIANT=one-word`` serves a changed shop (see `DemoApp`): the replay
    must then fail where a check or extraction judged the changed screen.
    """
    with DemoApp(variant=os.environ.get("SHOP_VARIANT", "default")) as app:  # type: ignore[arg-type]
        form = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
        response = httpx.post(app.url + "signin", data=form)
        assert response.status_code == 303, response.text  # redirected to /products
        yield app


@pytest.fixture
def screenloop_url(shop: DemoApp) -> str:
    """Where the app under test runs (the plugin opens marker URLs relative to it)."""
    return shop.url
