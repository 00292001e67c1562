"""`DesktopComputer`: the `Computer` protocol on an X display, built from parts."""

from executors._desktop._capture import encode_bgra
from executors._desktop._computer import DESKTOP_CAPABILITIES, DesktopComputer

__all__ = ["DESKTOP_CAPABILITIES", "DesktopComputer", "encode_bgra"]
