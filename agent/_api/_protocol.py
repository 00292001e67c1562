"""Responses API items and content parts (pydantic v2), lenient and lossless.

Every input and output item type of ``POST /v1/responses`` (see
``shared/spec/lightcone-responses-create.txt``) has a model here. Three rules make
them safe at the edge:

- unknown fields are kept (``extra="allow"``) and dumped back unchanged;
- an unknown ``type`` becomes `UnknownItem` / `UnknownContent` with all its data,
  and so does a known type whose fields do not validate (logged as a warning);
- dumping writes only what was set (``model_dump`` defaults to
  ``exclude_unset=True, by_alias=True``), so JSON -> model -> JSON is the identity.

Computer actions stay raw dicts here; `agent._actions._parse` turns them into
canonical actions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, SerializeAsAny, ValidationError

from agent._actions._model import Action
from agent._actions._parse import parse_call_actions
from agent._api._content import (
    Annotation,
    BaseContent,
    ComputerScreenshot,
    ContentPart,
    InputFile,
    InputImage,
    InputText,
    Logprob,
    OutputText,
    ReasoningText,
    Refusal,
    SummaryText,
    UnknownContent,
    WireModel,
    parse_content,
)
from agent._errors import ResponseValidationError

__all__ = [
    "Annotation",
    "ApplyPatchCall",
    "ApplyPatchCallOutput",
    "BaseContent",
    "BaseItem",
    "CodeInterpreterCall",
    "Compaction",
    "ComputerCall",
    "ComputerCallOutput",
    "ComputerScreenshot",
    "ContentPart",
    "CustomToolCall",
    "CustomToolCallOutput",
    "FileSearchCall",
    "FunctionCall",
    "FunctionCallOutput",
    "ImageGenerationCall",
    "InputFile",
    "InputImage",
    "InputMessage",
    "InputText",
    "Item",
    "ItemReference",
    "LocalShellCall",
    "LocalShellCallOutput",
    "Logprob",
    "McpApprovalRequest",
    "McpApprovalResponse",
    "McpCall",
    "McpListTools",
    "OutputMessage",
    "OutputText",
    "PendingSafetyCheck",
    "Reasoning",
    "ReasoningText",
    "Refusal",
    "ShellCall",
    "ShellCallOutput",
    "SummaryText",
    "UnknownContent",
    "UnknownItem",
    "WebSearchCall",
    "WireModel",
    "parse_content",
    "parse_item",
]

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]


# --- items ---------------------------------------------------------------------


class BaseItem(WireModel):
    """Base of every input/output item."""

    type: Any = None
    id: str | None = None


class InputMessage(BaseItem):
    """A user/system/developer message, or the reference's "easy" message
    (``type`` may be absent, ``content`` may be a plain string, any role)."""

    _always_dump_type: ClassVar[bool] = False  # the easy form has no type
    type: Literal["message"] = "message"
    role: str
    content: str | list[ContentPart]
    status: str | None = None


class OutputMessage(BaseItem):
    """An assistant message: ``output_text`` and ``refusal`` parts."""

    type: Literal["message"] = "message"
    role: Literal["assistant"]
    content: list[ContentPart]
    status: str | None = None

    @property
    def text(self) -> str:
        """The message's output_text parts, joined."""
        return "".join(p.text for p in self.content if isinstance(p, OutputText))


class PendingSafetyCheck(WireModel):
    """A safety check on a computer_call (``malicious_instructions``, ...)."""

    id: str | None = None
    code: str | None = None
    message: str | None = None


class ComputerCall(BaseItem):
    """``computer_call``: one ``action`` (reference) or batched ``actions`` (GA tool)."""

    type: Literal["computer_call"] = "computer_call"
    call_id: str
    action: JSONDict | None = None
    actions: list[JSONDict] | None = None
    pending_safety_checks: list[PendingSafetyCheck] | None = None
    status: str | None = None

    def parsed_actions(self) -> list[Action]:
        """The canonical actions (see `agent._actions._parse.parse_call_actions`)."""
        return parse_call_actions(self.to_dict())


