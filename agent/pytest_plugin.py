"""screenloop's pytest plugin: UI tests in plain words, replayed from cassettes in CI.

Installed with the package (``pytest11`` entry point ``screenloop``); no
conftest needed::

    @pytest.mark.screenloop(url="/products", max_steps=10)
    def test_filter(agent):
        agent.run("Show only the lamps")
        assert agent.check("Only lamps are listed")

Fixtures: ``computer`` (headless Chromium), ``desktop`` (Xvfb + launch
commands), ``agent`` (runs, checks, extractions; records into
``<run-dir>/<test-slug>``), ``screenloop_url`` (override it to start your app),
``screenloop_settings``, ``screenloop_portal``.

Marker ``@pytest.mark.screenloop(...)``: ``url`` (joined to ``screenloop_url``),
``display`` ((w, h) or "WxH"), ``model``, ``max_steps``, ``launch`` (commands
for ``desktop``), ``secrets``, ``safety``, ``coordinate_space``, ``history``,
``instructions``, ``threshold``, ``check_threshold``.

Options (each also an ini setting, ``screenloop_model`` ...):
``--screenloop-model``, ``--screenloop-base-url``, ``--screenloop-record``
(``none|once|new|all``; default ``none`` when the ``CI`` variable is set, else
``once``), ``--screenloop-heal``, ``--screenloop-headed``,
``--screenloop-run-dir`` (default ``runs/pytest``), ``--screenloop-url``,
``--screenloop-display``, ``--screenloop-threshold``, ``--screenloop-check-threshold``,
``--screenloop-max-steps``.

The work lives in agent/_pytest/_fixtures.py (fixtures), agent/_pytest/_agent.py
(the test-facing agent), agent/_pytest/_settings.py (settings), agent/_pytest/_portal.py
(the per-test event loop), agent/_pytest/_cassette.py and
agent/_pytest/_cassette_transport.py (cassettes), and agent/_pytest/_screen_checks.py
(structured-output checks).
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from agent._pytest._fixtures import (
    AGENT_KEY,
    CALL_PASSED_KEY,
    agent,
    computer,
    desktop,
    screenloop_portal,
    screenloop_settings,
    screenloop_url,
)
from agent._pytest._summary import CassetteSummary

__all__ = [
    "agent",
    "computer",
    "desktop",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtest_makereport",
    "screenloop_portal",
    "screenloop_settings",
    "screenloop_url",
]


_OPTIONS: tuple[tuple[str, str, dict[str, object]], ...] = (
    ("model", "the model name (default tzafon.northstar-cua-fast)", {}),
    ("base-url", "the Responses API base URL to record against (default: from env)", {}),
    (
        "record",
        "cassette record mode: none (replay only), once (record if missing), new (record "
        "requests beyond the cassette), all (always record). Default: none if CI is set, else once",
        {"choices": ("none", "once", "new", "all")},
    ),
    ("run-dir", "root of the tests' run directories (default runs/pytest)", {}),
    ("url", "the base URL of the app under test (start URL of the computer fixture)", {}),
    ("display", "the display size WxH (default 1280x720)", {}),
    (
        "threshold",
        "screenshot match threshold for action steps, screen distance 0..1 as in "
        "`screenloop replay --threshold` (default 0.05; a value above 1 is the old unit, "
        "dHash bits, for cassettes recorded without fingerprints)",
        {},
    ),
    (
        "check-threshold",
        "screenshot match threshold for check/extract requests, screen distance 0..1 over "
        "8 px tiles (default 0.02): a recorded answer replays only on the same screen",
        {},
    ),
    ("max-steps", "max steps per agent run (default 30)", {}),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the command-line options and their ini settings."""
    group = parser.getgroup("screenloop", "screenloop UI tests")
    for name, help_text, extra in _OPTIONS:
        group.addoption(
            f"--screenloop-{name}",
            dest=f"screenloop_{name.replace('-', '_')}",
            default=None,
            help=help_text,
            **extra,
        )
        parser.addini(f"screenloop_{name.replace('-', '_')}", help_text, default=None)
    group.addoption(
        "--screenloop-heal",
        action="store_true",
        default=False,
        help="on a cassette mismatch, call the live model from that step on and rewrite the "
        "cassette (strict failure otherwise)",
    )
    parser.addini("screenloop_heal", "heal cassettes on mismatch (true/false)", default=None)
    group.addoption(
        "--screenloop-headed",
        action="store_true",
        default=False,
        help="show the browser (needs DISPLAY)",
    )
    parser.addini("screenloop_headed", "run the browser headed (true/false)", default=None)


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and the cassette summary."""
    config.addinivalue_line(
        "markers",
        "screenloop(url=, display=, model=, max_steps=, launch=[...], secrets=, safety=, "
        "coordinate_space=, history=, instructions=, threshold=, check_threshold=): "
        "screenloop test settings",
    )
    if not config.pluginmanager.has_plugin("screenloop-summary"):
        config.pluginmanager.register(CassetteSummary(), "screenloop-summary")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether the test passed; on failure, add where to look to the report."""
    report = yield
    if report.when == "call":
        item.stash[CALL_PASSED_KEY] = report.passed
    wrapper = item.stash.get(AGENT_KEY, None)
    if wrapper is not None and report.failed and report.when in ("call", "setup"):
        lines = [line.strip() for line in wrapper.location_lines()]
        if wrapper.transport.mismatch:
            lines.append("cassette mismatch: " + wrapper.transport.mismatch)
        report.sections.append(("screenloop", "\n".join(lines)))
    return report
