"""A desktop RPA script: type a command into a terminal on a private X display.

    python examples/desktop_rpa.py                  # a scripted model (no API key needed)
    python examples/desktop_rpa.py --base-url https://api.tzafon.ai/v1   # a real model
                                                    # (key from TZAFON_API_KEY)

The display is a fresh Xvfb (VirtualDisplay) with an xterm on it; nobody's real
desktop is touched. Without --base-url a ScriptedResponsesServer plays the model.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

from agent import Agent
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import DesktopComputer
from sandbox import VirtualDisplay


def script_for(out: Path) -> list[dict[str, object]]:
    """What a Northstar model would answer (0-999 grid): focus the terminal, run a command."""
    return [
        turn(computer_call("click", x=500, y=500)),
        turn(computer_call("type", text=f"echo 'report filed' > {out}")),
        turn(computer_call("keypress", keys=["Return"])),
        turn(computer_call("wait")),
        turn(message(f"Wrote the report to {out}.")),
    ]


async def main(base_url: str | None, model: str) -> int:
    out = Path(tempfile.mkdtemp()) / "report.txt"
    with contextlib.ExitStack() as stack:
        if base_url is None:  # play the model with a script
            base_url = stack.enter_context(ScriptedResponsesServer(script_for(out))).base_url
            os.environ.setdefault("TZAFON_API_KEY", "scripted")
        display = stack.enter_context(VirtualDisplay(1024, 640))
        display.launch(["xterm", "-geometry", "120x40+0+0"])
        computer = DesktopComputer(display)
        agent = Agent(computer, model, base_url=base_url, max_steps=15, close_computer=True)
        result = await agent.run(f"In the terminal, write 'report filed' into {out}.")
    written = out.read_text().strip() if out.exists() else "(nothing)"
    print(f"{result.status}: {result.final_output}\nfile says: {written}\nrecord: {result.run_dir}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("LIGHTCONE_BASE_URL"))
    parser.add_argument("--model", default="tzafon.northstar-cua-fast")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.base_url, args.model)))
