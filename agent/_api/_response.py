"""The Responses API response object (pydantic v2), lenient and lossless.

`Response.model_validate(body)` reads what ``POST /v1/responses`` (and
``GET``/``cancel``) return: every item of ``output`` becomes its item model
(`agent._api._protocol`), unknown fields and item types are kept, and
``model_dump()`` gives back exactly the JSON that was read.
"""

from __future__ import annotations

from typing import Any

from agent._api._protocol import (
    ComputerCall,
    FunctionCall,
    Item,
    OutputMessage,
    OutputText,
    Refusal,
    WireModel,
)
from agent._api._request import ReasoningConfig, TextConfig, Tool

__all__ = ["Response", "Usage"]


class Usage(WireModel):
    """Token counts; the ``*_details`` objects are kept as sent."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    input_tokens_details: dict[str, Any] | None = None
    output_tokens_details: dict[str, Any] | None = None


class Response(WireModel):
    """A Responses API response object.

    Only ``id`` and ``output`` are required; everything else is optional because
    servers (Lightcone, OpenAI, vLLM, proxies) each send a different subset.
    """

    id: str
    object: str | None = None
    created_at: float | None = None
    completed_at: float | None = None
    model: str | None = None
    status: str | None = None
    """``completed``, ``failed``, ``in_progress``, ``cancelled``, ``queued``, ``incomplete``."""
    output: list[Item]
    usage: Usage | None = None
    error: dict[str, Any] | None = None
    incomplete_details: dict[str, Any] | None = None
    previous_response_id: str | None = None
    instructions: str | list[Item] | None = None
    tools: list[Tool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    max_tool_calls: int | None = None
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_logprobs: int | None = None
    reasoning: ReasoningConfig | None = None
    text: TextConfig | None = None
    truncation: str | None = None
    store: bool | None = None
    background: bool | None = None
    metadata: dict[str, Any] | None = None
    service_tier: str | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt: dict[str, Any] | None = None
    conversation: str | dict[str, Any] | None = None

    @property
    def computer_calls(self) -> list[ComputerCall]:
        """The computer_call items, in order."""
        return [item for item in self.output if isinstance(item, ComputerCall)]

    @property
    def function_calls(self) -> list[FunctionCall]:
        """The function_call items, in order."""
        return [item for item in self.output if isinstance(item, FunctionCall)]

    @property
    def output_text(self) -> str:
        """All output_text of the assistant messages, joined (as the OpenAI SDK does)."""
        return "".join(
            part.text
            for item in self.output
            if isinstance(item, OutputMessage)
            for part in item.content
            if isinstance(part, OutputText)
        )

    @property
    def refusals(self) -> list[str]:
        """The text of every refusal part of the assistant messages."""
        return [
            part.refusal
            for item in self.output
            if isinstance(item, OutputMessage)
            for part in item.content
            if isinstance(part, Refusal)
        ]
