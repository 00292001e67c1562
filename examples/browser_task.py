"""A browser task: search a small page and read the answer back.

    python examples/browser_task.py                 # a scripted model (no API key needed)
    python examples/browser_task.py --base-url https://api.tzafon.ai/v1   # a real model
                                                    # (key from TZAFON_API_KEY)

Without --base-url (or LIGHTCONE_BASE_URL) the example starts a
ScriptedResponsesServer that plays the model's part, so it runs offline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from agent import Agent
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import PlaywrightComputer
from sandbox import DomainPolicy

PAGE = b"""<!doctype html><title>Library</title>
<input id=q style="position:absolute;left:40px;top:40px;width:400px" placeholder="Search">
<script>q.onchange = () => document.title = 'Results for ' + q.value</script>"""

# What a Northstar model would answer, on its 0-999 grid (the input is near the top left).
SCRIPT = [
    turn(computer_call("click", x=150, y=70)),
    turn(computer_call("type", text="screenloop")),
    turn(computer_call("keypress", keys=["Enter"])),
    turn(message("Searched the library for 'screenloop'.")),
]


class Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: object) -> None:
        pass


async def main(base_url: str | None, model: str) -> int:
    site = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    with contextlib.ExitStack() as stack:
        if base_url is None:  # play the model with a script
            base_url = stack.enter_context(ScriptedResponsesServer(SCRIPT)).base_url
            os.environ.setdefault("TZAFON_API_KEY", "scripted")
        async with PlaywrightComputer(
            size=(1024, 640),
            start_url=f"http://127.0.0.1:{site.server_port}/",
            policy=DomainPolicy(allow=["127.0.0.1"]),
        ) as computer:
            agent = Agent(computer, model, base_url=base_url, max_steps=10)
            result = await agent.run("Search the library for 'screenloop'.")
            title = await computer.page.title()
    site.shutdown()
    print(f"{result.status}: {result.final_output}\npage title: {title}\nrecord: {result.run_dir}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("LIGHTCONE_BASE_URL"))
    parser.add_argument("--model", default="tzafon.northstar-cua-fast")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.base_url, args.model)))
