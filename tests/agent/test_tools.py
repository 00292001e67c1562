"""Function tools: schema from signature + docstring, validation, errors as strings."""

from __future__ import annotations

import json

import pytest

from agent import ConfigurationError, FunctionTool, done_tool, function_tool


@function_tool
def add(a: int, b: int = 2) -> int:
    """Add two numbers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


@function_tool(name="lookup_user")
async def lookup(user_id: str, fields: list[str] | None = None) -> dict[str, object]:
    """Look a user up by id."""
    if user_id == "boom":
        raise RuntimeError("database is down")
    return {"id": user_id, "fields": fields or []}


def test_schema_comes_from_signature_and_docstring() -> None:
    tool = add.to_tool()
    assert tool["type"] == "function"
    assert tool["name"] == "add"
    assert tool["description"] == "Add two numbers."
    params = tool["parameters"]
    assert params["required"] == ["a"]
    assert params["properties"]["a"] == {"type": "integer", "description": "The first number."}
    assert params["properties"]["b"]["default"] == 2
    assert params["additionalProperties"] is False


async def test_sync_tool_success() -> None:
    outcome = await add.invoke(json.dumps({"a": 40}))
    assert (outcome.output, outcome.error) == ("42", None)


async def test_async_tool_success_with_name_override() -> None:
    assert isinstance(lookup, FunctionTool) and lookup.name == "lookup_user"
    outcome = await lookup.invoke('{"user_id": "u1", "fields": ["email"]}')
    assert json.loads(outcome.output) == {"id": "u1", "fields": ["email"]}


@pytest.mark.parametrize(
    "arguments, fragment",
    [
        ('{"a": "not a number"}', "a: Input should be a valid integer"),
        ("{}", "a: Field required"),
        ('{"a": 1, "c": 3}', "c: Extra inputs are not permitted"),
        ("{not json", "invalid arguments for add"),
    ],
)
async def test_bad_arguments_become_an_error_string(arguments: str, fragment: str) -> None:
    outcome = await add.invoke(arguments)
    assert outcome.error is not None and fragment in outcome.error
    assert outcome.output.startswith("error: ")


async def test_exception_becomes_an_error_string() -> None:
    outcome = await lookup.invoke('{"user_id": "boom"}')
    assert outcome.error == "lookup_user raised RuntimeError: database is down"


async def test_done_tool() -> None:
    tool = done_tool()
    assert tool.name == "done" and tool.parameters["required"] == ["result"]
    assert (await tool.invoke('{"result": "all set"}')).output == "all set"


def test_bad_tool_definitions_are_configuration_errors() -> None:
    def star(*args: int) -> None:
        """No."""

    with pytest.raises(ConfigurationError):
        function_tool(star)
    with pytest.raises(ConfigurationError):
        function_tool(add.fn, name="has space")
