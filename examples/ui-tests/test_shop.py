"""UI tests of the demo shop, written in plain words.

Recorded once against a model, replayed from ``cassettes/`` in CI with no key
and no network: ``pytest examples/ui-tests --screenloop-record=none``.
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from agent.demo import DemoApp


class Product(BaseModel):
    """What a product page shows."""

    name: str
    price: str


@pytest.mark.screenloop(url="/products", max_steps=5)
def test_open_a_product(agent):
    agent.run("Open the page of the Ceramic mug")
    product = agent.extract("Which product does this page show, and at what price?", Product)
    assert product == Product(name="Ceramic mug", price="$16.00")


@pytest.mark.screenloop(url="/product/desk-lamp", max_steps=5)
def test_add_to_cart(agent, shop: DemoApp):
    agent.run("Add the desk lamp to the cart")
    assert agent.check("The cart lists one Desk lamp")
    assert [(line["name"], line["quantity"]) for line in shop.state()["cart"]] == [("Desk lamp", 1)]


@pytest.mark.screenloop(url="/products", max_steps=6)
def test_filter_products(agent, shop: DemoApp):
    agent.run("Filter the product list so that only lamps are shown")
    assert agent.extract("How many products are listed?", int) == 2
    assert agent.check("Every product listed is a lamp")
    assert shop.state()["filter"] == "lamp"
