"""The ``POST /v1/responses`` request body and its tools (pydantic v2).

Every parameter of the Lightcone reference is a field, including the vLLM
extras (``top_k``, ``priority``, ``request_id``, ``cache_salt``,
``mm_processor_kwargs``, ``previous_input_messages``, ``enable_response_messages``,
``skip_special_tokens``, ``include_stop_str_in_output``). All are optional, unknown
parameters are kept, and dumping writes only what was set.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, SerializeAsAny, ValidationError

from agent._api._protocol import Item, WireModel
from agent._errors import ConfigurationError

__all__ = [
    "BaseToolParam",
    "ComputerToolParam",
    "CustomToolParam",
    "FunctionToolParam",
    "ReasoningConfig",
    "ResponsesRequest",
    "TextConfig",
    "Tool",
    "UnknownToolParam",
    "parse_tool",
]

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]


class BaseToolParam(WireModel):
    """Base of the tools a request declares (wire models; named ``*Param`` so the request's
    function tool is not confused with `agent.FunctionTool`, the Python function wrapper)."""

    type: Any = None


class ComputerToolParam(BaseToolParam):
    """The computer tool in any of its three spellings.

    ``computer_use_preview`` (OpenAI, Lightcone SDK types), ``computer_use``
    (Lightcone docs and examples), ``computer`` (OpenAI's GA tool, batched actions).
    """

    type: Literal["computer_use_preview", "computer_use", "computer"] = "computer_use_preview"
    display_width: int | None = None
    display_height: int | None = None
    environment: str | None = None
    """``browser``, ``desktop``, ``windows``, ``mac``, ``linux``, ``ubuntu``."""


class FunctionToolParam(BaseToolParam):
    """A function in the caller's code; ``parameters`` is a JSON schema."""

    type: Literal["function"] = "function"
    name: str
    description: str | None = None
    parameters: JSONDict | None = None
    strict: bool | None = None


class CustomToolParam(BaseToolParam):
    """A custom tool taking free-form text (``format``: text or a lark/regex grammar)."""

    type: Literal["custom"] = "custom"
    name: str
    description: str | None = None
    format: JSONDict | None = None


class UnknownToolParam(BaseToolParam):
    """Any other tool (web_search, file_search, mcp, shell, ...); kept verbatim."""


_TOOL_TYPES: dict[str, type[BaseToolParam]] = {
    "computer_use_preview": ComputerToolParam,
    "computer_use": ComputerToolParam,
    "computer": ComputerToolParam,
    "function": FunctionToolParam,
    "custom": CustomToolParam,
}


def parse_tool(data: Mapping[str, Any]) -> BaseToolParam:
    """Read one tool declaration; unknown or malformed tools become `UnknownToolParam`."""
    if isinstance(data, BaseToolParam):
        return data
    if not isinstance(data, Mapping):
        raise ConfigurationError(f"a tool must be a JSON object, got {type(data).__name__}")
    kind = data.get("type")
    cls = _TOOL_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is not None:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            logger.warning("tool %r kept as unknown: %s", kind, exc)
    return UnknownToolParam.model_validate(data)


def _coerce_tool(value: Any) -> Any:
    try:
        return parse_tool(value)
    except ConfigurationError as exc:
        raise ValueError(str(exc)) from exc


Tool = Annotated[SerializeAsAny[BaseToolParam], BeforeValidator(_coerce_tool)]
"""A tool field: validated by `parse_tool`, dumped as its own class."""


class ReasoningConfig(WireModel):
    """``reasoning``: effort and summary settings for reasoning models."""

    effort: str | None = None
    """``none``, ``minimal``, ``low``, ``medium``, ``high``, ``xhigh``."""
    summary: str | None = None
    """``auto``, ``concise``, ``detailed``."""
    generate_summary: str | None = None


class TextConfig(WireModel):
    """``text``: the output format (text, json_schema, json_object) and verbosity."""

    format: JSONDict | None = None
    verbosity: str | None = None


class ResponsesRequest(WireModel):
    """The body of ``POST /v1/responses``.

    Build it with keywords (``ResponsesRequest(model=..., input=[...])``) and send
    ``request.to_dict()``; only the fields you set are sent.
    """

    # what to answer
    model: str | None = None
    input: str | list[Item] | None = None
    instructions: str | None = None
    previous_response_id: str | None = None
    conversation: str | JSONDict | None = None
    prompt: JSONDict | None = None
    """A prompt template reference: ``{id, version, variables}``."""
    # tools
    tools: list[Tool] | None = None
    tool_choice: str | JSONDict | None = None
    """``none``/``auto``/``required`` or an allowed-tools / function / custom / built-in choice."""
    parallel_tool_calls: bool | None = None
    max_tool_calls: int | None = None
    # sampling and output
    temperature: float | None = None
    top_p: float | None = None
    top_logprobs: int | None = None
    max_output_tokens: int | None = None
    reasoning: ReasoningConfig | None = None
    text: TextConfig | None = None
    truncation: str | None = None
    """``auto`` (required by OpenAI's computer-use model) or ``disabled``."""
    include: list[str] | None = None
    # transport and storage
    stream: bool | None = None
    stream_options: JSONDict | None = None
    store: bool | None = None
    background: bool | None = None
    metadata: dict[str, Any] | None = None
    service_tier: str | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    # Lightcone / vLLM extras
    top_k: int | None = None
    priority: int | None = None
    request_id: str | None = None
    cache_salt: str | None = None
    mm_processor_kwargs: JSONDict | None = None
    previous_input_messages: list[JSONDict] | None = None
    enable_response_messages: bool | None = None
    skip_special_tokens: bool | None = None
    include_stop_str_in_output: bool | None = None
