"""`screenloop doctor --calibrate` (issue 17) against scripted models of both kinds.

The real CLI in a subprocess, real Chromium showing the calibration page, the scripted
Responses server on loopback playing a model that clicks the targets in pixels, on the
0-999 grid (either mapping), with an offset, or not at all. The report names the space
and the flag; the page's own click listener proves the mapped clicks hit the targets.
"""

from __future__ import annotations

from typing import Any

import pytest
from cli_support import clean_env, screenloop

from agent._cli._calibrate import Sample, analyse, target_points
from agent._cli._exit_codes import ExitCode
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import Size
from executors._geometry import screen_to_model

SIZE = Size(1280, 720)
KEY = "sk-calibrate-0123"


def model_clicks(space: str, offset: tuple[int, int] = (0, 0)) -> list[tuple[float, float]]:
    """Where a model of `space` clicks each target (integers, as models answer)."""
    out = []
    for _, p in target_points(SIZE):
        if space == "pixels":
            out.append((p.x + offset[0], p.y + offset[1]))
        else:
            mx, my = screen_to_model(p, space, SIZE)  # type: ignore[arg-type]
            out.append((round(mx), round(my)))
    return out


def calibrate_cli(script: list[Any]) -> tuple[int, dict[str, Any], list[Any]]:
    with ScriptedResponsesServer(script, require_api_key=KEY) as server:
        res = screenloop(
            "doctor", "--calibrate", "--base-url", server.base_url, "--api-key", KEY, "--json",
            env=clean_env(), timeout=180,
        )  # fmt: skip
        bodies = [r.body for r in server.requests]
    assert KEY not in res.stdout + res.stderr
    return res.code, res.json(), bodies


@pytest.mark.browser
@pytest.mark.parametrize(
    ("space", "expected"),
    [("pixels", "pixels"), ("normalized", "normalized"), ("normalized-999", "normalized")],
)
def test_calibration_detects_the_model_space(space: str, expected: str) -> None:
    script = [turn(computer_call("click", x=x, y=y)) for x, y in model_clicks(space)]
    code, out, bodies = calibrate_cli(script)
    assert code == ExitCode.COMPLETED, out
    assert out["space"] == expected
    assert out["flag"] == f"--coordinates {expected}"
    assert out["hits"] == 5  # every mapped click landed on its target, says the page
    assert [s["hit"] for s in out["samples"]] == [s["label"] for s in out["samples"]]
    if space != "pixels":  # the two 0-999 mappings cannot be told apart by clicks
        assert out["tie"] == ["normalized-999"]
    # what the model was shown: the targets' page, in the run's dialect
    assert len(bodies) == 5
    assert bodies[0]["tools"][0]["display_width"] == 1280
    assert bodies[0]["input"][0]["content"][1]["image_url"].startswith("data:image/png")
    assert "labelled A" in bodies[0]["input"][0]["content"][0]["text"]


@pytest.mark.browser
def test_calibration_reports_an_offset() -> None:
    clicks = model_clicks("pixels", offset=(6, 10))
    code, out, _ = calibrate_cli([turn(computer_call("click", x=x, y=y)) for x, y in clicks])
    assert code == ExitCode.COMPLETED
    assert out["space"] == "pixels"
    assert out["offset"] == [6.0, 10.0]
    assert any("offset by (+6, +10)" in line for line in out["advice"])


@pytest.mark.browser
def test_a_model_that_clicks_nothing_fails_the_check() -> None:
    code, out, _ = calibrate_cli([turn(message("I cannot see a circle."))] * 5)
    assert code == ExitCode.CHECKS_FAILED
    assert out["space"] is None and out["flag"] is None
    assert "clicked none" in out["advice"][0]


def test_calibration_needs_a_key() -> None:
    res = screenloop("doctor", "--calibrate", env=clean_env(), timeout=60)
    assert res.code == ExitCode.USAGE
    assert "TZAFON_API_KEY" in res.stdout + res.stderr


def _samples(points: list[tuple[float, float]]) -> list[Sample]:
    return [
        Sample(label, (p.x, p.y), raw)
        for (label, p), raw in zip(target_points(SIZE), points, strict=True)
    ]


def test_analysis_of_a_large_offset_and_of_noise() -> None:
    big = analyse(_samples(model_clicks("pixels", offset=(40, -35))), SIZE)
    assert big.space == "pixels" and big.offset == (40.0, -35.0)
    scattered = [(100.0, 600.0), (1200.0, 20.0), (640.0, 700.0), (5.0, 5.0), (900.0, 100.0)]
    assert analyse(_samples(scattered), SIZE).space is None
