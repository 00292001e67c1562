"""Fixtures for agent tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from loop_harness import Harness


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    """A fresh harness writing its run directory under tmp_path."""
    return Harness(tmp_path)
