"""Structured output: a run's final answer as JSON of a schema, through ``text.format``.

``Agent.run(task, output_schema=Model)`` sends, with every request::

    "text": {"format": {"type": "json_schema", "name": ..., "schema": ..., "strict": ...}}

(the shape of the Responses API's ``ResponseFormatTextJSONSchemaConfig``) and
validates the final answer with a pydantic `TypeAdapter`. A schema whose root
is not an object (``int``, ``list[str]``) is wrapped as ``{"value": ...}``, as
structured output requires an object root; the value is unwrapped again.
``strict`` is true when the schema meets the strict rules (every object closed,
every property required); otherwise the model is asked without the guarantee.

`make_strict` and `loads_lenient` are shared with the pytest plugin's
``check``/``extract`` (agent/_pytest/_screen_checks.py).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from agent._errors import ConfigurationError, OutputValidationError

__all__ = [
    "OutputSpec",
    "format_name",
    "loads_lenient",
    "make_strict",
    "output_spec",
    "under_value",
]

_NAME_RE = re.compile(r"[^a-zA-Z0-9_-]+")
_MAX_ECHO = 300


@dataclass(frozen=True)
class OutputSpec:
    """What a run asks the model to answer with, and how the answer is read."""

    name: str
    schema: dict[str, Any]
    strict: bool
    adapter: TypeAdapter[Any]
    wrapped: bool
    """True when the schema is wrapped as ``{"value": ...}`` (a non-object root)."""

    def text_format(self) -> dict[str, Any]:
        """The request's ``text`` field."""
        return {
            "format": {
                "type": "json_schema",
                "name": self.name,
                "schema": self.schema,
                "strict": self.strict,
            }
        }

    def parse(self, text: str | None) -> Any:
        """The validated value of the model's final answer; `OutputValidationError` otherwise."""
        if not text or not text.strip():
            raise OutputValidationError(f"the run ended with no answer to parse as {self.name}")
        try:
            data = loads_lenient(text)
        except ValueError:
            raise OutputValidationError(
                f"the final answer is not JSON for {self.name}: {text[:_MAX_ECHO]!r}"
            ) from None
        if self.wrapped:
            if not isinstance(data, dict) or "value" not in data:
                raise OutputValidationError(
                    f"the final answer has no 'value' field: {json.dumps(data)[:_MAX_ECHO]}"
                )
            data = data["value"]
        try:
            return self.adapter.validate_python(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "(root)"
            raise OutputValidationError(
                f"the final answer does not fit {self.name}: {exc.error_count()} error(s), "
                f"first at {where}: {first['msg']}"
            ) from None


def output_spec(schema: Any, name: str | None = None) -> OutputSpec:
    """The spec for answers of `schema`: a pydantic model or any type pydantic understands
    (or a spec already made, e.g. from a JSON Schema file: agent/_api/_json_schema.py)."""
    if isinstance(schema, OutputSpec):
        return schema
    if isinstance(schema, dict):
        raise ConfigurationError(
            "output_schema takes a type (a pydantic model, a dataclass, list[str], ...), "
            "not a JSON-schema dict: the answer is validated into that type"
        )
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(schema)
        inner = adapter.json_schema()
    except Exception as exc:
        raise ConfigurationError(
            f"cannot build a JSON schema for output_schema {schema!r}: {exc}"
        ) from exc
    wrapped = inner.get("type") != "object"
    root = copy.deepcopy(under_value(inner) if wrapped else inner)
    strict = make_strict(root)
    default = getattr(schema, "__name__", None) or "output"
    return OutputSpec(format_name(name or default, "output"), root, strict, adapter, wrapped)


def under_value(inner: dict[str, Any]) -> dict[str, Any]:
    """An object schema whose one required property ``value`` is `inner` (for answers
    that are not objects: the Responses API's json_schema format wants an object at
    the root); `inner`'s ``$defs`` move up to the root, where its refs point."""
    defs = inner.pop("$defs", None)
    root: dict[str, Any] = {
        "type": "object",
        "properties": {"value": inner},
        "required": ["value"],
        "additionalProperties": False,
    }
    if defs:
        root["$defs"] = defs
    return root


def format_name(name: str, fallback: str) -> str:
    """`name` as a ``text.format`` name: letters, digits, ``_`` and ``-``, at most 64."""
    return _NAME_RE.sub("_", name)[:64] or fallback


def make_strict(schema: Any) -> bool:
    """Close every object schema (additionalProperties: false) in place; True if strict-valid."""
    ok = True
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            schema.setdefault("additionalProperties", False)
            props = schema.get("properties") or {}
            if schema.get("additionalProperties") is not False:
                ok = False
            if set(schema.get("required") or []) != set(props):
                ok = False
        if "default" in schema:
            ok = False
        for value in schema.values():
            if isinstance(value, (dict, list)):
                ok = make_strict(value) and ok
    elif isinstance(schema, list):
        for value in schema:
            ok = make_strict(value) and ok
    return ok


def loads_lenient(text: str) -> Any:
    """JSON from a model's text: plain, inside a ``` fence, or the first {...} in it.

    Raises ValueError when none of them parses.
    """
    candidates = [text]
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fence:
        candidates.append(fence.group(1))
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise ValueError(f"not JSON: {text[:_MAX_ECHO]!r}")
