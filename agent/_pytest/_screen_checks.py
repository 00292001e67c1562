"""Checks: ask the model a question about the current screen and get a typed answer.

`check` asks a yes/no question; `extract` asks for a value of any type. Both
send one request with the screenshot, no tools (the model cannot act), and
structured output::

    "text": {"format": {"type": "json_schema", "name": ..., "schema": ..., "strict": ...}}

The schema's root is always an object (``{"answer": bool, "reason": str}`` for a
check, ``{"value": <your schema>}`` for an extraction), as strict structured
output requires. The value is validated with a pydantic `TypeAdapter` (a run's ``output_schema``
shares the strict-schema and JSON-reading rules, agent/_api/_output.py): pass a
pydantic model, any type pydantic understands (``int``, ``list[str]``, a
TypedDict, a dataclass...), or a JSON-schema dict (then the parsed JSON is
returned as is). ``strict`` is true when the schema meets the strict rules
(every object closed, every property required); otherwise it is false and the
model is asked without the guarantee.

Plain functions, no I/O: the caller sends the request (`ScreenloopAgent` in
agent/_pytest/_agent.py) and records question, answer and screenshot.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from agent._api._output import format_name, loads_lenient, make_strict, under_value
from agent._errors import CheckAnswerError, ConfigurationError

__all__ = [
    "CHECK_INSTRUCTIONS",
    "CheckSpec",
    "build_check_request",
    "check_spec",
    "extract_spec",
    "parse_answer",
]

CHECK_INSTRUCTIONS = (
    "You are verifying a user interface for an automated test. Look only at the "
    "screenshot. Answer the question truthfully from what is visible; if it cannot be "
    "seen, answer as if it is not the case. Reply with JSON matching the schema, nothing else."
)

_CHECK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "boolean", "description": "true if the statement holds on screen"},
        "reason": {"type": "string", "description": "what on the screen decides it"},
    },
    "required": ["answer", "reason"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class CheckSpec:
    """What to ask for and how to read the answer."""

    name: str
    schema: dict[str, Any]
    strict: bool
    key: str
    """The property of the root object holding the answer (``answer`` or ``value``)."""
    adapter: TypeAdapter[Any] | None
    """Validates the value; None for a JSON-schema dict (the JSON is returned as is)."""


def check_spec() -> CheckSpec:
    """The spec of a yes/no check."""
    return CheckSpec(
        "screen_check", copy.deepcopy(_CHECK_SCHEMA), True, "answer", TypeAdapter(bool)
    )


def extract_spec(schema: Any, name: str | None = None) -> CheckSpec:
    """The spec for extracting a value of `schema` (a type, a pydantic model or a JSON schema)."""
    adapter: TypeAdapter[Any] | None
    if isinstance(schema, dict):
        inner = copy.deepcopy(schema)
        adapter = None
        default_name = str(inner.get("title") or "value")
    else:
        try:
            adapter = TypeAdapter(schema)
            inner = adapter.json_schema()
        except Exception as exc:
            raise ConfigurationError(
                f"cannot build a JSON schema for {schema!r}: {exc}; pass a pydantic model, "
                "a type pydantic understands, or a JSON-schema dict"
            ) from exc
        default_name = getattr(schema, "__name__", None) or "value"
    root = under_value(inner)
    strict = make_strict(root)
    safe = format_name(name or f"extract_{default_name}", "extract_value")
    return CheckSpec(safe, root, strict, "value", adapter)


def build_check_request(
    model: str, question: str, image_url: str, spec: CheckSpec, *, instructions: str | None = None
) -> dict[str, Any]:
    """The Responses request asking `question` about the screenshot at `image_url`."""
    if not question.strip():
        raise ConfigurationError("a check needs a non-empty question")
    return {
        "model": model,
        "instructions": instructions or CHECK_INSTRUCTIONS,
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": question},
                    {"type": "input_image", "image_url": image_url, "detail": "auto"},
                ],
            }
        ],
        "text": {
            "format": {
                "type": "json_schema",
                "name": spec.name,
                "schema": spec.schema,
                "strict": spec.strict,
            }
        },
        "store": False,
    }


def _output_text(output: list[dict[str, Any]]) -> str:
    texts: list[str] = []
    refusals: list[str] = []
    for item in output:
        if item.get("type") != "message":
            continue
        for part in item.get("content") or []:
            if not isinstance(part, dict):
                continue
            if part.get("type") in ("output_text", "text") and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif part.get("type") == "refusal":
                refusals.append(str(part.get("refusal") or part.get("text") or ""))
    if not texts and refusals:
        raise CheckAnswerError(f"the model refused to answer: {' '.join(refusals)}")
    return "".join(texts).strip()


def _loads_lenient(text: str) -> Any:
    """JSON from a model's text (agent/_api/_output.py), or `CheckAnswerError`."""
    try:
        return loads_lenient(text)
    except ValueError:
        raise CheckAnswerError(f"the model's answer is not JSON: {text[:300]!r}") from None


def parse_answer(output: list[dict[str, Any]], spec: CheckSpec) -> tuple[Any, dict[str, Any]]:
    """The typed value and the whole parsed JSON object of a check's response output."""
    text = _output_text(output)
    if not text:
        raise CheckAnswerError("the model answered the check with no text")
    data = _loads_lenient(text)
    if not isinstance(data, dict) or spec.key not in data:
        raise CheckAnswerError(
            f"the model's answer has no {spec.key!r} field: {json.dumps(data)[:300]}"
        )
    raw = data[spec.key]
    if spec.adapter is None:
        return raw, data
    try:
        value = spec.adapter.validate_python(raw)
    except ValidationError as exc:
        raise CheckAnswerError(
            f"the model's answer {json.dumps(raw)[:200]} does not fit the schema: "
            f"{exc.error_count()} error(s), first: {exc.errors()[0]['msg']}"
        ) from exc
    return value, data
