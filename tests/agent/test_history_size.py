"""Request size stays flat as a run grows, in both history modes."""

from __future__ import annotations

import json

import pytest
from loop_harness import Harness

from agent.testing import RecordingComputer, computer_call, reasoning, turn


@pytest.mark.parametrize("history", ["server", "stateless"])
async def test_request_size_of_step_50_is_within_10_percent_of_step_5(
    harness: Harness, history: str
) -> None:
    # Noise screenshots have realistic (incompressible) sizes, unlike a solid colour.
    computer = RecordingComputer((320, 240), noise=True)
    script = [turn(reasoning("next"), computer_call("click", x=10, y=10), repeat=60)]
    result = await harness.run(
        script, computer=computer, history=history, max_steps=50, record=False
    )
    assert result.status == "max_steps"
    sizes = [len(json.dumps(b)) for b in harness.bodies]
    assert len(sizes) == 50
    step5, step50 = sizes[4], sizes[49]
    assert abs(step50 - step5) / step5 < 0.10, (history, step5, step50)
