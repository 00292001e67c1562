"""screenloop's pytest plugin (registered through the ``pytest11`` entry point).

Work in progress: fixtures, marker, options and cassettes are being added.
"""

from __future__ import annotations

import pytest

__all__: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``screenloop`` marker."""
    config.addinivalue_line(
        "markers",
        "screenloop(url=, display=, model=, max_steps=, launch=[...]): screenloop test settings",
    )
