"""The pytest plugin's cassette summary: which tests replayed, recorded or healed.

Counts come from the teardown reports' ``user_properties`` (the ``agent``
fixture adds ``screenloop_cassette``), so they also arrive from xdist workers.
"""

from __future__ import annotations

import pytest

__all__ = ["OUTCOMES", "CassetteSummary"]

OUTCOMES = ("recorded", "replayed", "extended", "healed", "mismatched")


class CassetteSummary:
    """A plugin object registered by `pytest_configure`: collects and prints outcomes."""

    def __init__(self) -> None:
        self.tests: dict[str, list[tuple[str, str]]] = {k: [] for k in OUTCOMES}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count one test's cassette outcome (from its teardown report)."""
        if report.when != "teardown":
            return
        props = dict(report.user_properties)
        status = props.get("screenloop_cassette")
        if status in self.tests:
            message = str(props.get("screenloop_cassette_message", ""))
            self.tests[str(status)].append((report.nodeid, message))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """One line of counts, then each healed, mismatched, recorded and extended test."""
        if not any(self.tests.values()):
            return
        counts = ", ".join(f"{len(self.tests[k])} {k}" for k in OUTCOMES if self.tests[k])
        terminalreporter.write_sep("-", "screenloop cassettes")
        terminalreporter.write_line(f"screenloop: {counts}")
        for kind in ("healed", "mismatched", "recorded", "extended"):
            for nodeid, message in self.tests[kind]:
                terminalreporter.write_line(f"  {kind.upper()} {nodeid}: {message}")
