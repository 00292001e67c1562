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
  reached by ``cdp_url`` / ``ws_endpoint`` was launched by someone else and
  gets no proxy: only the in-browser layers apply to it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from typing import Any
from urllib.parse import urljoin

from playwright.async_api import CDPSession, Page, ProxySettings, Request, Route, WebSocketRoute
from playwright.async_api import Error as PlaywrightError

from executors._browser._scripts import blocked_page_html
from sandbox import BlockedAttempt, DomainPolicy, PolicyProxy

__all__ = ["NetworkPolicyMixin", "page_of"]

logger = logging.getLogger(__name__)

_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# Chromium's own background services (component/extension updater, Google sign-in,
# autofill), contacted whatever the page does (seen on Debian's Chromium through the
# proxy). The proxy refuses them like any host; they are logged rather than emitted
# as events, so they do not fill every run's record.
_BROWSER_SERVICE_HOSTS = frozenset({"accounts.google.com", "clients2.google.com"})
_BROWSER_SERVICE_SUFFIXES = (".googleapis.com", ".gvt1.com")


def page_of(request: Request) -> Page | None:
    """The page a request belongs to, or None (a popup's first navigation, a worker)."""
    try:
        return request.frame.page
    except PlaywrightError:
        return None


def _is_main_frame(request: Request) -> bool:
    try:
        return request.frame.parent_frame is None
    except PlaywrightError:
        return True  # a popup's initial navigation: its main frame does not exist yet


class NetworkPolicyMixin:
    """The route and CDP handlers; mixed into `PlaywrightComputer`."""

    policy: DomainPolicy
    _popup_renavigate: set[str]
    _proxy: PolicyProxy | None

    def _emit(self, kind: str, message: str, **data: object) -> None:
        raise NotImplementedError

    def _spawn(self, coro: Any) -> None:
        raise NotImplementedError

    async def _ready(self, page: Page, *, setup: bool = False) -> None:
        raise NotImplementedError

    def _start_proxy(self) -> ProxySettings | None:
        """Start the policy proxy for a browser we launch; None for an open policy."""
        if self.policy.is_open:
            return None
        loop = asyncio.get_running_loop()

        def blocked(attempt: BlockedAttempt) -> None:  # runs on the proxy's thread
            with contextlib.suppress(RuntimeError):  # our loop is already closed
                loop.call_soon_threadsafe(self._on_proxy_blocked, attempt)

        self._proxy = PolicyProxy(self.policy, on_blocked=blocked)
        self._proxy.start()
        # Chromium sends loopback hosts around a proxy unless told not to.
        return {"server": self._proxy.url, "bypass": "<-loopback>"}

    def _stop_proxy(self) -> None:
        if self._proxy is not None:
            self._proxy.close()

    def _on_proxy_blocked(self, attempt: BlockedAttempt) -> None:
        host = attempt.host
        if host in _BROWSER_SERVICE_HOSTS or host.endswith(_BROWSER_SERVICE_SUFFIXES):
            logger.info("proxy refused Chromium's own %s %s", attempt.method, attempt.target)
            return
        self._emit(
            "request_blocked",
            f"blocked {attempt.method} {attempt.target} at the network proxy: {attempt.reason}",
            url=attempt.target,
            reason=attempt.reason,
            method=attempt.method,
            via="proxy",
        )

    async def _route(self, route: Route) -> None:
        request = route.request
        url = request.url
        decision = self.policy.check(url)
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
                await self._ready(page)
            await route.continue_()
        except PlaywrightError as exc:
            logger.debug("routing %s: %s", url, exc)

    async def _refuse(self, route: Route, request: Request, url: str, reason: str) -> None:
        if request.is_navigation_request():
            main = _is_main_frame(request)
            self._emit(
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
            self._emit(
                "request_blocked",
                f"blocked {request.resource_type} request to {url}: {reason}",
                url=url,
                reason=reason,
                resource_type=request.resource_type,
            )
            await route.abort("blockedbyclient")

    def _on_paused(self, session: CDPSession, event: dict[str, Any]) -> None:
        self._spawn(self._check_redirect(session, event))

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
                    decision = self.policy.check(target)
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
            self._emit(
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
            self._emit(
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

    async def _route_web_socket(self, ws: WebSocketRoute) -> None:
        decision = self.policy.check(ws.url)
        if decision.allowed:
            ws.connect_to_server()
            return
        self._emit(
            "request_blocked",
            f"blocked WebSocket to {ws.url}: {decision.reason}",
            url=ws.url,
            reason=decision.reason,
            resource_type="websocket",
        )
        await ws.close(code=1008, reason="blocked by screenloop policy")
