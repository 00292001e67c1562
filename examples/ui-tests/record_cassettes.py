"""Re-record this suite's cassettes against the scripted "model" in model_script.json.

    .venv/bin/python examples/ui-tests/record_cassettes.py

Starts `agent.testing.ScriptedResponsesServer` with the script on loopback,
runs the suite once with ``--screenloop-record=all`` pointed at it, and
leaves the cassettes in ``cassettes/``. With a real model you would instead
run ``pytest examples/ui-tests --screenloop-record=all`` with
``TZAFON_API_KEY`` set (and ``--screenloop-base-url`` for another server).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agent.testing import ScriptedResponsesServer

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Record every cassette of the suite; the exit status is pytest's."""
    with ScriptedResponsesServer(HERE / "model_script.json") as server:
        argv = [
            sys.executable,
            "-m",
            "pytest",
            str(HERE),
            "-p",
            "no:xdist",  # one process: the script's turns are in test order
            "--screenloop-record=all",
            f"--screenloop-base-url={server.base_url}",
            "-q",
        ]
        return subprocess.call(argv, cwd=HERE)


if __name__ == "__main__":
    raise SystemExit(main())
