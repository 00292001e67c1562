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
right and 120 px down.
"""

from __future__ import annotations

import copy
import html
import json
import logging
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from string import Template
from types import TracebackType
from typing import Any, Literal, get_args
from urllib.parse import parse_qs, urlsplit

from agent._errors import ConfigurationError

__all__ = ["DEMO_PASSWORD", "DEMO_PRODUCTS", "DEMO_USERNAME", "DemoApp", "DemoProduct", "Variant"]

logger = logging.getLogger(__name__)

Variant = Literal["default", "moved-button"]

DEMO_USERNAME = "ada"
DEMO_PASSWORD = "pine-cone-42"  # noqa: S105 - a public demo credential, not a secret


@dataclass(frozen=True)
class DemoProduct:
    """One product of the shop."""

    id: str
    name: str
    price_cents: int
    color: str
    description: str

    @property
    def initials(self) -> str:
        """Two letters drawn on the product's swatch."""
        words = self.name.split()
        return (words[0][0] + (words[1][0] if len(words) > 1 else words[0][1])).upper()


DEMO_PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct(
        "desk-lamp",
        "Desk lamp",
        3900,
        "linear-gradient(135deg, #d9a441, #b5762a)",
        "A brass desk lamp with a warm, glare-free light and a weighted base.",
    ),
    DemoProduct(
        "floor-lamp",
        "Floor lamp",
        8900,
        "linear-gradient(135deg, #c78c5a, #8c5a36)",
        "A tall linen-shade floor lamp for reading corners.",
    ),
    DemoProduct(
        "oak-desk",
        "Oak desk",
        42000,
        "linear-gradient(135deg, #a57c52, #6e4f30)",
        "Solid oak, 140 by 70 cm, oiled by hand.",
    ),
    DemoProduct(
        "desk-organizer",
        "Desk organizer",
        2400,
        "linear-gradient(135deg, #7fa38f, #4f7563)",
        "Three felt trays that keep pens, notes and cables apart.",
    ),
    DemoProduct(
        "ceramic-mug",
        "Ceramic mug",
        1600,
        "linear-gradient(135deg, #6f93b8, #43688e)",
        "A thrown stoneware mug with a speckled glaze, 350 ml.",
    ),
    DemoProduct(
        "linen-throw",
        "Linen throw",
        5800,
        "linear-gradient(135deg, #c9b8a6, #9c8874)",
        "Washed linen, 130 by 170 cm, soft from the first day.",
    ),
    DemoProduct(
        "wool-rug",
        "Wool rug",
        16500,
        "linear-gradient(135deg, #b86f5c, #86473a)",
        "A flat-woven wool rug in terracotta stripes.",
    ),
    DemoProduct(
        "pine-shelf",
        "Pine shelf",
        7400,
        "linear-gradient(135deg, #d6b98a, #a88a5a)",
        "A wall shelf of knot-free pine with hidden brackets.",
    ),
    DemoProduct(
        "reading-chair",
        "Reading chair",
        31000,
        "linear-gradient(135deg, #4f7563, #2f4f40)",
        "A deep armchair with a high back and a moss-green cover.",
    ),
    DemoProduct(
        "wall-clock",
        "Wall clock",
        4500,
        "linear-gradient(135deg, #8c8f99, #5d606b)",
        "A silent-sweep clock with a birch face.",
    ),
    DemoProduct(
        "plant-pot",
        "Plant pot",
        2200,
        "linear-gradient(135deg, #9bb06a, #6b7f3f)",
        "A terracotta pot with a saucer, 18 cm.",
    ),
    DemoProduct(
        "notebook-set",
        "Notebook set",
        1800,
        "linear-gradient(135deg, #a68cc4, #735a91)",
        "Three dot-grid notebooks with linen covers.",
    ),
)
_PRODUCTS_BY_ID = {p.id: p for p in DEMO_PRODUCTS}

# Client events the pages send, and the fields each may carry.
_EVENT_KINDS = {
    "filter": "value",
    "quantity": "value",
    "scroll": "y",
    "hover": "target",
    "open_product": "product",
}

