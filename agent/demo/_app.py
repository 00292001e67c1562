"""Pebble & Pine: the small web shop the demo agent works in.

A real multi-page app on a real HTTP server (stdlib, threaded, loopback,
ephemeral port): sign in, a product list with a filter box, a product page
with a quantity slider, a cart, a checkout and an "Order placed" page. All
state lives in the server, and ``GET /api/state`` returns it as JSON, so a test
can prove what an agent did instead of trusting its screenshots. The pages'
script reports client-side interactions (filter text, slider value, scroll,
hover, double-click) to ``POST /api/event``; every request the server receives
is appended to the state's ``log`` (passwords are never logged).

The shop has one shopper at a time: the sign-in and the cart are server state,
not per-cookie sessions, which keeps runs deterministic. ``POST /api/reset``
starts over.

Variants change the pages on purpose, for replay and cassette tests that need
"the app changed": ``"moved-button"`` moves the "Add to cart" button 340 px
right and 120 px down; ``"one-word"`` names the Ceramic mug "Ceramic cup" on
its product page (a regression a replayed check/extract must not hide).
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, get_args
from urllib.parse import parse_qs, urlsplit

from agent._errors import ConfigurationError
from agent.demo._pages import (
    Site,
    cart_page,
    checkout_page,
    confirmation_page,
    product_page,
    products_page,
    signin_page,
)
from agent.demo._shop import (
    DEMO_PASSWORD,
    DEMO_USERNAME,
    PRODUCTS_BY_ID,
    ShopState,
    Variant,
)

__all__ = ["DemoApp"]

logger = logging.getLogger(__name__)
# Client events the pages send, and the fields each may carry.
_EVENT_KINDS = {
    "filter": "value",
    "quantity": "value",
    "scroll": "y",
    "hover": "target",
    "open_product": "product",
}

_STATIC = {"style.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # stdlib sets TCP_NODELAY: no 40 ms Nagle stalls
    server_version = "PebbleAndPine/1"

    # ---- plumbing -------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("demo app %s: " + format, self.address_string(), *args)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _html(self, text: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, text.encode("utf-8"), "text/html; charset=utf-8")

    def _json(self, data: object, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, json.dumps(data).encode("utf-8"), "application/json")

    def _redirect(self, location: str) -> None:
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": location})

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _form(self) -> dict[str, str]:
        fields = parse_qs(self._body().decode("utf-8", "replace"), keep_blank_values=True)
        return {name: values[-1] for name, values in fields.items()}

    @property
    def _state(self) -> ShopState:
        return self.server.state

    @property
    def _site(self) -> Site:
        return self.server.site

    def _not_found(self) -> None:
        self._html("<!doctype html><title>Not found</title><p>Not found.</p>", HTTPStatus.NOT_FOUND)

    # ---- dispatch -------------------------------------------------------------------------

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/api/state":
            with self._state.lock:
                snapshot = self._state.snapshot()
            self._json(snapshot)
            return
        if path.startswith("/static/"):
            name = path.removeprefix("/static/")
            if name in _STATIC:
                self._send(HTTPStatus.OK, self._site.static(name).encode("utf-8"), _STATIC[name])
            else:
                self._not_found()
            return
        with self._state.lock:
            self._state.record({"method": "GET", "path": path})
            self._get(path)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        with self._state.lock:
            if path == "/api/event":
                self._event()
            elif path == "/api/reset":
                self._state.reset()
                self._json({"ok": True})
            else:
                self._post(path)

    # ---- pages ----------------------------------------------------------------------------

    def _get(self, path: str) -> None:
        state = self._state
        if path == "/":
            self._redirect("/products" if state.signed_in else "/signin")
        elif path == "/signin":
            self._html(signin_page(self._site, self._state, ""))
        elif path == "/signout":
            state.signed_in = None
            state.cart.clear()
            self._redirect("/signin")
        elif state.signed_in is None:
            if path in ("/products", "/cart", "/checkout", "/confirmation") or path.startswith(
                "/product/"
            ):
                self._redirect("/signin")
            else:
                self._not_found()
        elif path == "/products":
            self._html(products_page(self._site, self._state))
        elif path.startswith("/product/"):
            self._product_page(path.removeprefix("/product/"))
        elif path == "/cart":
            self._html(cart_page(self._site, self._state))
        elif path == "/checkout":
            if state.cart:
                self._html(
                    checkout_page(
                        self._site, self._state, name=state.signed_in, address="", error=""
                    )
                )
            else:
                self._redirect("/cart")
        elif path == "/confirmation":
            if state.orders:
                self._html(confirmation_page(self._site, self._state))
            else:
                self._redirect("/products")
        else:
            self._not_found()

    def _post(self, path: str) -> None:
        state = self._state
        form = self._form()
        if path == "/signin":
            username = form.get("username", "").strip()
            ok = username == DEMO_USERNAME and form.get("password", "") == DEMO_PASSWORD
            state.sign_in_attempts += 1
            state.record({"method": "POST", "path": path, "username": username, "ok": ok})
            if ok:
                state.signed_in = username
                self._redirect("/products")
            else:
                state.failed_sign_ins += 1
                self._html(signin_page(self._site, self._state, "Wrong username or password."))
            return
        state.record({"method": "POST", "path": path, "form": form})
        if state.signed_in is None:
            self._redirect("/signin")
        elif path == "/cart/add":
            product = PRODUCTS_BY_ID.get(form.get("product", ""))
            try:
                quantity = int(form.get("quantity", "1"))
            except ValueError:
                quantity = 0
            if product is None or not 1 <= quantity <= 5:
                self._html("<p>Bad request.</p>", HTTPStatus.BAD_REQUEST)
                return
            state.cart[product.id] = state.cart.get(product.id, 0) + quantity
            self._redirect("/cart")
        elif path == "/order":
            name = form.get("name", "").strip()
            address = form.get("address", "").strip()
            if not state.cart:
                self._redirect("/cart")
            elif not name or not address:
                error = "Please fill in your name and address."
                self._html(
                    checkout_page(self._site, self._state, name=name, address=address, error=error)
                )
            else:
                state.order_counter += 1
                lines = state.cart_lines()
                state.orders.append(
                    {
                        "number": f"PP-{state.order_counter}",
                        "items": lines,
                        "total_cents": sum(li["price_cents"] * li["quantity"] for li in lines),
                        "name": name,
                        "address": address,
                    }
                )
                state.cart.clear()
                self._redirect("/confirmation")
        else:
            self._not_found()

    def _event(self) -> None:
        try:
            data = json.loads(self._body() or b"{}")
            kind = data["kind"]
            field = _EVENT_KINDS[kind]
            value = data[field]
            seq = int(data.get("seq", 0))
            page_load = float(data.get("page_load", 0.0))
        except (ValueError, KeyError, TypeError) as exc:
            self._json({"ok": False, "error": f"bad event: {exc!s}"}, HTTPStatus.BAD_REQUEST)
            return
        state = self._state
        state.record({"method": "POST", "path": "/api/event", "kind": kind, field: value})
        if kind == "hover":
            state.hovered.append(str(value))
        elif kind == "open_product":
            state.opened_product = str(value)
        elif state.newer(kind, page_load, seq):
            if kind == "filter":
                state.filter = str(value)
            elif kind == "quantity":
                state.quantity = int(value)
            elif kind == "scroll":
                state.scroll_y = int(value)
                state.max_scroll_y = max(state.max_scroll_y, int(value))
        self._send(HTTPStatus.NO_CONTENT, b"", "text/plain")

    def _product_page(self, product_id: str) -> None:
        product = PRODUCTS_BY_ID.get(product_id)
        if product is None:
            self._not_found()
            return
        self._state.viewed_product = product.id
        self._html(product_page(self._site, self._state, product))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.exception("demo app: error while serving %s", client_address)

    def __init__(self, address: tuple[str, int], state: ShopState, site: Site) -> None:
        self.state = state
        self.site = site
        super().__init__(address, _Handler)


class DemoApp:
    """The demo shop on a loopback HTTP server, as a context manager.

    >>> with DemoApp() as app:
    ...     app.url            # 'http://127.0.0.1:PORT/' (redirects to the sign-in page)
    ...     app.state()        # what the shopper has done so far
    """

    def __init__(
        self, *, variant: Variant = "default", host: str = "127.0.0.1", port: int = 0
    ) -> None:
        if variant not in get_args(Variant):
            raise ConfigurationError(
                f"unknown demo app variant {variant!r}; choose one of {get_args(Variant)}"
            )
        self.variant: Variant = variant
        self._address = (host, port)
        self._state = ShopState(variant)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The app's root URL, ``http://127.0.0.1:PORT/``; valid once started."""
        if self._server is None:
            raise ConfigurationError("the demo app is not running; use `with DemoApp() as app:`")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> DemoApp:
        """Bind the port and serve in a daemon thread (idempotent)."""
        if self._server is None:
            self._server = _Server(self._address, self._state, Site())
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="screenloop-demo-app", daemon=True
            )
            self._thread.start()
            logger.info("demo app (%s) serving at %s", self.variant, self.url)
        return self

    def close(self) -> None:
        """Stop serving and release the port (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def state(self) -> dict[str, Any]:
        """A copy of the server-side state (the same JSON as ``GET /api/state``)."""
        with self._state.lock:
            return self._state.snapshot()

    def reset(self) -> None:
        """Forget the shopper: signed out, empty cart, no orders, empty log."""
        with self._state.lock:
            self._state.reset()

    def __enter__(self) -> DemoApp:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"DemoApp(variant={self.variant!r}, {where})"
