"""The stylesheet and script inlined into every ``report.html``.

They live as package data (``agent/report_assets/``) so they read as CSS and JS;
no external assets: font stacks, colors and shapes only.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["PHASE_COLORS", "report_css", "report_js"]

# Per-step phases of docs/run-directory.md, in the order a step spends them.
PHASE_COLORS: dict[str, str] = {
    "model_s": "#6366f1",
    "parse_s": "#a5b4fc",
    "safety_s": "#f59e0b",
    "action_s": "#10b981",
    "settle_s": "#6ee7b7",
    "capture_s": "#0ea5e9",
    "encode_s": "#7dd3fc",
    "request_build_s": "#d946ef",
    "record_s": "#94a3b8",
}


@cache
def _asset(name: str) -> str:
    return (
        resources.files("agent")
        .joinpath("report_assets")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )


def report_css() -> str:
    """The report's stylesheet."""
    return _asset("report.css")


def report_js() -> str:
    """The report's script (keyboard navigation, enlarge on click)."""
    return _asset("report.js")
