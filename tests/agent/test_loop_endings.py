"""Every way a run ends: a status, a typed error, a complete record, held inputs released."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from loop_harness import Harness

from agent.testing import HTTPFault, RecordingComputer, computer_call, function_call, message, turn
from executors import ActionFailedError


async def test_terminate_action_ends_with_its_result(harness: Harness) -> None:
    script = [
        turn(computer_call("click", x=1, y=1)),
        turn(computer_call("terminate", result="the answer is 42")),
        turn(message("never served")),
    ]
    result = await harness.run(script)
    assert (result.status, result.final_output) == ("completed", "the answer is 42")
    assert len(harness.bodies) == 2
    assert harness.run_json()["final_output"] == "the answer is 42"


async def test_done_function_call_ends_the_run(harness: Harness) -> None:
    script = [turn(function_call("done", {"result": "booked"})), turn(message("never"))]
    result = await harness.run(script)
    assert (result.status, result.final_output) == ("completed", "booked")
    assert len(harness.bodies) == 1


async def test_max_steps(harness: Harness) -> None:
    script = [turn(computer_call("wait"), repeat=10)]
    result = await harness.run(script, max_steps=3)
    assert result.status == "max_steps"
    assert len(result.steps) == 3 and len(harness.bodies) == 3
    assert harness.run_json()["status"] == "max_steps"
    assert len(harness.steps_jsonl()) == 3


async def test_wall_time_limit(harness: Harness) -> None:
    script = [turn(computer_call("wait")), turn(message("late"), delay=5)]
    result = await harness.run(script, max_wall_time_s=1.0)
    assert result.status == "timeout"
    assert harness.run_json()["status"] == "timeout"
    assert len(harness.steps_jsonl()) == 2  # the interrupted step is recorded too


async def test_token_budget(harness: Harness) -> None:
    usage = {"input_tokens": 600, "output_tokens": 0, "total_tokens": 600}
    script = [turn(computer_call("wait"), usage=usage, repeat=5)]
    result = await harness.run(script, token_budget=1000)
    assert result.status == "error"
    assert result.error is not None and result.error["type"] == "TokenBudgetExceededError"
    assert len(harness.bodies) == 2


@pytest.mark.parametrize(
    "bad_turn, error_type",
    [
        (turn(message("x"), status="failed", error={"code": "server", "message": "boom"}),
         "ResponseValidationError"),
        (turn(message("x"), status="incomplete", incomplete_details={"reason": "max_tokens"}),
         "ResponseValidationError"),
        (turn({"type": "message", "role": "assistant",
               "content": [{"type": "refusal", "refusal": "I can't help with that"}]}),
         "RefusalError"),
        (turn(computer_call("click", x=1, y=1, call_id="c1"),
              computer_call("click", x=2, y=2, call_id="c1")),
         "ResponseValidationError"),
        (turn({"type": "computer_call", "call_id": "c9"}), "ResponseValidationError"),
        (turn(computer_call("teleport", x=1, y=1)), "ActionParseError"),
        (turn(computer_call("click", x="left", y=1)), "ActionParseError"),
    ],
)  # fmt: skip
async def test_bad_responses_end_with_a_typed_error_before_anything_runs(
    harness: Harness, bad_turn: dict[str, Any], error_type: str
) -> None:
    result = await harness.run([bad_turn])
    assert result.status == "error"
    assert result.error is not None and result.error["type"] == error_type, result.error
    assert harness.computer is not None
    # Only the first (settled) screenshot ran: no action of the bad response did.
    assert [c.name for c in harness.computer.calls] == ["settle", "screenshot", "release_all"]
    summary = harness.run_json()
    assert summary["error"]["type"] == error_type
    (step,) = harness.steps_jsonl()
    assert step["output"] and step["actions"] == []


async def test_api_error_ends_with_status_error(harness: Harness) -> None:
    result = await harness.run([HTTPFault(status=400, body={"error": {"message": "bad"}})])
    assert result.status == "error"
    assert result.error is not None and result.error["type"] == "BadRequestError"
    assert "sk-test" not in harness.record_text()


async def test_executor_error_ends_the_run_and_is_recorded(harness: Harness) -> None:
    computer = RecordingComputer((100, 100), fail_on={"click": ActionFailedError("no page")})
    script = [turn(computer_call("click", x=1, y=1)), turn(message("never"))]
    result = await harness.run(script, computer=computer)
    assert result.status == "error"
    assert result.error == {"type": "ActionFailedError", "message": "no page"}
    (step,) = harness.steps_jsonl()
    assert step["actions"][0]["error"] == "ActionFailedError: no page"


async def test_unsupported_action_is_an_executor_error(harness: Harness) -> None:
    computer = RecordingComputer((100, 100), capabilities={"screenshot", "click"})
    result = await harness.run([turn(computer_call("navigate", url="http://x.test"))],
                               computer=computer)  # fmt: skip
    assert result.status == "error"
    assert result.error is not None and result.error["type"] == "UnsupportedActionError"


async def test_cancel_mid_step_flushes_the_record_and_releases_keys(harness: Harness) -> None:
    computer = RecordingComputer((200, 100), block_on={"click"})
    script = [
        turn(computer_call("key_down", keys=["shift"])),
        turn(computer_call("mouse_down", x=1, y=1)),
        turn(computer_call("click", x=10, y=10)),
        turn(message("never")),
    ]
    task = asyncio.ensure_future(harness.run(script, computer=computer))
    await asyncio.wait_for(computer.blocked.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release = computer.calls_named("release_all")
    assert len(release) == 1
    assert release[0].args["keys"] and release[0].args["buttons"] == ("left",)
    assert computer.held_keys == [] and computer.held_buttons == []
    summary = harness.run_json()
    assert summary["status"] == "cancelled" and summary["ended_at"]
    steps = harness.steps_jsonl()
    assert [s["step"] for s in steps] == [1, 2, 3]
    assert steps[2]["actions"][0]["type"] == "click"
    assert harness.agent is not None and harness.agent.last_result is not None
    assert harness.agent.last_result.status == "cancelled"


async def test_computer_is_closed_only_when_asked(harness: Harness) -> None:
    await harness.run([turn(message("ok"))])
    assert harness.computer is not None and not harness.computer.closed
    await harness.run([turn(message("ok"))], close_computer=True, run_dir=harness.tmp_path / "r2")
    assert harness.computer.closed


async def test_leaving_the_event_iterator_early_cancels_the_run(harness: Harness) -> None:
    from agent import Agent
    from agent.testing import ScriptedResponsesServer

    computer = RecordingComputer((100, 100))
    with ScriptedResponsesServer([turn(computer_call("wait"), repeat=20)]) as server:
        agent = Agent(computer, base_url=server.base_url, api_key="k" * 8, run_dir=harness.run_dir)
        async with contextlib.aclosing(agent.iter("t")) as events:
            async for event in events:
                if event.kind == "action_executed":
                    break
    assert agent.last_result is not None and agent.last_result.status == "cancelled"
    assert computer.calls_named("release_all")
    assert harness.run_json()["status"] == "cancelled"
