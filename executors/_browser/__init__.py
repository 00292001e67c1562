"""`PlaywrightComputer`: the `Computer` protocol on a real Chromium, built from parts."""

from executors._browser._dialogs import DIALOG_POLICIES, DialogPolicy
from executors._browser._playwright import BROWSER_CAPABILITIES, PlaywrightComputer

__all__ = ["BROWSER_CAPABILITIES", "DIALOG_POLICIES", "DialogPolicy", "PlaywrightComputer"]
