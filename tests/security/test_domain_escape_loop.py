"""The domain policy cannot be escaped by a model driving the browser through the agent loop.

The model (the scripted server) clicks buttons on an allowed page, each firing
one way out towards a "forbidden" loopback server on 127.0.0.2 (which only
counts hits), and asks to `navigate` there and to file:, chrome:, javascript:
and data: URLs. The forbidden server must see zero requests. Subresource
vectors also fire a control request to the allowed origin, which must arrive:
that proves each vector really ran (a vector that silently did nothing would
prove nothing).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rel_support import API_KEY, Site, check_run_dir
from remote_browsers import cdp_chromium, playwright_server

from agent import Agent
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import PlaywrightComputer
from sandbox import DomainPolicy

pytestmark = pytest.mark.browser

W, H = 800, 600
# name -> (javascript run by the button's click, fires a control request to the allowed origin?)
VECTORS: dict[str, tuple[str, bool]] = {
    "js_location": ("location.href = F", False),
    "location_replace": ("location.replace(F)", False),
    "http_redirect": ("location.href = '/redirect?to=' + encodeURIComponent(F)", False),
    "meta_refresh": ("location.href = '/meta-refresh'", False),
    "form_post": (
        "var f = document.createElement('form'); f.method = 'post'; f.action = F;"
        "document.body.appendChild(f); f.submit()",
        False,
    ),
    "window_open": ("window.open(F)", False),
    "window_open_redirect": ("window.open('/redirect?to=' + encodeURIComponent(F))", False),
    "iframe": (
        "var i = document.createElement('iframe'); i.src = F; document.body.append(i)",
        False,
    ),
    "iframe_redirect": (
        "var i = document.createElement('iframe');"
        "i.src = '/redirect?to=' + encodeURIComponent(F); document.body.append(i)",
        False,
    ),
    "fetch": ("fetch(C); fetch(F).catch(() => 0)", True),
    "fetch_redirect": (
        "fetch(C); fetch('/redirect?to=' + encodeURIComponent(F)).catch(() => 0)",
        True,
    ),
    "xhr": (
        "for (const u of [C, F]) { const x = new XMLHttpRequest(); x.open('GET', u); x.send() }",
        True,
    ),
    "websocket": ("fetch(C); new WebSocket(F.replace('http', 'ws'))", True),
    "beacon": ("navigator.sendBeacon(C, 'x'); navigator.sendBeacon(F, 'x')", True),
    "event_source": ("new EventSource(C); new EventSource(F)", True),
    "css_url": (
        "var d = document.createElement('div'); d.style.cssText = "
        "'width:5px;height:5px;background:url(' + C + ')'; document.body.append(d);"
        "var e = document.createElement('div'); e.style.cssText = "
        "'width:5px;height:5px;background:url(' + F + ')'; document.body.append(e)",
        True,
    ),
    "image": ("new Image().src = C; new Image().src = F", True),
    "script_tag": (
        "for (const u of [C, F]) { const s = document.createElement('script');"
        "s.src = u; document.head.append(s) }",
        True,
    ),
    "blob_worker_fetch": (
        "new Worker(URL.createObjectURL(new Blob(["
        "'fetch(' + JSON.stringify(C) + '); fetch(' + JSON.stringify(F) + ').catch(() => 0)'"
        "], {type: 'text/javascript'})))",
        True,
    ),
    "blob_worker_websocket": (
        "new Worker(URL.createObjectURL(new Blob(["
        "'fetch(' + JSON.stringify(C) + '); new WebSocket(' + "
        "JSON.stringify(F.replace('http', 'ws')) + ')'], {type: 'text/javascript'})))",
        True,
    ),
    "worker_script": ("new Worker('/worker.js?f=' + encodeURIComponent(F))", True),
    "shared_worker": (
        "new SharedWorker(URL.createObjectURL(new Blob(["
        "'fetch(' + JSON.stringify(C) + '); fetch(' + JSON.stringify(F) + ').catch(() => 0)'"
        "], {type: 'text/javascript'})))",
        True,
    ),
    "service_worker": (
        "fetch(C); navigator.serviceWorker && navigator.serviceWorker"
        ".register('/sw.js?f=' + encodeURIComponent(F)).catch(() => 0)",
        True,
    ),
    "data_iframe_fetch": (
        # a data: iframe renders (no request to refuse); what it fetches is still policed
        "var i = document.createElement('iframe'); i.src = 'data:text/html,<script>'"
        " + 'fetch(' + JSON.stringify(C) + ');fetch(' + JSON.stringify(F) + ')</scr' + 'ipt>';"
        "document.body.append(i)",
        True,
    ),
    "anchor_ping": (
        "var a = document.createElement('a'); a.href = '#x'; a.ping = F + ' ' + C;"
        "document.body.append(a); a.click()",
        False,  # pings may be disabled in headless Chromium: no control asserted
    ),
}

WORKER_JS = (
    "const f = new URLSearchParams(location.search).get('f');"
    "fetch('/ctl-worker_script'); fetch(f).catch(() => 0);"
)
SW_JS = (
    "const f = new URLSearchParams(location.search).get('f');"
    "self.addEventListener('install', () => fetch(f).catch(() => 0));"
)


def build_page(name: str, js: str, forbidden: str, control: str) -> str:
    script = f"var F = {json.dumps(forbidden)}, C = {json.dumps(control)};"
    return (
        "<!doctype html><html><body style='margin:0'>"
        "<button id=go style='position:absolute;left:0;top:0;width:400px;height:300px'>"
        f"{name}</button><script>{script}"
        f"document.getElementById('go').onclick = function () {{ {js} }};</script>"
        "</body></html>"
    )


# Requests that neither context.route nor the page-level CDP interception see: a
# WebSocket opened by a worker created from a blob: URL, and any request of a
# SharedWorker. The executor's policy proxy (sandbox.PolicyProxy) is what stops them.
PROXY_ONLY = {"blob_worker_websocket", "shared_worker"}


async def run_vectors(
    tmp_path: Path, names: list[str], **computer_kwargs: Any
) -> tuple[Any, Site, Site, list[dict]]:
    """Drive the loop through `names` plus forbidden `navigate`s; returns what was seen.

    `computer_kwargs` go to `PlaywrightComputer` (a remote browser's ``cdp_url=``).
    """
    with Site("127.0.0.1") as web, Site("127.0.0.2") as forbidden:
        web.pages["/worker.js"] = ("text/javascript", WORKER_JS)
        web.pages["/sw.js"] = ("text/javascript", SW_JS)
        web.pages["/meta-refresh"] = (
            "text/html",
            f"<meta http-equiv=refresh content='0; url={forbidden.url('/v-meta_refresh')}'>",
        )
        script: list[Any] = []
        for name in names:
            js, _ = VECTORS[name]
            web.pages[f"/{name}"] = (
                "text/html",
                build_page(name, js, forbidden.url(f"/v-{name}"), web.url(f"/ctl-{name}")),
            )
            script.append(turn(computer_call("navigate", url=web.url(f"/{name}"))))
            script.append(turn(computer_call("click", x=200, y=150)))
            script.append(turn(computer_call("wait", ms=300)))
        for url in (
            forbidden.url("/v-navigate"),
            "file:///etc/passwd",
            "chrome://version",
            "javascript:fetch('" + forbidden.url("/v-javascript") + "')",
            "data:text/html,<script>fetch('" + forbidden.url("/v-data") + "')</script>",
        ):
            script.append(turn(computer_call("navigate", url=url)))
        script.append(turn(message("tried everything")))
        policy = DomainPolicy(allow=["127.0.0.1"])
        async with PlaywrightComputer(size=(W, H), policy=policy, **computer_kwargs) as computer:
            with ScriptedResponsesServer(script) as server:
                agent = Agent(
                    computer,
                    base_url=server.base_url,
                    api_key=API_KEY,
                    coordinate_space="pixels",
                    run_dir=tmp_path / "run",
                    safety="allow",
                    max_steps=200,
                    settle_max_s=1.0,
                )
                result = await agent.run("escape the sandbox")
    assert result.status == "completed", result.error
    _, steps = check_run_dir(tmp_path / "run", "completed")
    return result, web, forbidden, steps


async def test_no_vector_reaches_the_forbidden_host(tmp_path: Path) -> None:
    names = list(VECTORS)
    _, web, forbidden, steps = await run_vectors(tmp_path, names)
    assert forbidden.hits == [], f"the forbidden host was reached: {forbidden.hits}"
    missing = [n for n in names if VECTORS[n][1] and f"/ctl-{n}" not in web.hits]
    assert not missing, f"these vectors never fired, so they prove nothing: {missing}"
    events = [e for s in steps for e in s["events"]]
    blocked = json.dumps([e for e in events if e.get("notice") == "navigation_blocked"])
    assert blocked != "[]", events[:5]
    for url in ("file:///etc/passwd", "chrome://version", "javascript:", "data:text/html"):
        assert url in blocked, f"no navigation_blocked event for {url}"


@pytest.mark.parametrize("remote", ["cdp", "ws"])
async def test_a_remote_loopback_browser_gets_every_layer(tmp_path: Path, remote: str) -> None:
    """A browser screenloop did not launch (issue 17): routes and redirect checks work
    over the protocol, and one on loopback gets the proxy as its context's proxy, so even
    the proxy-only worker escapes are stopped."""
    names = sorted({"http_redirect", "iframe_redirect", "fetch", "websocket", *PROXY_ONLY})
    browser = cdp_chromium() if remote == "cdp" else playwright_server()
    with browser as endpoint:
        kwargs = {"cdp_url": endpoint} if remote == "cdp" else {"ws_endpoint": endpoint}
        _, web, forbidden, steps = await run_vectors(tmp_path, names, **kwargs)
    assert forbidden.hits == [], f"the forbidden host was reached: {forbidden.hits}"
    assert all(f"/ctl-{n}" in web.hits for n in names if VECTORS[n][1])  # they all fired
    events = [e for s in steps for e in s["events"]]
    assert any("127.0.0.2" in json.dumps(e) and "proxy" in json.dumps(e) for e in events), events


@pytest.mark.parametrize("name", sorted(PROXY_ONLY))
async def test_worker_escapes_are_stopped_by_the_proxy(tmp_path: Path, name: str) -> None:
    _, web, forbidden, steps = await run_vectors(tmp_path, [name])
    assert f"/ctl-{name}" in web.hits  # the vector fired
    assert forbidden.hits == [], f"the forbidden host was reached: {forbidden.hits}"
    events = [e for s in steps for e in s["events"]]
    assert any("127.0.0.2" in json.dumps(e) and "proxy" in json.dumps(e) for e in events), events


async def test_data_urls_load_only_when_the_scheme_is_allowed(tmp_path: Path) -> None:
    url = "data:text/html,<title>allowed-data</title><p>hi</p>"
    script = [turn(computer_call("navigate", url=url)), turn(message("ok"))]
    for schemes, loads in ((("http", "https"), False), (("http", "https", "data"), True)):
        policy = DomainPolicy(allow_schemes=schemes)
        async with PlaywrightComputer(size=(W, H), policy=policy) as computer:
            with ScriptedResponsesServer(script) as server:
                agent = Agent(
                    computer,
                    base_url=server.base_url,
                    api_key=API_KEY,
                    run_dir=tmp_path / f"run-{len(schemes)}",
                )
                result = await agent.run("open a data url")
                title = await computer.page.title()
        assert result.status == "completed", result.error
        assert (title == "allowed-data") is loads, (schemes, title)
