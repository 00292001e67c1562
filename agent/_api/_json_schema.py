"""Structured output from a JSON Schema (``--output-schema FILE``, a batch task's key).

`json_schema_output` turns a JSON Schema object -- untrusted input -- into the
same `OutputSpec` that ``Agent.run(output_schema=Model)`` builds from a type:
the request's ``text.format`` carries the schema (every object closed, as for a
model: `make_strict`), and the final answer is read by the same rules and
validated against that schema. The value is plain JSON (dicts, lists, strings,
numbers), as the answer gave it.

The schema must be an object schema (``"type": "object"`` at the root), at
most `MAX_SCHEMA_BYTES` of JSON and `MAX_DEPTH` levels deep, with ``$ref``
only to its own ``#/$defs/...`` or ``#/definitions/...``. Validation covers
the keywords structured output uses: ``type`` (one or a list), ``properties``,
``required``, ``additionalProperties`` (a boolean or a schema), ``items``,
``enum``, ``const``, ``anyOf``/``oneOf``/``allOf``, ``minimum``/``maximum``,
``minLength``/``maxLength``, ``minItems``/``maxItems``, ``pattern``; other
keywords (``description``, ``format``, ...) are sent and not checked.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, TypeAdapter

from agent._api._output import OutputSpec, format_name, make_strict
from agent._errors import ConfigurationError

__all__ = ["MAX_DEPTH", "MAX_SCHEMA_BYTES", "json_schema_output"]

MAX_SCHEMA_BYTES = 256 * 1024
MAX_DEPTH = 32
_MAX_PATTERN = 500
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def json_schema_output(
    schema: Any, name: str = "output", *, where: str = "the schema"
) -> OutputSpec:
    """The `OutputSpec` for answers of the JSON Schema `schema`; `ConfigurationError`
    (naming `where`) when it is not a usable object schema."""
    if not isinstance(schema, dict):
        raise ConfigurationError(f"{where}: a JSON Schema object, got {type(schema).__name__}")
    size = len(json.dumps(schema))
    if size > MAX_SCHEMA_BYTES:
        raise ConfigurationError(f"{where}: {size} bytes of JSON, at most {MAX_SCHEMA_BYTES}")
    if schema.get("type") != "object":
        raise ConfigurationError(
            f'{where}: the root must be an object schema ("type": "object"), as structured '
            f"output requires; got type {schema.get('type')!r}"
        )
    root = copy.deepcopy(schema)
    strict = make_strict(root)
    _Checker(root, where).check_schema(root, "#", 0)
    title = schema.get("title")
    label = format_name(title if isinstance(title, str) and title else name, "output")
    checker = _Checker(root, where)

    def validate(value: Any) -> Any:
        problem = checker.problem(root, value, "$", 0)
        if problem is not None:
            raise ValueError(problem)
        return value

    adapter: TypeAdapter[Any] = TypeAdapter(Annotated[Any, AfterValidator(validate)])
    return OutputSpec(label, root, strict, adapter, wrapped=False)


class _Checker:
    def __init__(self, root: dict[str, Any], where: str) -> None:
        self.root = root
        self.where = where

    # -- the schema itself ---------------------------------------------------------------
    def bad(self, at: str, why: str) -> ConfigurationError:
        return ConfigurationError(f"{self.where}: at {at}: {why}")

    def check_schema(self, node: Any, at: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self.bad(at, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, bool):
            return
        if not isinstance(node, dict):
            raise self.bad(at, "a schema must be an object or a boolean")
        kind = node.get("type")
        kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
        for k in kinds:
            if k not in _TYPES:
                raise self.bad(at, f"unknown type {k!r}")
        ref = node.get("$ref")
        if ref is not None:
            self.resolve(ref, at)
        pattern = node.get("pattern")
        if pattern is not None:
            if not isinstance(pattern, str) or len(pattern) > _MAX_PATTERN:
                raise self.bad(at, f"pattern: a regular expression of at most {_MAX_PATTERN}")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise self.bad(at, f"pattern does not compile: {exc}") from None
        for key in ("enum", "required", "anyOf", "oneOf", "allOf"):
            if key in node and not isinstance(node[key], list):
                raise self.bad(at, f"{key} must be a list")
        for key in ("properties", "$defs", "definitions"):
            if key in node:
                if not isinstance(node[key], dict):
                    raise self.bad(at, f"{key} must be an object")
                for prop, sub in node[key].items():
                    self.check_schema(sub, f"{at}/{key}/{prop}", depth + 1)
        for key in ("items", "additionalProperties", "not"):
            if key in node:
                self.check_schema(node[key], f"{at}/{key}", depth + 1)
        for key in ("anyOf", "oneOf", "allOf"):
            for i, sub in enumerate(node.get(key) or []):
                self.check_schema(sub, f"{at}/{key}/{i}", depth + 1)

    def resolve(self, ref: Any, at: str) -> Any:
        if not isinstance(ref, str) or not ref.startswith(("#/$defs/", "#/definitions/")):
            raise self.bad(at, f"$ref {ref!r}: only #/$defs/NAME or #/definitions/NAME")
        section, _, name = ref[2:].partition("/")
        target = (self.root.get(section) or {}).get(name)
        if target is None:
            raise self.bad(at, f"$ref {ref!r} names no definition")
        return target

    # -- a value -------------------------------------------------------------------------
    def problem(self, node: Any, value: Any, at: str, depth: int) -> str | None:
        """Why `value` does not fit `node` (the first reason found), or None."""
        if node is True or node == {}:
            return None
        if node is False:
            return f"{at}: not allowed here"
        if depth > MAX_DEPTH * 4:
            return f"{at}: nested too deep"
        if "$ref" in node:
            return self.problem(self.resolve(node["$ref"], at), value, at, depth + 1)
        kind = node.get("type")
        kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
        if kinds and not any(_TYPES[k](value) for k in kinds):
            return f"{at}: expected {' or '.join(kinds)}, got {_json_type(value)}"
        if "const" in node and value != node["const"]:
            return f"{at}: must be {json.dumps(node['const'])}"
        if "enum" in node and value not in node["enum"]:
            return f"{at}: must be one of {json.dumps(node['enum'])[:200]}"
        for sub in node.get("allOf") or []:
            if (why := self.problem(sub, value, at, depth + 1)) is not None:
                return why
        for key in ("anyOf", "oneOf"):
            options = node.get(key)
            if options and all(self.problem(s, value, at, depth + 1) for s in options):
                return f"{at}: fits none of the {key} schemas"
        return self._bounds(node, value, at) or self._inside(node, value, at, depth)

    def _bounds(self, node: dict[str, Any], value: Any, at: str) -> str | None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in node and value < node["minimum"]:
                return f"{at}: below the minimum {node['minimum']}"
            if "maximum" in node and value > node["maximum"]:
                return f"{at}: above the maximum {node['maximum']}"
        if isinstance(value, str):
            if len(value) < node.get("minLength", 0):
                return f"{at}: shorter than {node['minLength']} characters"
            if "maxLength" in node and len(value) > node["maxLength"]:
                return f"{at}: longer than {node['maxLength']} characters"
            if "pattern" in node and not re.search(node["pattern"], value):
                return f"{at}: does not match the pattern {node['pattern']!r}"
        if isinstance(value, list):
            if len(value) < node.get("minItems", 0):
                return f"{at}: fewer than {node['minItems']} items"
            if "maxItems" in node and len(value) > node["maxItems"]:
                return f"{at}: more than {node['maxItems']} items"
        return None

    def _inside(self, node: dict[str, Any], value: Any, at: str, depth: int) -> str | None:
        if isinstance(value, list) and "items" in node:
            for i, item in enumerate(value):
                if (why := self.problem(node["items"], item, f"{at}[{i}]", depth + 1)) is not None:
                    return why
        if isinstance(value, dict):
            props: dict[str, Any] = node.get("properties") or {}
            for key in node.get("required") or []:
                if key not in value:
                    return f"{at}: missing the required property {key!r}"
            extra = node.get("additionalProperties", True)
            for key, item in value.items():
                sub = props.get(key, extra)
                if sub is False:
                    return f"{at}: property {key!r} is not allowed"
                if (why := self.problem(sub, item, f"{at}.{key}", depth + 1)) is not None:
                    return why
        return None


def _json_type(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _TYPES[name](value):
            return name
    return type(value).__name__
