"""The private-network guard: on by default in `screenloop run`, enforced by real Chromium.

Issue 13, row 5. No traffic may leave this machine, so the guard is proved
with loopback only: the policy is built as for a public start URL, the page
itself is allowed by name, and a second loopback server (127.0.0.2, not
named) must see no request -- while a control request to the allowed origin
arrives, proving the page really tried.
"""

from __future__ import annotations

import pytest
from rel_support import Site

from agent._cli._run import RunOptions, browser_policy
from executors import PlaywrightComputer
from sandbox import DomainPolicy
from sandbox._policy import private_network_guard


@pytest.mark.parametrize(
    ("start", "flag", "url", "allowed"),
    [
        ("https://shop.example.com/", False, "http://169.254.169.254/latest/meta-data/", False),
        ("https://shop.example.com/", False, "http://192.168.1.1/", False),
        ("https://shop.example.com/", False, "http://localhost:8080/", False),
        ("https://shop.example.com/", True, "http://192.168.1.1/", True),
        (None, False, "http://10.0.0.1/", False),
        ("http://127.0.0.1:8000/", False, "http://127.0.0.1:9000/", True),
        ("http://127.0.0.1:8000/", False, "http://169.254.169.254/", False),
    ],
)
def test_run_guards_private_networks_by_default(
    start: str | None, flag: bool, url: str, allowed: bool
) -> None:
    opts = RunOptions(task="t", url=start, allow_private_network=flag)
    assert browser_policy(opts).check(url).allowed is allowed


@pytest.mark.browser
async def test_chromium_reaches_no_unnamed_local_address_from_a_public_start() -> None:
    with Site("127.0.0.1") as web, Site("127.0.0.2") as local:
        policy = DomainPolicy(
            allow=[f"127.0.0.1:{web.port}", "*"],
            refuse=private_network_guard("https://public.example/"),
        )
        async with PlaywrightComputer(
            size=(320, 240), start_url=web.url("/start"), policy=policy
        ) as pc:
            await pc.page.evaluate(
                "async ([c, f]) => { await fetch(c); try { await fetch(f) } catch (e) {} }",
                [web.url("/control"), local.url("/admin")],
            )
            await pc.navigate(local.url("/admin-nav"))
            await pc.navigate(f"http://[::ffff:127.0.0.2]:{local.port}/mapped")
    assert "/control" in web.hits, web.hits  # the page really made requests
    assert local.hits == [], f"the guard let Chromium reach {local.hits}"
