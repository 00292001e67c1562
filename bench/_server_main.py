"""Child process for `bench._common.ServerProcess`: a scripted Responses server.

Usage: ``python -m bench._server_main SCRIPT.json``. Prints its base URL on one
line, serves until its stdin closes, then stops. Only the last few requests are
kept (the server records every request by default, which over a 200-step
full-history run would hold gigabytes).
"""

from __future__ import annotations

import collections
import sys

from agent.testing import Script, ScriptedResponsesServer

__all__: list[str] = []


def main() -> None:
    """Serve the script named on the command line until stdin closes."""
    server = ScriptedResponsesServer(Script.from_file(sys.argv[1]), model="bench-model")
    server.requests = collections.deque(maxlen=4)  # type: ignore[assignment]
    with server:
        print(server.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
