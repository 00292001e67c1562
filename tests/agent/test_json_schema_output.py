"""Structured output from a JSON Schema object (``--output-schema FILE``): the schema
is checked as untrusted input, answers are validated against it."""

from __future__ import annotations

from typing import Any

import pytest

from agent._api._json_schema import MAX_DEPTH, json_schema_output
from agent._api._output import output_spec
from agent._errors import ConfigurationError, OutputValidationError

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {"enum": ["lamp", "desk"]},
        "price": {"anyOf": [{"type": "number", "minimum": 0}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "maxItems": 2},
        "node": {"$ref": "#/$defs/node"},
    },
    "required": ["kind", "price", "tags", "node"],
    "$defs": {
        "node": {
            "type": "object",
            "properties": {"next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}},
            "required": ["next"],
        }
    },
}
GOOD = '{"kind": "lamp", "price": null, "tags": ["a"], "node": {"next": {"next": null}}}'


def test_a_fitting_answer_is_the_plain_json_value() -> None:
    spec = json_schema_output(SCHEMA, "order")
    assert spec.name == "order" and spec.wrapped is False
    assert spec.schema["additionalProperties"] is False  # closed, as for a model
    assert spec.text_format()["format"]["schema"]["properties"] == SCHEMA["properties"]
    assert spec.parse(GOOD) == {"kind": "lamp", "price": None, "tags": ["a"],
                                "node": {"next": {"next": None}}}  # fmt: skip
    assert output_spec(spec) is spec  # Agent.run(output_schema=spec) takes it as it is


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ('{"kind": "chair", "price": 1, "tags": [], "node": {"next": null}}', "$.kind: must be"),
        ('{"kind": "lamp", "price": -1, "tags": [], "node": {"next": null}}', "anyOf"),
        ('{"kind": "lamp", "price": 1, "tags": ["toolong"], "node": {"next": null}}', "$.tags[0]"),
        ('{"kind": "lamp", "price": 1, "tags": [], "node": {"next": 3}}', "$.node.next"),
        ('{"kind": "lamp", "price": 1, "tags": [], "node": {"next": null}, "x": 1}', "'x'"),
        ('{"kind": "lamp", "price": 1, "tags": []}', "required property 'node'"),
        ('{"kind": "lamp", "price": true, "tags": [], "node": {"next": null}}', "anyOf"),
    ],
)
def test_an_answer_that_does_not_fit_says_where(answer: str, said: str) -> None:
    with pytest.raises(OutputValidationError) as info:
        json_schema_output(SCHEMA).parse(answer)
    assert said in str(info.value)


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        node = {"type": "object", "properties": {"a": node}}
    return node


@pytest.mark.parametrize(
    ("schema", "said"),
    [
        ("object", "a JSON Schema object"),
        ({"type": "string"}, "must be an object schema"),
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/none"}}}, "names no definition"),
        ({"type": "object", "properties": {"a": {"$ref": "other.json#/x"}}}, "only #/$defs"),
        ({"type": "object", "properties": {"a": {"pattern": "x" * 501}}}, "at most 500"),
        ({"type": "object", "properties": {"a": {"enum": "ab"}}}, "enum must be a list"),
        ({"type": "object", "properties": {"a": 3}}, "an object or a boolean"),
        (_nested(MAX_DEPTH + 2), "nested deeper than"),
        ({"type": "object", "description": "x" * 300_000}, "at most 262144"),
    ],
)
def test_a_bad_schema_is_a_configuration_error(schema: Any, said: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        json_schema_output(schema, where="--output-schema s.json")
    assert said in str(info.value) and "--output-schema s.json" in str(info.value)
