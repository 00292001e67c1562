"""The scripted server's message checks: where a notice message may go, and what it holds."""

from __future__ import annotations

from typing import Any

import pytest

from agent.testing._protocol_checks import check_messages

CALL = {"type": "computer_call", "call_id": "c1", "action": {"type": "click", "x": 1, "y": 1}}
OUTPUT = {"type": "computer_call_output", "call_id": "c1", "output": {"type": "input_image"}}
NOTICE = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}


@pytest.mark.parametrize(
    ("items", "previous", "ok"),
    [
        ([OUTPUT, NOTICE], [CALL], True),  # the runtime's order: outputs, then notices
        ([NOTICE, OUTPUT], [CALL], False),  # a message between a call and its output
        ([CALL, OUTPUT, NOTICE, NOTICE], [], True),  # stateless history
        ([CALL, NOTICE, OUTPUT], [], False),
        ([{**NOTICE, "role": "robot"}], [], False),
        ([{**NOTICE, "content": [{"type": "output_text", "text": "x"}]}], [], False),
        ([{**NOTICE, "content": [{"type": "input_text"}]}], [], False),
        ([{**NOTICE, "content": []}], [], False),
        ([{"type": "message", "role": "user", "content": "plain text"}], [], True),
    ],
)
def test_messages_are_checked(
    items: list[dict[str, Any]], previous: list[dict[str, Any]], ok: bool
) -> None:
    assert (check_messages(items, previous) is None) is ok
