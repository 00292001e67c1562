"""What an installed screenloop promises: a version, type information, true lower bounds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import agent

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_printed_by_the_cli_and_exported() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"screenloop {agent.__version__}"


@pytest.mark.parametrize("package", ["agent", "executors", "sandbox"])
def test_each_package_is_marked_typed(package: str) -> None:
    assert (ROOT / package / "py.typed").is_file()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.timeout(900)
@pytest.mark.skipif(shutil.which("uv") is None, reason="needs uv")
def test_the_declared_lower_bounds_work() -> None:
    proc = subprocess.run(
        [str(ROOT / "scripts" / "min-deps-smoke.sh")], capture_output=True, text=True, timeout=880
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "min-deps smoke: ok" in proc.stdout


def test_the_pytest_plugin_imports_nothing_heavy_until_a_fixture_is_used() -> None:
    # Every pytest run in an environment with screenloop installed imports the plugin;
    # measured with -X importtime: ~1.5 s before lazy imports, ~0.005 s after.
    code = (
        "import sys, pytest, agent.pytest_plugin\n"
        "heavy = ('pydantic', 'httpx', 'playwright', 'PIL', 'executors', 'sandbox', 'rich')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_every_public_name_of_agent_resolves_lazily() -> None:
    assert set(agent._LAZY) == set(agent.__all__)
    for name in agent.__all__:
        assert getattr(agent, name) is not None