_STATIC = {"style.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}


def _money(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


class _Site:
    """The page templates, read once from the package data."""

    def __init__(self) -> None:
        root = resources.files("agent.demo").joinpath("site")
        self._text = {
            entry.name: entry.read_text(encoding="utf-8")
            for entry in root.iterdir()
            if entry.name.endswith((".html", ".css", ".js"))
        }

    def static(self, name: str) -> str:
        return self._text[name]

    def page(
        self,
        template: str,
        /,
        *,
        title: str,
        page: str,
        nav: str,
        body_class: str = "",
        **fields: str,
    ) -> str:
        content = Template(self._text[f"{template}.html"]).substitute(fields)
        return Template(self._text["layout.html"]).substitute(
            title=_esc(title), page=page, nav=nav, body_class=body_class, content=content
        )


class _State:
    """The shop's server-side state; every method holds the lock."""

    def __init__(self, variant: Variant) -> None:
        self.variant = variant
        self.lock = threading.Lock()
        self.order_counter = 1000
        self.reset()

    def reset(self) -> None:
        self.signed_in: str | None = None
        self.sign_in_attempts = 0
        self.failed_sign_ins = 0
        self.filter = ""
        self.scroll_y = 0
        self.max_scroll_y = 0
        self.opened_product: str | None = None
        self.viewed_product: str | None = None
        self.quantity: int | None = None
        self.hovered: list[str] = []
        self.cart: dict[str, int] = {}
        self.orders: list[dict[str, Any]] = []
        self.log: list[dict[str, Any]] = []
        self._latest: dict[str, tuple[float, int]] = {}
        self.order_counter = 1000

    def record(self, entry: dict[str, Any]) -> None:
        entry = {"n": len(self.log) + 1, **entry}
        self.log.append(entry)
        logger.debug("demo app: %s", entry)

    def newer(self, kind: str, page_load: float, seq: int) -> bool:
        """Whether a client event is newer than the last of its kind (events may race)."""
        key = (page_load, seq)
        if kind in self._latest and self._latest[kind] >= key:
            return False
        self._latest[kind] = key
        return True

    def cart_lines(self) -> list[dict[str, Any]]:
        return [
            {
                "product": pid,
                "name": _PRODUCTS_BY_ID[pid].name,
                "quantity": qty,
                "price_cents": _PRODUCTS_BY_ID[pid].price_cents,
            }
            for pid, qty in self.cart.items()
        ]

    def snapshot(self) -> dict[str, Any]:
        order = self.orders[-1] if self.orders else None
        return copy.deepcopy(
            {
                "variant": self.variant,
                "signed_in": self.signed_in,
                "sign_in_attempts": self.sign_in_attempts,
                "failed_sign_ins": self.failed_sign_ins,
                "filter": self.filter,
                "scroll_y": self.scroll_y,
                "max_scroll_y": self.max_scroll_y,
                "opened_product": self.opened_product,
                "viewed_product": self.viewed_product,
                "quantity": self.quantity,
                "hovered": self.hovered,
                "cart": self.cart_lines(),
                "order_placed": order is not None,
                "order": order,
                "orders": self.orders,
                "log": self.log,
            }
        )


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
    def _state(self) -> _State:
        return self.server.state

    @property
    def _site(self) -> _Site:
        return self.server.site

    def _nav(self) -> str:
        state = self._state
        if state.signed_in is None:
            return '<a href="/signin">Sign in</a>'
        count = sum(state.cart.values())
        return (
            '<a href="/products">Shop</a>'
            f'<a href="/cart" id="cart-link">Cart<span class="badge">{count}</span></a>'
            f'<span class="user">Signed in as <b>{_esc(state.signed_in)}</b></span>'
            '<a href="/signout">Sign out</a>'
        )

    def _page(
        self,
        template: str,
        /,
        *,
        title: str,
        status: HTTPStatus = HTTPStatus.OK,
        body_class: str = "",
        **fields: str,
    ) -> None:
        text = self._site.page(
            template, title=title, page=template, nav=self._nav(), body_class=body_class, **fields
        )
        self._html(text, status)

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
            self._signin_page("")
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
            self._products_page()
        elif path.startswith("/product/"):
            self._product_page(path.removeprefix("/product/"))
        elif path == "/cart":
            self._cart_page()
        elif path == "/checkout":
            if state.cart:
                self._checkout_page(name=state.signed_in, address="", error="")
            else:
                self._redirect("/cart")
        elif path == "/confirmation":
            if state.orders:
                self._confirmation_page()
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
                self._signin_page("Wrong username or password.")
            return
        state.record({"method": "POST", "path": path, "form": form})
        if state.signed_in is None:
            self._redirect("/signin")
        elif path == "/cart/add":
            product = _PRODUCTS_BY_ID.get(form.get("product", ""))
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
                self._checkout_page(
                    name=name, address=address, error="Please fill in your name and address."
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

    # A form shown again with an error is a 200, as most sites do: an error
    # status would put a console error in every page an agent sees.
    def _signin_page(self, error: str) -> None:
        block = f'<p class="error" id="error">{_esc(error)}</p>' if error else ""
        self._page("signin", title="Sign in", error=block)

    def _products_page(self) -> None:
        cards = "\n".join(
            f'    <div class="card" id="card-{p.id}" data-id="{p.id}" data-name="{_esc(p.name)}">'
            f'<div class="swatch" style="background: {p.color}">{p.initials}</div>'
            f'<div class="body"><div class="name">{_esc(p.name)}</div>'
            f'<div class="price">{_money(p.price_cents)}</div></div></div>'
            for p in DEMO_PRODUCTS
        )
        self._page(
            "products",
            title="Products",
            body_class="products",
            count=str(len(DEMO_PRODUCTS)),
            cards=cards,
        )

    def _product_page(self, product_id: str) -> None:
        product = _PRODUCTS_BY_ID.get(product_id)
        if product is None:
            self._not_found()
            return
        self._state.viewed_product = product.id
        moved = self._state.variant == "moved-button"
        self._page(
            "product",
            title=product.name,
            body_class="moved" if moved else "",
            id=product.id,
            name=_esc(product.name),
            color=product.color,
            initials=product.initials,
            price=_money(product.price_cents),
            price_cents=str(product.price_cents),
            description=_esc(product.description),
            button_style="left: 340px; top: 120px" if moved else "left: 0",
        )

    def _cart_page(self) -> None:
        lines = self._state.cart_lines()
        rows = (
            "\n".join(
                f"        <tr><td>{_esc(li['name'])}</td>"
                f'<td class="num">{_money(li["price_cents"])}</td>'
                f'<td class="num">{li["quantity"]}</td>'
                f'<td class="num">{_money(li["price_cents"] * li["quantity"])}</td></tr>'
                for li in lines
            )
            or '        <tr><td colspan="4" class="muted">Your cart is empty.</td></tr>'
        )
        total = sum(li["price_cents"] * li["quantity"] for li in lines)
        items = sum(li["quantity"] for li in lines)
        summary = (
            f"{items} item{'s' if items != 1 else ''}, {_money(total)} in total."
            if lines
            else "Nothing here yet."
        )
        checkout = (
            '<span class="tip-wrap"><a class="btn" id="checkout" href="/checkout">Checkout</a>'
            '<span class="tooltip" id="checkout-tip">Review your shipping details and '
            "place the order.</span></span>"
            if lines
            else ""
        )
        self._page("cart", title="Cart", rows=rows, summary=summary, checkout=checkout)

    def _checkout_page(self, *, name: str, address: str, error: str) -> None:
        lines = self._state.cart_lines()
        rendered = "\n".join(
            f'      <div class="line"><span>{li["quantity"]} × {_esc(li["name"])}</span>'
            f"<span>{_money(li['price_cents'] * li['quantity'])}</span></div>"
            for li in lines
        )
        total = sum(li["price_cents"] * li["quantity"] for li in lines)
        block = f'<p class="error" id="error">{_esc(error)}</p>' if error else ""
        self._page(
            "checkout",
            title="Checkout",
            error=block,
            name=_esc(name),
            address=_esc(address),
            lines=rendered,
            total=_money(total),
        )

    def _confirmation_page(self) -> None:
        order = self._state.orders[-1]
        items = ", ".join(f"{li['quantity']} × {_esc(li['name'])}" for li in order["items"])
        self._page(
            "confirmation",
            title="Order placed",
            number=_esc(order["number"]),
            items=items,
            name=_esc(order["name"]),
            address=_esc(order["address"]),
            total=_money(order["total_cents"]),
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.exception("demo app: error while serving %s", client_address)

    def __init__(self, address: tuple[str, int], state: _State, site: _Site) -> None:
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
        self._state = _State(variant)
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
            self._server = _Server(self._address, self._state, _Site())
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
