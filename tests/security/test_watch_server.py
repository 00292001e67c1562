"""The watch page is safe to leave open (issue 19): token, Host/Origin checks, no state-changing
GET, a strict CSP, loopback only, and nothing secret in anything it serves."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from agent import Agent, WatchServer
from agent._secrets import secret_forms
from agent._watch._server import TOKEN_HEADER
from agent.testing import RecordingComputer, ScriptedResponsesServer, computer_call, message, turn

API_KEY = "sk-watch-leak-check-9f8e7d6c5b4a"
SECRET = "hunter2/p@ss&w+rd é"
TASK = f"Sign in with {SECRET} and tell me what you see."


async def _run(
    tmp_path: Path, script: list[Any], watch: WatchServer, **kwargs: Any
) -> tuple[asyncio.Task[Any], ScriptedResponsesServer, RecordingComputer]:
    server = ScriptedResponsesServer(script).__enter__()
    computer = RecordingComputer((640, 400))
    agent = Agent(
        computer,
        base_url=server.base_url,
        api_key=API_KEY,
        run_dir=tmp_path / "run",
        watch=watch,
        **kwargs,
    )
    task = asyncio.ensure_future(agent.run(TASK))
    await asyncio.sleep(0)  # the run registers with the watch server as it starts
    return task, server, computer


async def _events(client: httpx.AsyncClient, watch: WatchServer) -> AsyncIterator[str]:
    """The raw event stream of the newest run, to its end (the server closes it then)."""
    run = watch.runs()[-1]
    params = {"t": watch.token, "run": run.id}
    async with client.stream("GET", watch.base_url + "events", params=params) as r:
        assert r.status_code == 200
        async for chunk in r.aiter_text():
            yield chunk


async def test_requests_without_the_right_token_host_or_origin_are_refused(
    tmp_path: Path,
) -> None:
    script = [turn(computer_call({"type": "click", "x": 10, "y": 10})), turn(message("done"))]
    with WatchServer() as watch:
        assert watch._httpd is not None and watch._httpd.server_address[0] == "127.0.0.1"
        task, server, _ = await _run(tmp_path, script, watch)
        base, token = watch.base_url, watch.token
        run_id = watch.runs()[0].id
        wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
        async with httpx.AsyncClient() as c:
            assert (await c.get(base)).status_code == 403
            assert (await c.get(base, params={"t": wrong})).status_code == 403
            assert (await c.get(base, params={"t": token[:10]})).status_code == 403
            assert (await c.get(base + "runs")).status_code == 403
            assert (await c.get(base + "events", params={"run": run_id})).status_code == 403
            assert (await c.get(base + "shot", params={"run": run_id, "n": 0})).status_code == 403
            # DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own Host
            rebound = await c.get(base, params={"t": token}, headers={"Host": "evil.example"})
            assert rebound.status_code == 403
            ok = await c.get(base, params={"t": token})
            assert ok.status_code == 200
            csp = ok.headers["content-security-policy"]
            nonce = re.search(r"script-src 'nonce-([^']+)'", csp)
            assert nonce and "unsafe-inline" not in csp and "http" not in csp
            assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
            assert ok.headers["referrer-policy"] == "no-referrer"
            scripts = re.findall(r"<script([^>]*)>", ok.text)
            assert scripts == [f' nonce="{nonce.group(1)}"']
            assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"(https?:)?//", ok.text)

            def post(**kw: Any) -> Any:
                body = kw.pop("body", {"run": run_id, "action": "stop"})
                return c.post(base + "control", json=body, **kw)

            # the controls: a POST with the token header only, same origin, JSON
            assert (await post()).status_code == 403
            assert (await post(params={"t": token})).status_code == 403  # not from the URL
            assert (await post(headers={TOKEN_HEADER: wrong})).status_code == 403
            evil = {TOKEN_HEADER: token, "Origin": "http://evil.example"}
            assert (await post(headers=evil)).status_code == 403
            cross = {TOKEN_HEADER: token, "Sec-Fetch-Site": "cross-site"}
            assert (await post(headers=cross)).status_code == 403
            form = await c.post(
                base + "control",
                content=b"action=stop",
                headers={TOKEN_HEADER: token, "Content-Type": "application/x-www-form-urlencoded"},
            )
            assert form.status_code == 415
            # no GET changes anything
            get = await c.get(
                base + "control", params={"t": token, "run": run_id, "action": "stop"}
            )
            assert get.status_code == 404
            put = await c.put(base + "control", params={"t": token})
            assert put.status_code == 405
            result = await task
        server.__exit__(None, None, None)
    assert result.status == "completed"  # nothing above stopped it


def _forms(value: str) -> list[str]:
    return [f for f in secret_forms(value) if len(f) >= 6]


async def test_nothing_secret_is_served(tmp_path: Path) -> None:
    leaky = (
        f"I typed {SECRET} (that is {quote(SECRET)} or "
        f"{base64.b64encode(SECRET.encode()).decode()}); your key is {API_KEY}."
    )
    script = [
        turn(computer_call({"type": "type", "text": "{{secret:pw}}"})),
        turn(computer_call({"type": "type", "text": SECRET})),  # the model echoes it raw
        turn(message(leaky)),
    ]
    served: list[bytes] = []
    with WatchServer() as watch:
        task, server, computer = await _run(tmp_path, script, watch, secrets={"pw": SECRET})
        base, params = watch.base_url, {"t": watch.token}
        async with httpx.AsyncClient() as c:
            served.append((await c.get(base, params=params)).content)
            stream = "".join([chunk async for chunk in _events(c, watch)])
            served.append(stream.encode())
            result = await task
            entries = [json.loads(line[5:]) for line in stream.splitlines() if line[:5] == "data:"]
            run_id = entries[0]["id"]
            shots = [e["n"] for e in entries if e["kind"] == "screenshot"]
            assert shots == [0, 1, 2]
            for n in shots:
                r = await c.get(base + "shot", params={**params, "run": run_id, "n": n})
                assert r.status_code == 200 and r.headers["content-type"] == "image/png"
                served.append(r.content)
            for path in ("", "runs", "report"):
                r = await c.get(base + path, params={**params, "run": run_id})
                assert r.status_code == 200
                served.append(r.content)
            for path in ("shot", "nope", "report"):  # the errors too
                r = await c.get(base + path, params={**params, "run": "r99", "n": "x"})
                served.append(r.content + str(r.headers).encode())
        server.__exit__(None, None, None)
    assert result.status == "completed"
    assert [c.args.get("text") for c in computer.calls_named("type")] == [SECRET, SECRET]
    final = entries[-1]
    assert final["kind"] == "finished" and "{{secret:pw}}" in final["final_output"]
    assert "[REDACTED]" in final["final_output"]
    blob = b"\n".join(served)
    for value in (SECRET, API_KEY):
        for form in _forms(value):
            for data in (form.encode("utf-8"), form.encode("utf-16-le")):
                assert data not in blob, f"a form of a secret was served: {form!r}"
    assert watch.token.encode() not in (tmp_path / "run" / "run.json").read_bytes()
    recorded = json.loads((tmp_path / "run" / "run.json").read_text())
    assert recorded["watch"]["url"] == watch.base_url


@pytest.mark.parametrize("port", [-1, 70000])
def test_a_bad_port_is_a_configuration_error(port: int) -> None:
    from agent import ConfigurationError

    with pytest.raises(ConfigurationError):
        WatchServer(port)
