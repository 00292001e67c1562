"""Domain-policy enforcement for `PlaywrightComputer`, at the network layer.

- ``context.route("**/*")`` sees the first hop of every request of every page
  (popups, iframes, fetch, XHR, workers). A refused navigation is fulfilled
  with a small "blocked" page the model can see; a refused subresource is
  aborted. Each is an `ExecutorEvent`.
- Playwright's router never sees redirect hops, so each page also gets a CDP
  ``Fetch`` interception at the *response* stage: a 3xx whose ``Location`` the
  policy refuses is answered with the blocked page (documents) or failed.
- A popup's first navigation happens before its page (and so its CDP session)
  exists: it is committed as an empty document and loaded for real once the
  page is set up, so its redirects are checked too.
- WebSockets go through ``context.route_web_socket``.
- Backstop: a browser screenloop launches itself sends all its traffic,
  loopback included, through `sandbox.PolicyProxy`, which refuses forbidden
  hosts at the socket level. That catches what the layers above never see (a
  WebSocket opened in a ``blob:`` worker, SharedWorker requests). A browser
  reached by ``cdp_url`` / ``ws_endpoint`` was launched by someone else: its
  launch flags are not ours, but a context's proxy is set over the protocol
  (CDP ``Target.createBrowserContext``), so one on this machine's loopback gets
  the proxy for the context screenloop opens; one on another machine cannot
  reach a loopback proxy, and only the in-browser layers apply to it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import logging
from typing import Any
from urllib.parse import urljoin, urlsplit

from playwright.async_api import CDPSession, Page, ProxySettings, Request, Route, WebSocketRoute
from playwright.async_api import Error as PlaywrightError

from executors._browser._scripts import blocked_page_html
from executors._browser._shared import BrowserState, page_of, wait_page_step
from sandbox import BlockedAttempt, DomainPolicy, PolicyProxy

__all__ = ["NetworkPolicy", "is_loopback_endpoint"]

logger = logging.getLogger(__name__)

_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# Chromium's own background services (component/extension updater, Google sign-in,
# autofill), contacted whatever the page does (seen on Debian's Chromium through the
# proxy). The proxy refuses them like any host; they are logged rather than emitted
# as events, so they do not fill every run's record.
_BROWSER_SERVICE_HOSTS = frozenset({"accounts.google.com", "clients2.google.com"})
_BROWSER_SERVICE_SUFFIXES = (".googleapis.com", ".gvt1.com")


def is_loopback_endpoint(endpoint: str) -> bool:
    """Whether a CDP URL / websocket endpoint is on this machine's loopback."""
    try:
        host = (urlsplit(endpoint).hostname or "").lower()
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_main_frame(request: Request) -> bool:
    try:
        return request.frame.parent_frame is None
    except PlaywrightError:
        return True  # a popup's initial navigation: its main frame does not exist yet


