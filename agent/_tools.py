"""Function tools: typed Python functions the model may call.

``@function_tool`` reads the signature and docstring, builds a pydantic model
for the arguments, and gives the Responses API its JSON schema. When the model
calls the tool, the arguments are validated and the function (sync or async)
runs; bad arguments or an exception become an error string sent back to the
model as the ``function_call_output`` -- never a crash of the run.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

import pydantic

from agent._errors import ConfigurationError
from executors._computer import ChoosesFiles

__all__ = [
    "CHOOSE_FILE_TOOL_NAME",
    "DONE_TOOL_NAME",
    "FunctionTool",
    "ToolOutcome",
    "choose_file_tool",
    "done_tool",
    "function_tool",
]

logger = logging.getLogger(__name__)

DONE_TOOL_NAME = "done"
CHOOSE_FILE_TOOL_NAME = "choose_file"
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class ToolOutcome:
    """The result of one tool call: the text for the model and an error, if any."""

    output: str
    error: str | None = None


def _parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into the summary and ``Args:`` descriptions."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    params: dict[str, str] = {}
    in_args = False
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        if stripped.lower() in ("args:", "arguments:", "parameters:"):
            in_args = True
            continue
        if in_args:
            if stripped.endswith(":") and not line.startswith((" ", "\t")):
                in_args = False  # another section (Returns:, Raises:)
                continue
            m = re.match(r"^\s+(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$", line)
            if m:
                current = m.group(1)
                params[current] = m.group(2).strip()
            elif current and stripped:
                params[current] += " " + stripped
            continue
        if not params:
            summary.append(line)
    return "\n".join(summary).strip(), params


class FunctionTool:
    """A function the model can call; build it with `function_tool`."""

    def __init__(
        self, fn: Callable[..., Any], *, name: str | None = None, description: str | None = None
    ) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        if not _NAME_RE.match(self.name):
            raise ConfigurationError(
                f"function tool name {self.name!r} must match {_NAME_RE.pattern}"
            )
        summary, param_docs = _parse_docstring(fn.__doc__)
        self.description = description if description is not None else summary
        self.is_async = inspect.iscoroutinefunction(fn)
        try:
            hints = get_type_hints(fn)
        except Exception as exc:
            raise ConfigurationError(f"cannot read the type hints of {self.name!r}: {exc}") from exc
        fields: dict[str, Any] = {}
        for pname, param in inspect.signature(fn).parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise ConfigurationError(f"function tool {self.name!r}: *args/**kwargs unsupported")
            annotation = hints.get(pname, Any)
            default = ... if param.default is param.empty else param.default
            fields[pname] = (
                annotation,
                pydantic.Field(default, description=param_docs.get(pname)),
            )
        self.arguments_model: type[pydantic.BaseModel] = pydantic.create_model(
            f"{self.name}_arguments",
            __config__=pydantic.ConfigDict(extra="forbid"),
            **fields,
        )
        schema = self.arguments_model.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        self.parameters: dict[str, Any] = schema

    def to_tool(self) -> dict[str, Any]:
        """The entry for the request's ``tools`` list."""
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
        }

    async def invoke(self, arguments: str) -> ToolOutcome:
        """Validate `arguments` (a JSON string), call the function, and return its text."""
        try:
            parsed = self.arguments_model.model_validate_json(arguments or "{}")
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}"
                for e in exc.errors()
            )
            msg = f"invalid arguments for {self.name}: {problems}"
            return ToolOutcome(f"error: {msg}", error=msg)
        kwargs = {k: getattr(parsed, k) for k in type(parsed).model_fields}
        try:
            value = await self.fn(**kwargs) if self.is_async else self.fn(**kwargs)
        except Exception as exc:
            logger.info("function tool %s raised %s", self.name, type(exc).__name__)
            msg = f"{self.name} raised {type(exc).__name__}: {exc}"
            return ToolOutcome(f"error: {msg}", error=msg)
        return ToolOutcome(_to_text(value))

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped function directly (sync or async)."""
        result = self.fn(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump_json()
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


def function_tool(
    fn: Callable[..., Any] | None = None, *, name: str | None = None, description: str | None = None
) -> Any:
    """Turn a typed function into a `FunctionTool` (usable as ``@function_tool`` or with args).

    The schema comes from the parameters' type hints and defaults; the
    description from the docstring's summary; parameter descriptions from its
    ``Args:`` section.
    """
    if fn is None:
        return lambda f: FunctionTool(f, name=name, description=description)
    return FunctionTool(fn, name=name, description=description)


def _done(result: str) -> str:
    """Call this when the task is finished, with the final answer or a short summary.

    Args:
        result: The answer to the task, or what was done.
    """
    return result


def done_tool() -> FunctionTool:
    """The built-in ``done`` tool: calling it ends the run with its ``result`` as final output."""
    return FunctionTool(_done, name=DONE_TOOL_NAME)


def choose_file_tool(computer: ChoosesFiles) -> FunctionTool:
    """The built-in ``choose_file`` tool: answers an open file chooser from the upload directory."""

    async def choose_file(name: str) -> str:
        """Pick the file to upload in the file chooser that is open.

        Args:
            name: One of the file names listed when the chooser opened.
        """
        chosen = await computer.choose_file(name)
        return f"{chosen} was chosen for upload."

    return FunctionTool(choose_file, name=CHOOSE_FILE_TOOL_NAME)
