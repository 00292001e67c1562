"""The scripted Responses server: script format, protocol checks, dialects, recording, CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

import agent.testing
from agent import ConfigurationError
from agent.testing import (
    HTTPFault,
    Script,
    ScriptedResponsesServer,
    computer_call,
    function_call,
    message,
    safety_check,
    turn,
)

IMAGE = {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}
TOOL = {"type": "computer_use", "display_width": 1280, "display_height": 720}


def post(srv: ScriptedResponsesServer, body: Any, path: str = "/v1/responses") -> httpx.Response:
    url = srv.base_url.removesuffix("/v1") + path
    return httpx.post(url, json=body, headers={"Authorization": "Bearer k"}, timeout=5)


def call_output(call_id: str, output: dict[str, Any] = IMAGE, **extra: Any) -> dict[str, Any]:
    return {"type": "computer_call_output", "call_id": call_id, "output": output, **extra}


def test_public_names_are_pinned() -> None:
    assert agent.testing.__all__ == sorted(agent.testing.__all__)
    assert {"ScriptedResponsesServer", "Script", "HTTPFault", "turn"} <= set(agent.testing.__all__)


def test_ids_are_filled_in_and_unique() -> None:
    script = [
        turn(
            computer_call("click", x=1, y=2),
            computer_call("type", text="hi", call_id="mine"),
            function_call("done", {"ok": True}),
            {"type": "message", "content": "shorthand"},
            {"type": "web_search_call", "action": {"type": "search", "query": "q"}},
        )
    ]
    with ScriptedResponsesServer(script) as srv:
        out = post(srv, {"model": "m", "input": "go"}).json()["output"]
    ids = [i["id"] for i in out]
    assert len(set(ids)) == len(ids)
    assert out[0]["call_id"].startswith("call_") and out[1]["call_id"] == "mine"
    assert out[0]["pending_safety_checks"] == []
    assert json.loads(out[2]["arguments"]) == {"ok": True}
    assert out[3]["content"][0] == {"type": "output_text", "text": "shorthand", "annotations": []}
    assert out[4]["type"] == "web_search_call" and out[4]["status"] == "completed"


@pytest.mark.parametrize("path", ["/v1/responses", "/responses"])
def test_both_paths_and_recording(path: str) -> None:
    with ScriptedResponsesServer([turn(message("x"))]) as srv:
        resp = post(srv, {"model": "m", "input": "go", "tools": [TOOL]}, path)
        assert resp.status_code == 200
        rec = srv.requests[0]
    assert rec.path == path
    assert rec.body == {"model": "m", "input": "go", "tools": [TOOL]}
    assert "authorization" not in rec.headers
    assert rec.computer_tool_type == "computer_use"
    assert (rec.status, rec.turn_index, rec.response_id) == (200, 0, resp.json()["id"])


def test_unknown_path_is_404() -> None:
    with ScriptedResponsesServer([]) as srv:
        assert post(srv, {}, "/v1/chat/completions").status_code == 404


def test_require_api_key() -> None:
    with ScriptedResponsesServer([turn(message("x"))], require_api_key="right") as srv:
        wrong = post(srv, {"model": "m", "input": "go"})
        assert wrong.status_code == 401
        assert "Incorrect API key" in wrong.json()["error"]["message"]
        ok = httpx.post(
            srv.base_url + "/responses",
            json={"model": "m", "input": "go"},
            headers={"Authorization": "Bearer right"},
        )
        assert ok.status_code == 200
        assert srv.script.remaining == 0  # the 401 did not consume the turn


def test_missing_call_output_is_400_and_does_not_consume_a_turn() -> None:
    script = [turn(computer_call("click", x=1, y=2)), turn(message("done"))]
    with ScriptedResponsesServer(script) as srv:
        first = post(srv, {"model": "m", "input": "go"}).json()
        bad = post(srv, {"model": "m", "previous_response_id": first["id"], "input": []})
        assert bad.status_code == 400
        msg = bad.json()["error"]["message"]
        assert "No tool output found for computer_call" in msg
        assert first["output"][0]["call_id"] in msg
        good = post(
            srv,
            {
                "model": "m",
                "previous_response_id": first["id"],
                "input": [call_output(first["output"][0]["call_id"])],
            },
        )
        assert good.status_code == 200
        assert good.json()["output"][0]["content"][0]["text"] == "done"
        assert srv.requests[-1].output_image_types == ["input_image"]


def test_function_call_needs_function_call_output() -> None:
    with ScriptedResponsesServer([turn(function_call("lookup", call_id="f1")), turn()]) as srv:
        first = post(srv, {"model": "m", "input": "go"}).json()
        wrong_type = post(
            srv, {"model": "m", "previous_response_id": first["id"], "input": [call_output("f1")]}
        )
        assert wrong_type.status_code == 400
        assert "expected function_call_output" in wrong_type.json()["error"]["message"]
        ok = post(
            srv,
            {
                "model": "m",
                "previous_response_id": first["id"],
                "input": [{"type": "function_call_output", "call_id": "f1", "output": "42"}],
            },
        )
        assert ok.status_code == 200


def test_output_for_unknown_call_is_400() -> None:
    with ScriptedResponsesServer([turn(message("x"))]) as srv:
        resp = post(srv, {"model": "m", "input": [call_output("call_nobody")]})
    assert resp.status_code == 400
    assert "No tool call found" in resp.json()["error"]["message"]


def test_unacknowledged_safety_check_is_400() -> None:
    check = safety_check("malicious_instructions", "page asks to wire money", id="sc_1")
    script = [turn(computer_call("click", x=1, y=2, safety_checks=[check])), turn(message("ok"))]
    with ScriptedResponsesServer(script) as srv:
        first = post(srv, {"model": "m", "input": "go"}).json()
        call_id = first["output"][0]["call_id"]
        body = {"model": "m", "previous_response_id": first["id"]}
        bad = post(srv, {**body, "input": [call_output(call_id)]})
        assert bad.status_code == 400
        err = bad.json()["error"]
        assert err["code"] == "unacknowledged_safety_check"
        assert "'sc_1' (malicious_instructions)" in err["message"]
        good = post(
            srv, {**body, "input": [call_output(call_id, acknowledged_safety_checks=[check])]}
        )
        assert good.status_code == 200


def test_full_history_resent_without_previous_response_id() -> None:
    script = [turn(computer_call("screenshot")), turn(message("done"))]
    with ScriptedResponsesServer(script) as srv:
        first = post(srv, {"model": "m", "input": "go", "store": False}).json()
        call = first["output"][0]
        history = [{"role": "user", "content": "go"}, call]
        missing = post(srv, {"model": "m", "input": history, "store": False})
        assert missing.status_code == 400
        ok = post(
            srv,
            {"model": "m", "input": [*history, call_output(call["call_id"])], "store": False},
        )
        assert ok.status_code == 200
        assert srv.responses == {}  # store: false keeps nothing
        unknown = post(srv, {"model": "m", "input": "x", "previous_response_id": first["id"]})
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "previous_response_not_found"


@pytest.mark.parametrize(
    ("dialect", "tool_type", "output_type", "status"),
    [
        ("lightcone", "computer_use", "input_image", 200),
        ("lightcone", "computer_use_preview", "input_image", 200),
        # the official SDK's own output type (issue 17): accepted by both dialects
        ("lightcone", "computer_use", "computer_screenshot", 200),
        ("lightcone", "computer_use_preview", "computer_screenshot", 200),
        ("lightcone", "computer_use", "input_text", 400),
        ("lightcone", "computer", "input_image", 400),
        ("openai", "computer_use_preview", "computer_screenshot", 200),
        ("openai", "computer_use_preview", "input_image", 200),
        ("openai", "computer_use", "input_image", 400),
        ("openai", "computer_use_preview", "input_text", 400),
    ],
)
def test_dialects(dialect: Any, tool_type: str, output_type: str, status: int) -> None:
    script = [turn(computer_call("screenshot", call_id="c1")), turn(message("ok"))]
    with ScriptedResponsesServer(script, dialect=dialect) as srv:
        first = post(srv, {"model": "m", "input": "go"}).json()
        resp = post(
            srv,
            {
                "model": "m",
                "tools": [{**TOOL, "type": tool_type}],
                "previous_response_id": first["id"],
                "input": [call_output("c1", {"type": output_type, "image_url": "data:,"})],
            },
        )
        assert resp.status_code == status, resp.text
        assert srv.requests[-1].computer_tool_type == tool_type


def test_repeat_delay_and_exhaustion_message() -> None:
    script: list[Any] = [HTTPFault(status=503, repeat=2), turn(message("after"), delay=0.05)]
    with ScriptedResponsesServer(script) as srv:
        codes = [post(srv, {"model": "m", "input": "go"}).status_code for _ in range(4)]
        last = post(srv, {"model": "m", "input": "go"}).json()
        assert codes == [503, 503, 200, 200]
        assert last["output"][0]["content"][0]["text"] == "script exhausted"
        assert srv.script.exhausted_requests == 2
        assert [r.turn_index for r in srv.requests] == [0, 0, 1, None, None]


def test_exhaustion_as_error() -> None:
    with ScriptedResponsesServer(Script([], on_exhausted="error")) as srv:
        resp = post(srv, {"model": "m", "input": "go"})
    assert resp.status_code == 500
    assert "script ran out" in resp.json()["error"]["message"]


def test_http_fault_with_retry_after_and_text_body() -> None:
    with ScriptedResponsesServer([HTTPFault(status=429, body="slow down", retry_after=3)]) as srv:
        resp = post(srv, {"model": "m", "input": "go"})
    assert (resp.status_code, resp.text, resp.headers["retry-after"]) == (429, "slow down", "3")


@pytest.mark.parametrize(
    ("turns", "match"),
    [
        ([{"fault": "explode"}], "unknown fault 'explode'"),
        ([{"fault": "http"}], "needs 'status'"),
        ([{"fault": "delay"}], "needs 'seconds'"),
        ([{"nothing": 1}], "needs 'output'"),
        ([{"output": [], "colour": "red"}], "unknown keys"),
        ([{"output": [], "repeat": 0}], "'repeat'"),
        (["text"], "expected an object"),
    ],
)
def test_script_validation(turns: list[Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        Script(turns)


def test_script_from_file(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"turns": [turn(message("from file"))], "on_exhausted": "error"}))
    with ScriptedResponsesServer(str(path)) as srv:
        assert post(srv, {"model": "m", "input": "go"}).status_code == 200
        assert post(srv, {"model": "m", "input": "go"}).status_code == 500
    assert Script.from_json(json.dumps({"turns": []})).on_exhausted == "error"
    assert Script.from_json(json.dumps({"turns": [], "on_exhausted": "message"})).on_exhausted == (
        "message"
    )
    (tmp_path / "bad.json").write_text("[{")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        Script.from_file(tmp_path / "bad.json")


def test_close_cuts_a_stall_short() -> None:
    srv = ScriptedResponsesServer([{"fault": "delay", "seconds": 60}]).start()
    with httpx.Client(timeout=0.2) as client, pytest.raises(httpx.TimeoutException):
        client.post(srv.base_url + "/responses", json={"model": "m", "input": "go"})
    srv.close()
    assert srv.requests[0].fault == "delay"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_script_cli_stops_on_a_signal_even_started_with_sigint_ignored(
    tmp_path: Path, sig: signal.Signals
) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps([turn(message("from the cli"))]))
    # A child started from a shell without job control (a CI script, `cmd &`) inherits
    # SIGINT as ignored, and Python then installs no KeyboardInterrupt handler: start
    # the server that way, as a CI script would, and it must still stop on the signal.
    code = (
        "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "from agent._cli import main; main()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve-script", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        # generous bounds: they end as soon as the answer comes, however busy the machine
        resp = httpx.post(base_url + "/responses", json={"model": "m", "input": "go"}, timeout=60)
        assert resp.json()["output"][0]["content"][0]["text"] == "from the cli"
        # A script file that ran out is an error, not a "completed" answer.
        resp = httpx.post(base_url + "/responses", json={"model": "m", "input": "go"}, timeout=5)
        assert resp.status_code == 500
        assert resp.json()["error"]["code"] == "script_exhausted"
    finally:
        proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()  # never leak the server
            proc.communicate()
            raise
    assert proc.returncode == 0
    assert "stopped after 2 request(s)" in err
