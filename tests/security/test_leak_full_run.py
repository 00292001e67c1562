"""A full browser task at DEBUG logging: the API key and secret values are written nowhere.

The model types ``{{secret:PASSWORD}}`` into a real page, echoes the secret
value back in a message and a reasoning summary, and the server finally
answers 401 with an error body that echoes both the key and the secret. Every
log record (root at DEBUG, httpx/httpcore included, written to a file by a
plain handler), the exception text, run.json, steps.jsonl, report.html (and
the base64 payloads inside it) must be free of both values -- while the page
really received the secret (proof that it went somewhere).
"""

from __future__ import annotations

import base64
import logging
import re
import traceback
from pathlib import Path

import pytest
from rel_support import Site

from agent import Agent
from agent.testing import (
    HTTPFault,
    ScriptedResponsesServer,
    computer_call,
    message,
    reasoning,
    safety_check,
    turn,
)
from executors import PlaywrightComputer

pytestmark = pytest.mark.browser

KEY = "sk-fullrun-canary-9f8e7d6c5b4a3210"
SECRET = "Hunter2-pa55-Zq9"
PAGE = (
    "<!doctype html><body style='margin:0'>"
    "<input id=pw type=password style='position:absolute;left:0;top:0;width:300px;height:40px'>"
    "</body>"
)
LOGGERS = ("", "httpx", "httpcore", "agent", "executors", "sandbox", "asyncio", "playwright")


def decoded_payloads(text: str) -> str:
    """The base64 payloads of a file (data URLs and long base64 runs), decoded."""
    out = []
    for chunk in re.findall(r"[A-Za-z0-9+/=]{40,}", text):
        try:
            out.append(base64.b64decode(chunk + "=" * (-len(chunk) % 4)).decode("latin-1"))
        except ValueError:
            continue
    return "\n".join(out)


async def test_key_and_secret_are_written_nowhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log_file = tmp_path / "debug.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    script = [
        turn(computer_call("click", x=150, y=20)),
        turn(computer_call("type", text="{{secret:PASSWORD}}")),
        turn(
            reasoning(f"I typed {SECRET} as asked"),
            message(f"the password is {SECRET}"),
            computer_call(
                "keypress",
                keys=["Enter"],
                safety_checks=[safety_check("sensitive_domain", f"typing {SECRET}")],
            ),
        ),
        turn(computer_call("point_and_type", x=150, y=20, text="x{{secret:PASSWORD}}")),
        HTTPFault(status=401, body={"error": {"message": f"bad key {KEY} / {SECRET}"}}),
        turn(message("never")),
    ]
    run_dir = tmp_path / "run"
    try:
        with Site() as site:
            site.pages["/login"] = ("text/html", PAGE)
            async with PlaywrightComputer(size=(640, 400), start_url=site.url("/login")) as pc:
                with ScriptedResponsesServer(script, require_api_key=KEY) as server:
                    agent = Agent(
                        pc,
                        base_url=server.base_url,
                        api_key=KEY,
                        coordinate_space="pixels",
                        secrets={"PASSWORD": SECRET},
                        safety="allow",
                        run_dir=run_dir,
                    )
                    result = await agent.run(f"log in (never say {KEY[:6]})")
                typed = await pc.page.evaluate("document.getElementById('pw').value")
    finally:
        root.removeHandler(handler)
        handler.close()
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
    assert typed == SECRET + "x" + SECRET  # the secret really reached the page
    assert result.status == "error" and result.error is not None
    assert result.error["type"] == "AuthenticationError"
    assert (run_dir / "report.html").is_file()
    log_text = log_file.read_text(encoding="utf-8")
    assert "httpcore" in log_text and "DEBUG" in log_text  # debug logging really happened
    written = {p.name: p.read_bytes().decode("utf-8", "replace") for p in run_dir.rglob("*")
               if p.is_file() and p.suffix in (".json", ".jsonl", ".html")}  # fmt: skip
    assert {"run.json", "steps.jsonl", "report.html"} <= set(written)
    places = {
        "debug log": log_text,
        "caplog": caplog.text,
        "error": str(result.error),
        **written,
        "report.html (decoded)": decoded_payloads(written["report.html"]),
    }
    if agent.last_result is not None:
        places["result"] = repr(agent.last_result.to_json())
    for where, text in places.items():
        assert KEY not in text, f"API key in {where}"
        assert SECRET not in text, f"secret value in {where}"
    assert "{{secret:PASSWORD}}" in written["steps.jsonl"]  # placeholders are kept


async def test_secret_in_an_executor_exception_is_not_written(tmp_path: Path) -> None:
    """A secret inside an error raised while typing never reaches run.json or the result."""
    from agent.testing import RecordingComputer
    from executors import ActionFailedError

    computer = RecordingComputer(
        (200, 100), fail_on={"type": ActionFailedError(f"could not type {SECRET!r}")}
    )
    script = [turn(computer_call("type", text="{{secret:PASSWORD}}")), turn(message("x"))]
    with ScriptedResponsesServer(script) as server:
        agent = Agent(
            computer,
            base_url=server.base_url,
            api_key=KEY,
            secrets={"PASSWORD": SECRET},
            run_dir=tmp_path / "run",
        )
        result = await agent.run("type it")
    assert result.status == "error"
    assert computer.calls_named("type")[0].args["text"] == SECRET
    texts = [str(result.error), *(p.read_text() for p in (tmp_path / "run").glob("*.*"))]
    texts.append("".join(traceback.format_exception(ValueError(str(result.error)))))
    for text in texts:
        assert SECRET not in text and KEY not in text
