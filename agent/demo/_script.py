"""The bundled demo model: a scripted Northstar-style run through the demo shop.

The script speaks what the default model speaks: the Lightcone dialect with
coordinates on the 0-999 grid (``normalized``: ``pixel = int(v / 1000 * dim)``
since issue 17, see `executors._geometry`) for a 1280x720 display. The points
below were chosen with the earlier ``round(v * (dim - 1) / 999)``; the two
differ by at most ~1.3 px, well inside every target. It signs in (the password is a
``{{secret:demo_password}}`` placeholder the runtime substitutes), browses and
filters the product list, opens the desk lamp, drags the quantity slider to 3,
adds it to the cart, checks out and places the order behind a pending safety
check, then answers.

How the coordinates were found: once, while writing this file, the real pages
of `DemoApp` were opened in headless Chromium (Playwright, viewport 1280x720,
device scale factor 1) and each target's ``getBoundingClientRect()`` measured;
a point well inside each target was chosen in pixels and converted with
``v = round(pixel * 999 / (dim - 1))``. The measured rectangles (CSS pixels,
left/top/right/bottom) were:

======================  ===========================  ========================
page                    element                      rectangle
======================  ===========================  ========================
/signin                 ``#username``                 462, 300.4, 818, 344.4
/signin                 ``#password``                 462, 388, 818, 432
/products               ``#filter`` (fixed bar)       160, 70, 540, 114
/products               ``#grid``                     160, 152, 1120, 1186
/products ("lamp")      ``#card-desk-lamp``           160, 152, 460, 388
/product/desk-lamp      ``#quantity`` (range 1-5)     620, 314.6, 920, 342.6
/product/desk-lamp      ``#add-to-cart``              620, 432.8, 752.5, 476.8
/cart                   ``#checkout``                 967.1, 327, 1088, 371
/checkout               ``#name``                     192, 238, 716, 282
/checkout               ``#address``                  192, 325.6, 716, 369.6
/checkout               ``#place-order``              812, 311, 1088, 355
======================  ===========================  ========================

The slider's thumb is 28 px wide, so value ``k`` sits at
``x = 620 + 14 + (k - 1) * (300 - 28) / 4``: 634 for 1, 770 for 3.
``tests/agent/test_demo_app.py`` re-measures every target and fails when a
scripted point no longer lands inside it, so this table cannot rot silently.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.demo._shop import DEMO_PASSWORD, DEMO_USERNAME

__all__ = [
    "DEMO_DISPLAY",
    "DEMO_FINAL_OUTPUT",
    "DEMO_MODEL",
    "DEMO_ORDER_NUMBER",
    "DEMO_SAFETY_CODE",
    "DEMO_SECRETS",
    "DEMO_STEPS",
    "DEMO_TASK",
    "DemoStep",
    "demo_script",
]

DEMO_MODEL = "tzafon.northstar-cua-fast"
DEMO_DISPLAY = (1280, 720)
DEMO_SECRETS: Mapping[str, str] = {"demo_password": DEMO_PASSWORD}
DEMO_SAFETY_CODE = "sensitive_action"
DEMO_ORDER_NUMBER = "PP-1001"  # the first order of a fresh DemoApp
DEMO_TASK = (
    f"In the Pebble & Pine shop, sign in as {DEMO_USERNAME} (the password is the secret "
    "demo_password), buy 3 desk lamps shipped to Ada Lovelace, 12 Analytical Way, London, "
    "and tell me the order number."
)
DEMO_FINAL_OUTPUT = (
    f"Order {DEMO_ORDER_NUMBER} is placed: 3 × Desk lamp, $117.00 in total, shipped to "
    "Ada Lovelace, 12 Analytical Way, London."
)


@dataclass(frozen=True)
class DemoStep:
    """One scripted computer_call and what it is meant to hit.

    `action` is in the Lightcone dialect (0-999 coordinates). `page` is the path
    the browser shows when the action runs. `targets` names, for each point of
    the action in order (one for click-like actions, one per path point for a
    drag), the CSS selector of the element the point must land in.
    """

    action: Mapping[str, Any]
    page: str
    targets: tuple[str, ...] = ()
    reasoning: str | None = None
    safety_checks: tuple[Mapping[str, str], ...] = field(default=())


_PLACE_ORDER_CHECK = {
    "id": "sc_demo_place_order",
    "code": DEMO_SAFETY_CODE,
    "message": "The model is about to place an order (a purchase on the user's behalf).",
}

DEMO_STEPS: tuple[DemoStep, ...] = (
    DemoStep(
        {"type": "click", "button": "left", "x": 500, "y": 447},
        "/signin",
        ("#username",),
        reasoning="The shop shows a sign-in form. I'll start with the username field.",
    ),
    DemoStep({"type": "type", "text": DEMO_USERNAME}, "/signin"),
    DemoStep({"type": "click", "button": "left", "x": 500, "y": 570}, "/signin", ("#password",)),
    DemoStep({"type": "type", "text": "{{secret:demo_password}}"}, "/signin"),
    DemoStep({"type": "keypress", "keys": ["Enter"]}, "/signin"),
    DemoStep(
        {"type": "scroll", "x": 500, "y": 625, "scroll_x": 0, "scroll_y": 480},
        "/products",
        ("#grid",),
        reasoning="Signed in. Twelve products; let me look further down the list.",
    ),
    DemoStep(
        {"type": "click", "button": "left", "x": 273, "y": 128},
        "/products",
        ("#filter",),
        reasoning="Scrolling is slow; the filter box will find the lamp faster.",
    ),
    DemoStep({"type": "type", "text": "desk"}, "/products"),
    DemoStep(
        {"type": "keypress", "keys": ["ctrl", "a"]},
        "/products",
        reasoning="'desk' also matches the desk and the organizer. I'll replace it with 'lamp'.",
    ),
    DemoStep({"type": "type", "text": "lamp"}, "/products"),
    DemoStep(
        {"type": "double_click", "x": 242, "y": 375},
        "/products",
        ("#card-desk-lamp",),
        reasoning="The hint says to double-click a product to open it.",
    ),
    DemoStep(
        {
            "type": "drag",
            "path": [{"x": 495, "y": 457}, {"x": 548, "y": 457}, {"x": 601, "y": 457}],
        },
        "/product/desk-lamp",
        ("#quantity", "#quantity", "#quantity"),
        reasoning="Quantity is a slider at 1; I'll drag its handle to 3.",
    ),
    DemoStep(
        {"type": "click", "button": "left", "x": 536, "y": 632},
        "/product/desk-lamp",
        ("#add-to-cart",),
    ),
    DemoStep({"type": "move", "x": 802, "y": 485}, "/cart", ("#checkout",)),
    DemoStep(
        {"type": "wait"},
        "/cart",
        reasoning="The cart holds 3 desk lamps, $117.00. The tooltip explains Checkout.",
    ),
    DemoStep({"type": "click", "button": "left", "x": 802, "y": 485}, "/cart", ("#checkout",)),
    DemoStep(
        {"type": "triple_click", "x": 355, "y": 361},
        "/checkout",
        ("#name",),
        reasoning="The name field says 'ada'; the order should go to Ada Lovelace.",
    ),
    DemoStep({"type": "type", "text": "Ada Lovelace"}, "/checkout"),
    DemoStep(
        {"type": "point_and_type", "x": 355, "y": 484, "text": "12 Analytical Way, London"},
        "/checkout",
        ("#address",),
    ),
    DemoStep(
        {"type": "screenshot"},
        "/checkout",
        reasoning="Before paying, let me look at the whole form once more.",
    ),
    DemoStep(
        {"type": "click", "button": "left", "x": 742, "y": 463},
        "/checkout",
        ("#place-order",),
        reasoning="Name, address and total are right. Placing the order.",
        safety_checks=(_PLACE_ORDER_CHECK,),
    ),
)


def demo_script() -> list[dict[str, Any]]:
    """The demo as turns for `agent.testing.ScriptedResponsesServer`.

    One turn per `DEMO_STEPS` entry (an optional reasoning item and one
    computer_call with explicit ids), then a final assistant message. The list
    is fresh on every call and JSON-serializable (``screenloop serve-script``).
    """
    turns: list[dict[str, Any]] = []
    for number, step in enumerate(DEMO_STEPS, start=1):
        output: list[dict[str, Any]] = []
        if step.reasoning:
            output.append(
                {
                    "type": "reasoning",
                    "id": f"rs_demo_{number:02d}",
                    "summary": [{"type": "summary_text", "text": step.reasoning}],
                }
            )
        output.append(
            {
                "type": "computer_call",
                "id": f"cu_demo_{number:02d}",
                "call_id": f"call_demo_{number:02d}",
                "status": "completed",
                "action": copy.deepcopy(dict(step.action)),
                "pending_safety_checks": [dict(check) for check in step.safety_checks],
            }
        )
        turns.append({"output": output})
    turns.append(
        {
            "output": [
                {
                    "type": "message",
                    "id": "msg_demo_final",
                    "role": "assistant",
                    "status": "completed",
                    "content": [
                        {"type": "output_text", "text": DEMO_FINAL_OUTPUT, "annotations": []}
                    ],
                }
            ]
        }
    )
    return turns
