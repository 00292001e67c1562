"""A desktop RPA script, as a user runs one: `screenloop run --desktop --launch` with
a Debian program, the scripted model acting on it, and the program's own effect
as the proof.

- **nano in xterm**: the model types a line, saves with Ctrl+O and Enter (in the
  key names real models send: OpenAI's upper case, Lightcone's lower case) and
  leaves with Ctrl+X; the file holds the line.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_support import screenloop

from agent._cli._exit_codes import ExitCode
from agent.testing import ScriptedResponsesServer, computer_call, message, turn

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(
        any(shutil.which(p) is None for p in ("Xvfb", "xterm", "nano")),
        reason="needs Xvfb, xterm and nano (make apt)",
    ),
]


def test_nano_in_xterm_saves_what_the_model_typed(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    script = [
        turn(computer_call("type", text="groceries: milk, eggs")),
        turn(computer_call("keypress", keys=["CTRL", "O"])),
        turn(computer_call("keypress", keys=["Enter"])),
        turn(computer_call("keypress", keys="ctrl+x")),
        turn(message("saved the note")),
    ]
    with ScriptedResponsesServer(script) as server:
        res = screenloop(
            "run",
            "write the shopping list into the note and save it",
            "--desktop",
            "--launch",
            f"xterm -e nano {note}",
            "--display",
            "800x600",
            "--base-url",
            server.base_url,
            "--model",
            "tzafon.northstar-cua-fast",
            "--record",
            str(tmp_path / "run"),
            "--json",
        )
        assert len(server.requests) == 5
    assert res.code == ExitCode.COMPLETED, res.stderr
    assert note.read_text() == "groceries: milk, eggs\n"
    run_json = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run_json["status"] == "completed", run_json