class ComputerCallOutput(BaseItem):
    """``computer_call_output``: a ``computer_screenshot`` or ``input_image`` output."""

    type: Literal["computer_call_output"] = "computer_call_output"
    call_id: str
    output: ContentPart
    acknowledged_safety_checks: list[PendingSafetyCheck] | None = None
    current_url: str | None = None
    status: str | None = None


class FunctionCall(BaseItem):
    """``function_call``: ``arguments`` is a JSON string."""

    type: Literal["function_call"] = "function_call"
    call_id: str
    name: str
    arguments: str
    status: str | None = None


class FunctionCallOutput(BaseItem):
    """``function_call_output``: a string or a list of content parts."""

    type: Literal["function_call_output"] = "function_call_output"
    call_id: str
    output: str | list[ContentPart]
    status: str | None = None


class Reasoning(BaseItem):
    """``reasoning``: summaries, optional content and encrypted content (send back as is)."""

    type: Literal["reasoning"] = "reasoning"
    summary: list[ContentPart] | None = None
    content: list[ContentPart] | None = None
    encrypted_content: str | None = None
    status: str | None = None


class WebSearchCall(BaseItem):
    """``web_search_call``: ``action`` is search / open_page / find (kept as a dict)."""

    type: Literal["web_search_call"] = "web_search_call"
    action: JSONDict | None = None
    status: str | None = None


class FileSearchCall(BaseItem):
    """``file_search_call``: queries and results."""

    type: Literal["file_search_call"] = "file_search_call"
    queries: list[str] | None = None
    results: list[JSONDict] | None = None
    status: str | None = None


class CodeInterpreterCall(BaseItem):
    """``code_interpreter_call``: code, container and log/image outputs."""

    type: Literal["code_interpreter_call"] = "code_interpreter_call"
    code: str | None = None
    container_id: str | None = None
    outputs: list[JSONDict] | None = None
    status: str | None = None


class ImageGenerationCall(BaseItem):
    """``image_generation_call``: ``result`` is the base64 image."""

    type: Literal["image_generation_call"] = "image_generation_call"
    result: str | None = None
    status: str | None = None


class LocalShellCall(BaseItem):
    """``local_shell_call``: ``action`` is an exec (command, env, timeout_ms, ...)."""

    type: Literal["local_shell_call"] = "local_shell_call"
    call_id: str | None = None
    action: JSONDict | None = None
    status: str | None = None


class LocalShellCallOutput(BaseItem):
    """``local_shell_call_output``: the command's output as a string."""

    type: Literal["local_shell_call_output"] = "local_shell_call_output"
    output: str | None = None
    status: str | None = None


class ShellCall(BaseItem):
    """``shell_call``: commands and limits in ``action``."""

    type: Literal["shell_call"] = "shell_call"
    call_id: str | None = None
    action: JSONDict | None = None
    status: str | None = None


class ShellCallOutput(BaseItem):
    """``shell_call_output``: stdout/stderr/outcome chunks."""

    type: Literal["shell_call_output"] = "shell_call_output"
    call_id: str | None = None
    output: list[JSONDict] | None = None
    max_output_length: int | None = None
    status: str | None = None


class ApplyPatchCall(BaseItem):
    """``apply_patch_call``: create_file / delete_file / update_file ``operation``."""

    type: Literal["apply_patch_call"] = "apply_patch_call"
    call_id: str | None = None
    operation: JSONDict | None = None
    status: str | None = None


class ApplyPatchCallOutput(BaseItem):
    """``apply_patch_call_output``: completed or failed, with optional output text."""

    type: Literal["apply_patch_call_output"] = "apply_patch_call_output"
    call_id: str | None = None
    output: str | None = None
    status: str | None = None


class McpListTools(BaseItem):
    """``mcp_list_tools``: the tools of one MCP server."""

    type: Literal["mcp_list_tools"] = "mcp_list_tools"
    server_label: str | None = None
    tools: list[JSONDict] | None = None
    error: str | None = None


