"""The shop's catalog and its server-side state.

The shop has one shopper at a time: the sign-in and the cart are server state,
not per-cookie sessions, which keeps runs deterministic. `ShopState.snapshot`
is what ``GET /api/state`` returns.
"""

from __future__ import annotations

import copy
import logging
import threading
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_PRODUCTS",
    "DEMO_USERNAME",
    "PRODUCTS_BY_ID",
    "DemoProduct",
    "ShopState",
    "Variant",
]

logger = logging.getLogger(__name__)

Variant = Literal["default", "moved-button", "one-word"]

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
PRODUCTS_BY_ID = {p.id: p for p in DEMO_PRODUCTS}


class ShopState:
    """The shop's server-side state; every method holds the lock."""

    def __init__(self, variant: Variant) -> None:
        self.variant = variant
        self.lock = threading.Lock()
        self.order_counter = 1000
        self.reset()

    def reset(self) -> None:
        """Forget the shopper: signed out, empty cart, no orders, empty log."""
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
        """Append a request or client event to the log."""
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
        """The cart as product, name, quantity and unit price rows."""
        return [
            {
                "product": pid,
                "name": PRODUCTS_BY_ID[pid].name,
                "quantity": qty,
                "price_cents": PRODUCTS_BY_ID[pid].price_cents,
            }
            for pid, qty in self.cart.items()
        ]

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the state as JSON-ready data."""
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
