"""The shop's pages: templates from the package's ``site/`` folder, filled per request.

Plain functions of the shop state that return HTML; the HTTP handler in
agent/demo/_app.py decides which page to send. Every value drawn from the
state or a form is HTML-escaped.
"""

from __future__ import annotations

import html
from importlib import resources
from string import Template

from agent.demo._shop import DEMO_PRODUCTS, DemoProduct, ShopState

__all__ = [
    "Site",
    "cart_page",
    "checkout_page",
    "confirmation_page",
    "product_page",
    "products_page",
    "signin_page",
]


def _money(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


class Site:
    """The page templates, read once from the package data."""

    def __init__(self) -> None:
        root = resources.files("agent.demo").joinpath("site")
        self._text = {
            entry.name: entry.read_text(encoding="utf-8")
            for entry in root.iterdir()
            if entry.name.endswith((".html", ".css", ".js"))
        }

    def static(self, name: str) -> str:
        """The text of a static file (``style.css``, ``app.js``)."""
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
        """`template` filled with `fields`, inside the layout."""
        content = Template(self._text[f"{template}.html"]).substitute(fields)
        return Template(self._text["layout.html"]).substitute(
            title=_esc(title), page=page, nav=nav, body_class=body_class, content=content
        )


def _nav(state: ShopState) -> str:
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
    site: Site, state: ShopState, template: str, /, *, title: str, body_class: str = "", **f: str
) -> str:
    return site.page(
        template, title=title, page=template, nav=_nav(state), body_class=body_class, **f
    )


# A form shown again with an error is a 200, as most sites do: an error
# status would put a console error in every page an agent sees.
def signin_page(site: Site, state: ShopState, error: str) -> str:
    """The sign-in form, with `error` above it when not empty."""
    block = f'<p class="error" id="error">{_esc(error)}</p>' if error else ""
    return _page(site, state, "signin", title="Sign in", error=block)


def products_page(site: Site, state: ShopState) -> str:
    """The product list with its filter box."""
    cards = "\n".join(
        f'    <div class="card" id="card-{p.id}" data-id="{p.id}" data-name="{_esc(p.name)}">'
        f'<div class="swatch" style="background: {p.color}">{p.initials}</div>'
        f'<div class="body"><div class="name">{_esc(p.name)}</div>'
        f'<div class="price">{_money(p.price_cents)}</div></div></div>'
        for p in DEMO_PRODUCTS
    )
    return _page(
        site,
        state,
        "products",
        title="Products",
        body_class="products",
        count=str(len(DEMO_PRODUCTS)),
        cards=cards,
    )


def product_page(site: Site, state: ShopState, product: DemoProduct) -> str:
    """One product with its quantity slider and "Add to cart" (moved in that variant)."""
    moved = state.variant == "moved-button"
    name = product.name
    if state.variant == "one-word" and product.id == "ceramic-mug":
        name = "Ceramic cup"
    return _page(
        site,
        state,
        "product",
        title=name,
        body_class="moved" if moved else "",
        id=product.id,
        name=_esc(name),
        color=product.color,
        initials=product.initials,
        price=_money(product.price_cents),
        price_cents=str(product.price_cents),
        description=_esc(product.description),
        button_style="left: 340px; top: 120px" if moved else "left: 0",
    )


def cart_page(site: Site, state: ShopState) -> str:
    """The cart's lines and total, with a Checkout button when it is not empty."""
    lines = state.cart_lines()
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
    return _page(site, state, "cart", title="Cart", rows=rows, summary=summary, checkout=checkout)


def checkout_page(site: Site, state: ShopState, *, name: str, address: str, error: str) -> str:
    """The shipping form with the order's lines, filled with what was entered."""
    lines = state.cart_lines()
    rendered = "\n".join(
        f'      <div class="line"><span>{li["quantity"]} × {_esc(li["name"])}</span>'
        f"<span>{_money(li['price_cents'] * li['quantity'])}</span></div>"
        for li in lines
    )
    total = sum(li["price_cents"] * li["quantity"] for li in lines)
    block = f'<p class="error" id="error">{_esc(error)}</p>' if error else ""
    return _page(
        site,
        state,
        "checkout",
        title="Checkout",
        error=block,
        name=_esc(name),
        address=_esc(address),
        lines=rendered,
        total=_money(total),
    )


def confirmation_page(site: Site, state: ShopState) -> str:
    """The "Order placed" page: the last order's number, items, address and total."""
    order = state.orders[-1]
    items = ", ".join(f"{li['quantity']} × {_esc(li['name'])}" for li in order["items"])
    return _page(
        site,
        state,
        "confirmation",
        title="Order placed",
        number=_esc(order["number"]),
        items=items,
        name=_esc(order["name"]),
        address=_esc(order["address"]),
        total=_money(order["total_cents"]),
    )
