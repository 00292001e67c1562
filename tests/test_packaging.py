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


@pytest.mark.timeout(300)
@pytest.mark.skipif(shutil.which("uv") is None, reason="needs uv")
def test_the_built_wheel_declares_one_xlib_and_ships_types_and_license(tmp_path: Path) -> None:
    """What `pip install screenloop` / `screenloop[host]` get, read from the built wheel."""
    import zipfile
    from email.parser import Parser

    proc = subprocess.run(
        ["uv", "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("screenloop-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(zf.read(meta_name).decode())
    assert {"agent/py.typed", "executors/py.typed", "sandbox/py.typed"} <= names
    assert any(n.endswith("/licenses/LICENSE") for n in names)
    requires = meta.get_all("Requires-Dist") or []
    # python3-xlib would install a second `Xlib` package over python-xlib's
    assert not [r for r in requires if r.lower().startswith("python3-xlib")]
    assert any(r.startswith("python-xlib>=") for r in requires)
    # pyautogui (which pulls python3-xlib on Linux) only in the host extra, never on Linux
    autogui = [r for r in requires if r.lower().startswith("pyautogui")]
    assert autogui and all("extra == 'host'" in r and "linux" not in r for r in autogui)
    assert all("win32" in r or "darwin" in r for r in autogui)
    assert any(r.startswith("pyyaml>=") for r in requires)
    assert {"host", "pytest", "lightcone"} <= set(meta.get_all("Provides-Extra") or [])