class McpApprovalRequest(BaseItem):
    """``mcp_approval_request``: a tool call waiting for a person's approval."""

    type: Literal["mcp_approval_request"] = "mcp_approval_request"
    server_label: str | None = None
    name: str | None = None
    arguments: str | None = None


class McpApprovalResponse(BaseItem):
    """``mcp_approval_response``: the answer to an approval request."""

    type: Literal["mcp_approval_response"] = "mcp_approval_response"
    approval_request_id: str | None = None
    approve: bool | None = None
    reason: str | None = None


class McpCall(BaseItem):
    """``mcp_call``: a tool invoked on an MCP server, with output or error."""

    type: Literal["mcp_call"] = "mcp_call"
    server_label: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | None = None
    error: str | None = None
    approval_request_id: str | None = None
    status: str | None = None


class CustomToolCall(BaseItem):
    """``custom_tool_call``: free-form ``input`` for a custom tool."""

    type: Literal["custom_tool_call"] = "custom_tool_call"
    call_id: str
    name: str
    input: str


class CustomToolCallOutput(BaseItem):
    """``custom_tool_call_output``: a string or content parts."""

    type: Literal["custom_tool_call_output"] = "custom_tool_call_output"
    call_id: str
    output: str | list[ContentPart]


class ItemReference(BaseItem):
    """``item_reference``: an earlier item by id."""

    type: Literal["item_reference"] = "item_reference"


class Compaction(BaseItem):
    """``compaction``: an opaque summary from ``/v1/responses/compact``."""

    type: Literal["compaction"] = "compaction"
    encrypted_content: str | None = None


class UnknownItem(BaseItem):
    """An item of a type screenloop does not model (or that did not validate); kept verbatim."""


_ITEM_TYPES: dict[str, type[BaseItem]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        ComputerCall,
        ComputerCallOutput,
        FunctionCall,
        FunctionCallOutput,
        Reasoning,
        WebSearchCall,
        FileSearchCall,
        CodeInterpreterCall,
        ImageGenerationCall,
        LocalShellCall,
        LocalShellCallOutput,
        ShellCall,
        ShellCallOutput,
        ApplyPatchCall,
        ApplyPatchCallOutput,
        McpListTools,
        McpApprovalRequest,
        McpApprovalResponse,
        McpCall,
        CustomToolCall,
        CustomToolCallOutput,
        ItemReference,
        Compaction,
    )
}


def _item_class(data: Mapping[str, Any]) -> type[BaseItem]:
    kind = data.get("type")
    if kind == "message" or (kind is None and "role" in data):
        if data.get("role") == "assistant" and isinstance(data.get("content"), list):
            return OutputMessage
        return InputMessage
    return _ITEM_TYPES.get(kind, UnknownItem) if isinstance(kind, str) else UnknownItem


def parse_item(data: Mapping[str, Any]) -> BaseItem:
    """Read one input/output item into its model.

    An unknown ``type`` gives `UnknownItem`; a known type whose fields do not
    validate also gives `UnknownItem` (with a warning), so nothing is dropped.
    Raises `ResponseValidationError` when ``data`` is not a JSON object.
    """
    if isinstance(data, BaseItem):
        return data
    if not isinstance(data, Mapping):
        raise ResponseValidationError(f"an item must be a JSON object, got {type(data).__name__}")
    cls = _item_class(data)
    if cls is not UnknownItem:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            logger.warning("%s item %r kept as unknown: %s", data.get("type"), data.get("id"), exc)
    return UnknownItem.model_validate(data)


def _coerce_item(value: Any) -> Any:
    try:
        return parse_item(value)
    except ResponseValidationError as exc:
        raise ValueError(str(exc)) from exc


Item = Annotated[SerializeAsAny[BaseItem], BeforeValidator(_coerce_item)]
"""An item field: validated by `parse_item`, dumped as its own class."""