class NetworkPolicy:
    """The domain policy at the network layer: routes, per-page redirect checks, the proxy.

    Owns the proxy, the per-page "interception is on" futures the routes wait
    for, and the popup navigations held back until their page is set up.
    """

    def __init__(self, domains: DomainPolicy, state: BrowserState) -> None:
        self.domains = domains
        self._state = state
        self._proxy: PolicyProxy | None = None
        self._intercepting: dict[Page, asyncio.Future[None]] = {}
        self._popup_renavigate: set[str] = set()

    @property
    def is_open(self) -> bool:
        """Whether the policy allows everything (then nothing is routed or intercepted)."""
        return self.domains.is_open

    @property
    def popup_pending(self) -> bool:
        """Whether a popup's first navigation is held back, waiting for its page."""
        return bool(self._popup_renavigate)

    def expect(self, page: Page) -> None:
        """A page opened: its requests wait until `intercept` has run for it."""
        self._intercepting[page] = asyncio.get_running_loop().create_future()

    async def intercept(self, page: Page, session: CDPSession) -> None:
        """Check every redirect of `page` on its CDP session (with a policy)."""
        if self.is_open:
            return
        session.on("Fetch.requestPaused", lambda ev: self._on_paused(session, ev))
        await session.send(
            "Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Response"}]}
        )

    def intercepting(self, page: Page) -> None:
        """`page` is set up (or its setup failed): let its requests through."""
        ready = self._intercepting[page]
        if not ready.done():
            ready.set_result(None)

    def take_popup_navigation(self, url: str) -> bool:
        """Whether `url` is a popup's held-back first navigation (and forget it)."""
        if url not in self._popup_renavigate:
            return False
        self._popup_renavigate.discard(url)
        return True

    async def _wait_intercepting(self, page: Page) -> None:
        await wait_page_step(self._intercepting.get(page), self._state.options.navigation_timeout_s)

    def start_proxy(self) -> ProxySettings | None:
        """Start the policy proxy for a browser we launch; None for an open policy."""
        if self.domains.is_open:
            return None
        loop = asyncio.get_running_loop()

        def blocked(attempt: BlockedAttempt) -> None:  # runs on the proxy's thread
            with contextlib.suppress(RuntimeError):  # our loop is already closed
                loop.call_soon_threadsafe(self._on_proxy_blocked, attempt)

        self._proxy = PolicyProxy(self.domains, on_blocked=blocked)
        self._proxy.start()
        # Chromium sends loopback hosts around a proxy unless told not to.
        return {"server": self._proxy.url, "bypass": "<-loopback>"}

    def context_proxy(self, endpoint: str | None, shared: bool) -> ProxySettings | None:
        """The policy proxy for a new context (None: none, or the browser's own).

        A browser launched for one computer has the proxy as its own; a `shared` one
        has none, so each context gets it. A browser reached at `endpoint` (CDP or
        Playwright's websocket) gets it only when on a loopback address, as the
        proxy listens on this machine's loopback; any other gets none (and a warning).
        """
        if self.domains.is_open or not (endpoint or shared):
            return None
        if not endpoint:
            return self.start_proxy()
        if is_loopback_endpoint(endpoint):
            return self.start_proxy()
        self._state.emit(
            "warning",
            "the domain policy applies through routing and redirect checks only: the remote "
            "browser cannot reach the policy proxy on this machine's loopback",
        )
        return None

    @property
    def proxy_running(self) -> bool:
        """Whether this browser's traffic goes through the policy proxy."""
        return self._proxy is not None

    def stop_proxy(self) -> None:
        if self._proxy is not None:
            self._proxy.close()

    def _on_proxy_blocked(self, attempt: BlockedAttempt) -> None:
        host = attempt.host
        if host in _BROWSER_SERVICE_HOSTS or host.endswith(_BROWSER_SERVICE_SUFFIXES):
            logger.info("proxy refused Chromium's own %s %s", attempt.method, attempt.target)
            return
        self._state.emit(
            "request_blocked",
            f"blocked {attempt.method} {attempt.target} at the network proxy: {attempt.reason}",
            url=attempt.target,
            reason=attempt.reason,
            method=attempt.method,
            via="proxy",
        )

    async def route(self, route: Route) -> None:
        request = route.request
        url = request.url
        decision = self.domains.check(url)
        try:
            if not decision.allowed:
                await self._refuse(route, request, url, decision.reason)
                return
            page = page_of(request)
            if page is None and request.is_navigation_request() and request.method == "GET":
                # A popup's first navigation: its page (and the CDP session that
                # checks redirects) does not exist yet. Commit an empty document
                # at that URL now, and load it for real once the page is set up.
                self._popup_renavigate.add(url)
                await route.fulfill(status=200, content_type="text/html", body="")
                return
            if page is not None:
                await self._wait_intercepting(page)
            await route.continue_()
        except PlaywrightError as exc:
            logger.debug("routing %s: %s", url, exc)

    async def _refuse(self, route: Route, request: Request, url: str, reason: str) -> None:
        if request.is_navigation_request():
            main = _is_main_frame(request)
            self._state.emit(
                "navigation_blocked" if main else "request_blocked",
                f"blocked {'navigation' if main else 'frame'} to {url}: {reason}",
                url=url,
                reason=reason,
            )
            await route.fulfill(
                status=403,
                content_type="text/html; charset=utf-8",
                body=blocked_page_html(url, reason),
            )
        else:
            self._state.emit(
                "request_blocked",
                f"blocked {request.resource_type} request to {url}: {reason}",
                url=url,
                reason=reason,
                resource_type=request.resource_type,
            )
            await route.abort("blockedbyclient")

    def _on_paused(self, session: CDPSession, event: dict[str, Any]) -> None:
        self._state.spawn(self._check_redirect(session, event))

    async def _check_redirect(self, session: CDPSession, event: dict[str, Any]) -> None:
        request_id = event["requestId"]
        try:
            status = event.get("responseStatusCode")
            if status in _REDIRECT_CODES:
                location = next(
                    (
                        h["value"]
                        for h in event.get("responseHeaders", [])
                        if h["name"].lower() == "location"
                    ),
                    None,
                )
                if location:
                    target = urljoin(event["request"]["url"], location)
                    decision = self.domains.check(target)
                    if not decision.allowed:
                        await self._refuse_redirect(session, event, target, decision.reason)
                        return
            await session.send("Fetch.continueResponse", {"requestId": request_id})
        except PlaywrightError as exc:
            logger.debug("redirect check of %s: %s", event.get("request", {}).get("url"), exc)

    async def _refuse_redirect(
        self, session: CDPSession, event: dict[str, Any], target: str, reason: str
    ) -> None:
        source = event["request"]["url"]
        if event.get("resourceType") == "Document":
            self._state.emit(
                "navigation_blocked",
                f"blocked redirect from {source} to {target}: {reason}",
                url=target,
                redirected_from=source,
                reason=reason,
            )
            body = base64.b64encode(blocked_page_html(target, reason).encode()).decode()
            await session.send(
                "Fetch.fulfillRequest",
                {
                    "requestId": event["requestId"],
                    "responseCode": 403,
                    "responseHeaders": [
                        {"name": "Content-Type", "value": "text/html; charset=utf-8"}
                    ],
                    "body": body,
                },
            )
        else:
            self._state.emit(
                "request_blocked",
                f"blocked redirect from {source} to {target}: {reason}",
                url=target,
                redirected_from=source,
                reason=reason,
            )
            await session.send(
                "Fetch.failRequest",
                {"requestId": event["requestId"], "errorReason": "BlockedByClient"},
            )

    async def route_web_socket(self, ws: WebSocketRoute) -> None:
        decision = self.domains.check(ws.url)
        if decision.allowed:
            ws.connect_to_server()
            return
        self._state.emit(
            "request_blocked",
            f"blocked WebSocket to {ws.url}: {decision.reason}",
            url=ws.url,
            reason=decision.reason,
            resource_type="websocket",
        )
        await ws.close(code=1008, reason="blocked by screenloop policy")
