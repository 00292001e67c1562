"""``--output-schema FILE`` on `screenloop run` and as a batch task key, through the real command.

The scripted server records every request: the schema must be in each one's
``text.format``; the validated value in the JSON result, run.json, the report
and (batch) the attempt's record in summary.json.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_support import PageServer, page_server, screenloop

from agent._cli._exit_codes import ExitCode
from agent.testing import ScriptedResponsesServer, computer_call, message, turn

KEY = "sk-cli-test-key-0123456789"
SCHEMA: dict[str, Any] = {
    "title": "Order",
    "type": "object",
    "properties": {
        "number": {"type": "string", "pattern": "^A-[0-9]+$", "description": "order number"},
        "total": {"type": "number", "minimum": 0},
        "items": {"type": "array", "items": {"$ref": "#/$defs/item"}},
    },
    "required": ["number", "total", "items"],
    "additionalProperties": False,
    "$defs": {
        "item": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "qty": {"type": "integer"}},
            "required": ["name", "qty"],
            "additionalProperties": False,
        }
    },
}
ANSWER = {"number": "A-1001", "total": 42.5, "items": [{"name": "lamp", "qty": 1}]}


@pytest.fixture
def page() -> Iterator[PageServer]:
    with page_server() as server:
        yield server


def _run(server: ScriptedResponsesServer, page: PageServer, run_dir: Path, schema: Path) -> Any:
    return screenloop(
        "run", "read the order", "--url", page.url, "--base-url", server.base_url,
        "--api-key", KEY, "--coordinates", "pixels", "--record", str(run_dir),
        "--output-schema", str(schema), "--json",
    )  # fmt: skip


@pytest.mark.browser
def test_run_asks_with_the_schema_and_records_the_validated_value(
    page: PageServer, tmp_path: Path
) -> None:
    schema = tmp_path / "order.json"
    schema.write_text(json.dumps(SCHEMA))
    script = [
        turn(computer_call("click", x=200, y=150)),
        turn(message("Here it is:\n```json\n" + json.dumps(ANSWER) + "\n```")),
    ]
    run_dir = tmp_path / "run"
    with ScriptedResponsesServer(script, require_api_key=KEY) as server:
        res = _run(server, page, run_dir, schema)
        bodies = [r.body for r in server.requests if r.method == "POST"]
    assert res.code == ExitCode.COMPLETED, res.stderr
    assert res.json()["output"] == ANSWER
    assert {"e": "click", "v": ""} in page.events  # the run acted before answering
    assert len(bodies) == 2
    for body in bodies:
        fmt = body["text"]["format"]
        assert fmt["type"] == "json_schema" and fmt["name"] == "Order" and fmt["strict"] is True
        assert fmt["schema"]["properties"] == SCHEMA["properties"]
        assert fmt["schema"]["$defs"] == SCHEMA["$defs"]
    run = json.loads((run_dir / "run.json").read_text())
    assert run["output"] == ANSWER
    assert run["output_schema"]["name"] == "Order"
    report = (run_dir / "report.html").read_text()
    assert 'id="structured-output"' in report and "A-1001" in report


@pytest.mark.browser
def test_an_answer_outside_the_schema_exits_5_with_a_typed_error(
    page: PageServer, tmp_path: Path
) -> None:
    schema = tmp_path / "order.json"
    schema.write_text(json.dumps(SCHEMA))
    wrong = {**ANSWER, "items": [{"name": "lamp", "qty": "one"}]}
    with ScriptedResponsesServer([turn(message(json.dumps(wrong)))]) as server:
        res = _run(server, page, tmp_path / "run", schema)
    assert res.code == ExitCode.API_ERROR, res.stderr
    out = res.json()
    assert out["status"] == "error" and out["error"]["type"] == "OutputValidationError"
    assert "$.items[0].qty: expected integer, got string" in out["error"]["message"]
    assert out["final_output"] == json.dumps(wrong)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (json.dumps({"type": "array", "items": {"type": "string"}}), "must be an object schema"),
        ("[1, 2]", "a JSON Schema object, got list"),
        ("{not json", "not JSON"),
        (" " * (256 * 1024 + 1), "larger than 262144 bytes"),
        (
            json.dumps({"type": "object", "properties": {"a": {"$ref": "https://x.test/s"}}}),
            "only #/$defs/NAME",
        ),
        (
            json.dumps({"type": "object", "properties": {"a": {"type": "str"}}}),
            "unknown type 'str'",
        ),
        (json.dumps({"type": "object", "properties": {"a": {"pattern": "("}}}), "does not compile"),
    ],
)
def test_a_bad_schema_file_is_a_usage_error_before_anything_starts(
    tmp_path: Path, content: str, said: str
) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(content)
    res = screenloop(
        "run", "x", "--url", "http://127.0.0.1:9/", "--api-key", KEY,
        "--record", str(tmp_path / "run"), "--output-schema", str(schema),
    )  # fmt: skip
    assert res.code == ExitCode.USAGE, res.stderr
    assert said in res.stderr and "--output-schema" in res.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.browser
def test_a_batch_task_with_an_output_schema_records_the_value_per_attempt(
    tmp_path: Path,
) -> None:
    (tmp_path / "order.json").write_text(json.dumps(SCHEMA))
    answer = {"output": [{"type": "message", "content": json.dumps(ANSWER)}]}
    tasks = {
        "defaults": {"url": "demo:/products", "display": "800x600", "output_schema": "order.json"},
        "tasks": [
            {
                "id": "order",
                "task": "Read the order.",
                "script": [answer],
                # a check may read the value: SCREENLOOP_OUTPUT is its JSON
                "check": {
                    "command": [
                        sys.executable,
                        "-c",
                        "import json, os, sys; "
                        "sys.exit(json.loads(os.environ['SCREENLOOP_OUTPUT'])['total'] != 42.5)",
                    ]
                },
            },
            {
                "id": "no-fit",
                "task": "Read the order.",
                "script": [{"output": [{"type": "message", "content": '{"number": "B-1"}'}]}],
            },
        ],
    }
    task_file = tmp_path / "tasks.yaml"
    task_file.write_text(yaml.safe_dump(tasks, sort_keys=False))
    out = tmp_path / "out"
    res = screenloop(
        "batch", str(task_file), "--concurrency", "2", "--record", str(out),
        "--trust-task-file", "--json", timeout=300,
    )  # fmt: skip
    assert res.code == ExitCode.CHECKS_FAILED, res.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    attempts = {t["id"]: t["attempts"][0] for t in summary["tasks"]}
    good, bad = attempts["order"], attempts["no-fit"]
    assert good["passed"] and good["output"] == ANSWER
    assert [c["kind"] for c in good["checks"]] == ["status", "command"]
    assert not bad["passed"] and bad["output"] is None
    assert bad["error"]["type"] == "OutputValidationError"
    run = json.loads((out / good["run_dir"] / "run.json").read_text())
    assert run["output"] == ANSWER and run["output_schema"]["name"] == "Order"
    assert run["output_schema"]["schema"]["properties"] == SCHEMA["properties"]
