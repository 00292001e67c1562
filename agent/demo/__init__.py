"""The built-in demo: a small web shop and a scripted model that buys lamps in it."""

from agent.demo._app import DemoApp
from agent.demo._script import (
    DEMO_DISPLAY,
    DEMO_FINAL_OUTPUT,
    DEMO_MODEL,
    DEMO_ORDER_NUMBER,
    DEMO_SAFETY_CODE,
    DEMO_SECRETS,
    DEMO_STEPS,
    DEMO_TASK,
    DemoStep,
    demo_script,
)
from agent.demo._shop import (
    DEMO_PASSWORD,
    DEMO_PRODUCTS,
    DEMO_USERNAME,
    DemoProduct,
    Variant,
)

__all__ = [
    "DEMO_DISPLAY",
    "DEMO_FINAL_OUTPUT",
    "DEMO_MODEL",
    "DEMO_ORDER_NUMBER",
    "DEMO_PASSWORD",
    "DEMO_PRODUCTS",
    "DEMO_SAFETY_CODE",
    "DEMO_SECRETS",
    "DEMO_STEPS",
    "DEMO_TASK",
    "DEMO_USERNAME",
    "DemoApp",
    "DemoProduct",
    "DemoStep",
    "Variant",
    "demo_script",
]
