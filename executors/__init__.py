"""Executors: the `Computer` protocol and its browser and desktop implementations."""

from executors._browser import PlaywrightComputer
from executors._computer import (
    ALL_CAPABILITIES,
    Button,
    Capability,
    Computer,
    ExecutorEvent,
    ImageFormat,
    Point,
    Screenshot,
    SettleResult,
    Size,
)
from executors._desktop import DesktopComputer
from executors._errors import (
    ActionFailedError,
    CaptureError,
    ExecutorClosedError,
    ExecutorError,
    HostDisplayRefusedError,
    HostFailSafeError,
    UnknownKeyError,
    UnsupportedActionError,
)
from executors._host import HostComputer
from executors._keys import (
    CANONICAL_KEYS,
    MODIFIERS,
    is_modifier,
    needs_shift,
    normalize_chord,
    normalize_key,
    playwright_key,
    pyautogui_key,
    split_chord,
    x11_keysym,
)

__all__ = [
    "ALL_CAPABILITIES",
    "CANONICAL_KEYS",
    "MODIFIERS",
    "ActionFailedError",
    "Button",
    "Capability",
    "CaptureError",
    "Computer",
    "DesktopComputer",
    "ExecutorClosedError",
    "ExecutorError",
    "ExecutorEvent",
    "HostComputer",
    "HostDisplayRefusedError",
    "HostFailSafeError",
    "ImageFormat",
    "PlaywrightComputer",
    "Point",
    "Screenshot",
    "SettleResult",
    "Size",
    "UnknownKeyError",
    "UnsupportedActionError",
    "is_modifier",
    "needs_shift",
    "normalize_chord",
    "normalize_key",
    "playwright_key",
    "pyautogui_key",
    "split_chord",
    "x11_keysym",
]
