"""Cassette normalization, matching and checks' schemas: plain functions, no browser."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from pydantic import BaseModel

from agent import CassetteError, CheckAnswerError
from agent._pytest._cassette import Cassette, Interaction, Normalizer, compare, format_differences
from agent._pytest._screen_checks import build_check_request, check_spec, extract_spec, parse_answer
from agent._pytest._settings import cassette_path_for, default_record_mode, run_dir_name

pytest_plugins = ["pytester"]


def screenshot(button_at: tuple[int, int]) -> str:
    img = Image.new("RGB", (1280, 720), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((100, 60, 1180, 110), fill=(40, 60, 90))
    x, y = button_at
    draw.rectangle((x, y, x + 132, y + 44), fill=(200, 90, 40))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def request_with(image: str, text: str = "Add the lamp") -> dict[str, Any]:
    return {
        "model": "m",
        "stream": False,
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": text},
                    {"type": "input_image", "image_url": image},
                ],
            }
        ],
    }


def test_normalized_request_holds_hashes_placeholders_and_no_secrets() -> None:
    n = Normalizer(
        origin="http://127.0.0.1:4321/", secrets={"pw": "hunter22"}, api_key="sk-abcdef123"
    )
    n.learn(
        0,
        {
            "id": "resp_live_77",
            "output": [{"type": "computer_call", "id": "cu_9", "call_id": "call_xyz"}],
        },
    )
    body = {
        "model": "m",
        "previous_response_id": "resp_live_77",
        "request_id": "volatile",
        "input": [
            {
                "type": "computer_call_output",
                "call_id": "call_xyz",
                "output": {
                    "type": "input_image",
                    "image_url": screenshot((620, 432)),
                    "current_url": "http://127.0.0.1:4321/cart?pw=hunter22 sk-abcdef123",
                },
            }
        ],
    }
    out = n.request("POST", "/responses", body)
    text = json.dumps(out)
    assert "data:image" not in text and "hunter22" not in text and "sk-abcdef123" not in text
    assert "request_id" not in out["body"]
    assert out["body"]["previous_response_id"] == "{{response:0}}"
    item = out["body"]["input"][0]
    assert item["call_id"] == "{{call:0}}"
    assert item["output"]["image_url"]["screenshot_hash"].startswith("d16:")
    assert item["output"]["current_url"] == "{{origin}}/cart?pw={{secret:pw}} [REDACTED]"
    # Responses go back with the current origin.
    other = Normalizer(origin="http://127.0.0.1:9999")
    served = other.response_from_cassette({"output": [{"url": "{{origin}}/cart"}]})
    assert served == {"output": [{"url": "http://127.0.0.1:9999/cart"}]}


@pytest.mark.parametrize(
    ("recorded", "now", "threshold", "differs"),
    [
        ((620, 432), (620, 432), 0.05, False),  # the same screen
        ((620, 432), (960, 552), 0.05, True),  # the button moved
        ((620, 432), (960, 552), 1.0, False),  # anything goes
    ],
)
def test_screenshots_match_within_the_threshold(
    recorded: tuple[int, int], now: tuple[int, int], threshold: float, differs: bool
) -> None:
    n = Normalizer()
    a = n.request("POST", "/responses", request_with(screenshot(recorded)))
    b = n.request("POST", "/responses", request_with(screenshot(now)))
    diffs = compare(a, b, threshold)
    assert bool(diffs) is differs
    if differs:
        message = format_differences(0, 3, a, diffs)
        assert "request 1 of 3" in message
        assert "body.input[0].content[1].image_url: the screen differs" in message


def _without_prints(value: Any) -> Any:
    """A normalized request as an older cassette stored it: dHash only."""
    if isinstance(value, dict):
        return {k: _without_prints(v) for k, v in value.items() if k != "screenshot_print"}
    if isinstance(value, list):
        return [_without_prints(v) for v in value]
    return value


def _as_check(request: dict[str, Any]) -> dict[str, Any]:
    body = dict(request)
    body["text"] = {"format": {"type": "json_schema", "name": "screen_check", "schema": {}}}
    return body


def test_old_cassettes_match_actions_by_dhash_bits_and_refuse_checks() -> None:
    n = Normalizer()
    a = _without_prints(n.request("POST", "/responses", request_with(screenshot((620, 432)))))
    b = n.request("POST", "/responses", request_with(screenshot((960, 552))))
    assert compare(a, b, 256) == []  # a value above 1 is the old unit, dHash bits
    assert compare(a, b, 4) != []
    same = n.request("POST", "/responses", _as_check(request_with(screenshot((620, 432)))))
    [diff] = compare(_without_prints(same), same)
    assert "has no fingerprint" in diff.describe()
    assert "--screenloop-record=all" in diff.describe()


def test_a_check_sees_a_small_change_an_action_step_tolerates() -> None:
    n = Normalizer()

    def shot(stock: str) -> str:
        img = Image.new("RGB", (1280, 720), (250, 250, 250))
        ImageDraw.Draw(img).text((40, 120), f"Desk lamp: {stock} in stock", fill=(30, 30, 30))
        buf = io.BytesIO()
        img.save(buf, "PNG")
        return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()

    before, after = shot("37"), shot("31")
    step = [n.request("POST", "/responses", request_with(s)) for s in (before, after)]
    check = [n.request("POST", "/responses", _as_check(request_with(s))) for s in (before, after)]
    assert compare(step[0], step[1]) == []  # 40 px tiles, 0.05: an action step may replay
    [diff] = compare(check[0], check[1])  # 8 px tiles, 0.04: a recorded answer may not
    assert "a check/extract answer was recorded for" in diff.describe()
    assert compare(check[0], check[0]) == []


def test_text_changes_are_listed_with_both_values() -> None:
    n = Normalizer()
    shot = screenshot((620, 432))
    a = n.request("POST", "/responses", request_with(shot, "Add the lamp"))
    b = n.request("POST", "/responses", request_with(shot, "Add the mug"))
    [diff] = compare(a, b, 4)
    assert diff.describe() == (
        "body.input[0].content[0].text: recorded 'Add the lamp', now 'Add the mug'"
    )


def test_cassette_round_trip_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "c" / "t.json"
    assert not Cassette.load(path).exists
    Cassette(path).save([Interaction({"method": "POST"}, {"status": 200, "json": {}})])
    loaded = Cassette.load(path)
    assert loaded.exists and loaded.interactions[0].request == {"method": "POST"}
    path.write_text('{"version": 99, "interactions": []}')
    with pytest.raises(CassetteError, match="version-1"):
        Cassette.load(path)


class Product(BaseModel):
    name: str
    price_cents: int


def test_extract_schema_is_wrapped_strict_and_typed() -> None:
    spec = extract_spec(Product)
    assert spec.strict is True
    assert spec.schema["required"] == ["value"]
    assert spec.schema["properties"]["value"]["additionalProperties"] is False
    body = build_check_request("m", "What is shown?", "data:image/png;base64,AA==", spec)
    assert body["text"]["format"] == {
        "type": "json_schema",
        "name": "extract_Product",
        "schema": spec.schema,
        "strict": True,
    }
    assert "tools" not in body
    reply = [
        {
            "type": "message",
            "content": [
                {
                    "type": "output_text",
                    "text": ('```json\n{"value": {"name": "Mug", "price_cents": 1600}}\n```'),
                }
            ],
        }
    ]
    value, _ = parse_answer(reply, spec)
    assert value == Product(name="Mug", price_cents=1600)
    bad = [{"type": "message", "content": [{"type": "output_text", "text": '{"value": 3}'}]}]
    with pytest.raises(CheckAnswerError, match="does not fit the schema"):
        parse_answer(bad, spec)


def test_optional_fields_make_the_schema_non_strict_and_checks_read_booleans() -> None:
    class Maybe(BaseModel):
        note: str | None = None

    assert extract_spec(Maybe).strict is False
    assert extract_spec(int).strict is True
    spec = check_spec()
    reply = [
        {
            "type": "message",
            "content": [{"type": "output_text", "text": '{"answer": false, "reason": "no"}'}],
        }
    ]
    assert parse_answer(reply, spec)[0] is False
    with pytest.raises(CheckAnswerError, match="not JSON"):
        parse_answer(
            [{"type": "message", "content": [{"type": "output_text", "text": "yes"}]}], spec
        )


def test_record_mode_default_and_names() -> None:
    assert default_record_mode({"CI": "true"}) == "none"
    assert default_record_mode({"CI": "0"}) == "once"
    assert default_record_mode({}) == "once"
    assert run_dir_name("tests/test_a.py::TestX::test_b[1-x y]") == (
        "tests-test_a.py--TestX--test_b-1-x-y"
    )


def test_cassette_path_is_next_to_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mod="class TestC:\n    def test_x(self):\n        pass\n")
    items, _ = pytester.inline_genitems()
    assert (
        cassette_path_for(items[0])
        == pytester.path / "cassettes" / "test_mod" / "TestC.test_x.json"
    )
