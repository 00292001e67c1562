"""Protocol models: every item type round-trips JSON -> model -> JSON unchanged."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from agent import Response, ResponseValidationError
from agent._actions._model import Click, Keypress, Type
from agent._api._protocol import (
    ApplyPatchCall,
    ApplyPatchCallOutput,
    BaseItem,
    CodeInterpreterCall,
    Compaction,
    ComputerCall,
    ComputerCallOutput,
    ComputerScreenshot,
    CustomToolCall,
    CustomToolCallOutput,
    FileSearchCall,
    FunctionCall,
    FunctionCallOutput,
    ImageGenerationCall,
    InputImage,
    InputMessage,
    InputText,
    Item,
    ItemReference,
    LocalShellCall,
    LocalShellCallOutput,
    McpApprovalRequest,
    McpApprovalResponse,
    McpCall,
    McpListTools,
    OutputMessage,
    OutputText,
    Reasoning,
    ShellCall,
    ShellCallOutput,
    UnknownContent,
    UnknownItem,
    WebSearchCall,
    parse_content,
    parse_item,
)
from agent._api._request import (
    ComputerToolParam,
    CustomToolParam,
    FunctionToolParam,
    ResponsesRequest,
    UnknownToolParam,
)

PNG = "data:image/png;base64,iVBORw0KGgo="

ITEMS: list[tuple[dict[str, Any], type[BaseItem]]] = [
    # messages
    ({"role": "user", "content": "open the settings"}, InputMessage),
    ({"role": "assistant", "content": "ok"}, InputMessage),
    ({"type": "message", "role": "developer", "content": "be brief"}, InputMessage),
    (
        {
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [
                {"type": "input_text", "text": "find the price"},
                {"type": "input_image", "image_url": PNG, "detail": "auto"},
                {"type": "input_image", "file_id": "file_1", "detail": "high"},
                {"type": "input_file", "file_id": "file_2", "filename": "a.pdf"},
                {"type": "input_file", "file_data": "JVBERi0=", "filename": "b.pdf"},
                {"type": "input_file", "file_url": "https://example.com/c.pdf"},
            ],
        },
        InputMessage,
    ),
    (
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [
                {
                    "type": "output_text",
                    "text": "The price is $5.",
                    "annotations": [
                        {"type": "file_citation", "file_id": "f", "filename": "x", "index": 0},
                        {
                            "type": "url_citation",
                            "url": "https://example.com",
                            "title": "Example",
                            "start_index": 0,
                            "end_index": 5,
                        },
                        {
                            "type": "container_file_citation",
                            "container_id": "c",
                            "file_id": "f",
                            "filename": "x",
                            "start_index": 1,
                            "end_index": 2,
                        },
                        {"type": "file_path", "file_id": "f", "index": 3},
                    ],
                    "logprobs": [
                        {
                            "token": "The",
                            "bytes": [84, 104, 101],
                            "logprob": -0.01,
                            "top_logprobs": [{"token": "A", "bytes": [65], "logprob": -4.5}],
                        }
                    ],
                },
                {"type": "refusal", "refusal": "I can't help with that."},
            ],
        },
        OutputMessage,
    ),
    # computer use
    (
        {
            "id": "cu_1",
            "type": "computer_call",
            "call_id": "call_1",
            "status": "completed",
            "action": {"type": "click", "button": "left", "x": 10, "y": 20},
            "pending_safety_checks": [
                {"id": "sc_1", "code": "malicious_instructions", "message": "careful"}
            ],
        },
        ComputerCall,
    ),
    (
        {
            "id": "cu_2",
            "type": "computer_call",
            "call_id": "call_2",
            "status": "completed",
            "actions": [
                {"type": "click", "x": 1.5, "y": 2, "keys": ["CTRL"]},
                {"type": "type", "text": "hi"},
                {"type": "keypress", "keys": ["ENTER"]},
            ],
            "pending_safety_checks": [],
        },
        ComputerCall,
    ),
    (
        {
            "type": "computer_call_output",
            "call_id": "call_1",
            "output": {"type": "computer_screenshot", "image_url": PNG},
            "acknowledged_safety_checks": [
                {"id": "sc_1", "code": "malicious_instructions", "message": "careful"}
            ],
        },
        ComputerCallOutput,
    ),
    (
        {
            "type": "computer_call_output",
            "call_id": "call_1",
            "output": {"type": "computer_screenshot", "file_id": "file_9"},
            "status": "completed",
        },
        ComputerCallOutput,
    ),
    (
        {
            "type": "computer_call_output",
            "call_id": "call_2",
            "output": {
                "type": "input_image",
                "image_url": PNG,
                "detail": "auto",
                "current_url": "https://example.com/",
            },
            "current_url": "https://example.com/",
        },
        ComputerCallOutput,
    ),
    # functions
    (
        {
            "id": "fc_1",
            "type": "function_call",
            "call_id": "call_3",
            "name": "done",
            "arguments": '{"result": "ok"}',
            "status": "completed",
        },
        FunctionCall,
    ),
    ({"type": "function_call_output", "call_id": "call_3", "output": "ok"}, FunctionCallOutput),
    (
        {
            "type": "function_call_output",
            "call_id": "call_3",
            "output": [
                {"type": "input_text", "text": "see image"},
                {"type": "input_image", "image_url": PNG, "detail": None},
                {"type": "input_file", "file_id": "f"},
            ],
            "status": "completed",
        },
        FunctionCallOutput,
    ),
    # reasoning and compaction
    (
        {
            "id": "rs_1",
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "Clicking the search box."}],
            "content": [{"type": "reasoning_text", "text": "raw thoughts"}],
            "encrypted_content": "gAAAA...",
            "status": "completed",
        },
        Reasoning,
    ),
    ({"id": "rs_2", "type": "reasoning", "summary": []}, Reasoning),
    ({"id": "cmp_1", "type": "compaction", "encrypted_content": "opaque"}, Compaction),
    # hosted tools
    (
        {
            "id": "ws_1",
            "type": "web_search_call",
            "status": "completed",
            "action": {"type": "search", "query": "weather", "sources": [{"url": "u"}]},
        },
        WebSearchCall,
    ),
    (
        {
            "id": "ws_2",
            "type": "web_search_call",
            "status": "completed",
            "action": {"type": "open_page", "url": "https://example.com"},
        },
        WebSearchCall,
    ),
    (
        {
            "id": "ws_3",
            "type": "web_search_call",
            "status": "failed",
            "action": {"type": "find", "url": "https://example.com", "pattern": "price"},
        },
        WebSearchCall,
    ),
    (
        {
            "id": "fs_1",
            "type": "file_search_call",
            "queries": ["price"],
            "status": "completed",
            "results": [
                {
                    "file_id": "f",
                    "filename": "x",
                    "score": 0.5,
                    "text": "t",
                    "attributes": {"a": "b", "n": 1.5, "ok": True},
                }
            ],
        },
        FileSearchCall,
    ),
    (
        {
            "id": "ci_1",
            "type": "code_interpreter_call",
            "code": "print(1)",
            "container_id": "cntr_1",
            "status": "completed",
            "outputs": [{"type": "logs", "logs": "1\n"}, {"type": "image", "url": "u"}],
        },
        CodeInterpreterCall,
    ),
    (
        {"id": "ig_1", "type": "image_generation_call", "status": "completed", "result": "iVBO"},
        ImageGenerationCall,
    ),
    (
        {
            "id": "ls_1",
            "type": "local_shell_call",
            "call_id": "call_4",
            "status": "completed",
            "action": {
                "type": "exec",
                "command": ["ls", "-l"],
                "env": {"A": "1"},
                "timeout_ms": 1000,
                "user": "me",
                "working_directory": "/tmp",
            },
        },
        LocalShellCall,
    ),
    (
        {"id": "ls_1", "type": "local_shell_call_output", "output": "total 0", "status": None},
        LocalShellCallOutput,
    ),
    (
        {
            "id": "sh_1",
            "type": "shell_call",
            "call_id": "call_5",
            "status": "completed",
            "action": {"commands": ["ls"], "timeout_ms": 500, "max_output_length": 100},
        },
        ShellCall,
    ),
    (
        {
            "id": "sho_1",
            "type": "shell_call_output",
            "call_id": "call_5",
            "max_output_length": 100,
            "output": [
                {"stdout": "a", "stderr": "", "outcome": {"type": "exit", "exit_code": 0}},
                {"stdout": "", "stderr": "", "outcome": {"type": "timeout"}},
            ],
        },
        ShellCallOutput,
    ),
    (
        {
            "id": "ap_1",
            "type": "apply_patch_call",
            "call_id": "call_6",
            "status": "completed",
            "operation": {"type": "update_file", "path": "a.py", "diff": "@@ -1 +1 @@\n-a\n+b"},
        },
        ApplyPatchCall,
    ),
    (
        {
            "type": "apply_patch_call",
            "call_id": "call_7",
            "status": "in_progress",
            "operation": {"type": "create_file", "path": "b.py", "diff": "+x"},
        },
        ApplyPatchCall,
    ),
    (
        {
            "type": "apply_patch_call",
            "call_id": "call_8",
            "status": "completed",
            "operation": {"type": "delete_file", "path": "c.py"},
        },
        ApplyPatchCall,
    ),
    (
        {"type": "apply_patch_call_output", "call_id": "call_6", "status": "failed", "output": "x"},
        ApplyPatchCallOutput,
    ),
    # MCP
    (
        {
            "id": "ml_1",
            "type": "mcp_list_tools",
            "server_label": "docs",
            "tools": [{"name": "search", "input_schema": {"type": "object"}, "annotations": None}],
            "error": None,
        },
        McpListTools,
    ),
    (
        {
            "id": "mar_1",
            "type": "mcp_approval_request",
            "server_label": "docs",
            "name": "delete",
            "arguments": "{}",
        },
        McpApprovalRequest,
    ),
    (
        {
            "type": "mcp_approval_response",
            "approval_request_id": "mar_1",
            "approve": False,
            "reason": "no",
        },
        McpApprovalResponse,
    ),
    (
        {
            "id": "mc_1",
            "type": "mcp_call",
            "server_label": "docs",
            "name": "search",
            "arguments": '{"q": "x"}',
            "output": "result",
            "error": None,
            "status": "completed",
            "approval_request_id": None,
        },
        McpCall,
    ),
    # custom tools and references
    (
        {
            "id": "ct_1",
            "type": "custom_tool_call",
            "call_id": "call_9",
            "name": "sql",
            "input": "1",
        },
        CustomToolCall,
    ),
    (
        {"type": "custom_tool_call_output", "call_id": "call_9", "output": "one row"},
        CustomToolCallOutput,
    ),
    (
        {
            "type": "custom_tool_call_output",
            "call_id": "call_9",
            "output": [{"type": "input_text", "text": "x"}],
        },
        CustomToolCallOutput,
    ),
    ({"type": "item_reference", "id": "msg_1"}, ItemReference),
    # not modelled: kept verbatim
    (
        {"type": "hologram_call", "id": "h_1", "payload": {"deep": [1, {"x": None}]}, "n": 1.5},
        UnknownItem,
    ),
    ({"id": "ref_without_type"}, UnknownItem),
]


def _ids() -> list[str]:
    return [f"{i}-{d.get('type', d.get('role', 'none'))}" for i, (d, _) in enumerate(ITEMS)]


@pytest.mark.parametrize(("data", "cls"), ITEMS, ids=_ids())
def test_item_round_trip(data: dict[str, Any], cls: type[BaseItem]) -> None:
    original = copy.deepcopy(data)
    item = parse_item(json.loads(json.dumps(data)))
    assert type(item) is cls
    assert item.to_dict() == original
    assert item.model_dump() == original
    assert json.loads(item.model_dump_json()) == original
    assert data == original  # parsing did not mutate the input


@pytest.mark.parametrize(("data", "cls"), ITEMS, ids=_ids())
def test_unknown_fields_survive(data: dict[str, Any], cls: type[BaseItem]) -> None:
    extended = {**data, "x_vendor_field": {"kept": [1, 2]}, "another": None}
    item = parse_item(extended)
    assert type(item) is cls
    assert item.to_dict() == extended


def test_item_list_round_trip_through_type_adapter() -> None:
    items = [copy.deepcopy(d) for d, _ in ITEMS]
    adapter = TypeAdapter(list[Item])
    models = adapter.validate_python(items)
    assert [type(m) for m in models] == [cls for _, cls in ITEMS]
    assert adapter.dump_python(models, mode="json", exclude_unset=True) == items


@pytest.mark.parametrize(
    "data",
    [
        {"type": "computer_call", "call_id": 5, "action": {"type": "click"}},
        {"type": "computer_call", "id": "cu_x"},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": {"a": 1}},
        {"type": "message", "role": "user"},
    ],
)
def test_malformed_known_items_are_kept_as_unknown(data: dict[str, Any]) -> None:
    item = parse_item(data)
    assert type(item) is UnknownItem
    assert item.to_dict() == data


@pytest.mark.parametrize("bad", [[1, 2], "computer_call", 3, None])
def test_non_object_items_raise_typed_error(bad: Any) -> None:
    with pytest.raises(ResponseValidationError):
        parse_item(bad)


def test_content_parts() -> None:
    assert type(parse_content({"type": "input_text", "text": "a"})) is InputText
    assert type(parse_content({"type": "input_image", "image_url": PNG})) is InputImage
    assert type(parse_content({"type": "computer_screenshot", "file_id": "f"})) is (
        ComputerScreenshot
    )
    odd = {"type": "audio_clip", "data": "x"}
    part = parse_content(odd)
    assert type(part) is UnknownContent and part.to_dict() == odd
    with pytest.raises(ResponseValidationError):
        parse_content(["x"])  # type: ignore[arg-type]


def test_computer_call_actions_stay_raw_and_parse_on_demand() -> None:
    single = parse_item(ITEMS[5][0])
    batched = parse_item(ITEMS[6][0])
    assert isinstance(single, ComputerCall) and isinstance(batched, ComputerCall)
    assert single.action == {"type": "click", "button": "left", "x": 10, "y": 20}
    assert single.parsed_actions() == [Click(10, 20)]
    assert batched.parsed_actions() == [
        Click(1.5, 2, keys=("ctrl",)),
        Type("hi"),
        Keypress(("enter",)),
    ]
    assert single.pending_safety_checks is not None
    assert single.pending_safety_checks[0].code == "malicious_instructions"


# --- the response object --------------------------------------------------------

REFERENCE_EXAMPLE: dict[str, Any] = {
    "id": "id",
    "created_at": 0,
    "model": "model",
    "object": "response",
    "output": [
        {
            "id": "id",
            "content": [
                {
                    "annotations": [
                        {
                            "file_id": "file_id",
                            "filename": "filename",
                            "index": 0,
                            "type": "file_citation",
                        }
                    ],
                    "text": "text",
                    "type": "output_text",
                    "logprobs": [
                        {
                            "token": "token",
                            "bytes": [0],
                            "logprob": 0,
                            "top_logprobs": [{"token": "token", "bytes": [0], "logprob": 0}],
                        }
                    ],
                }
            ],
            "role": "assistant",
            "status": "in_progress",
            "type": "message",
        }
    ],
    "status": "completed",
    "error": {"foo": "bar"},
    "tools": [{"foo": "bar"}],
    "usage": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
}


def test_reference_example_round_trips() -> None:
    response = Response.model_validate(copy.deepcopy(REFERENCE_EXAMPLE))
    assert response.model_dump(mode="json") == REFERENCE_EXAMPLE
    assert response.output_text == "text"
    assert response.usage is not None and response.usage.total_tokens == 0
    assert isinstance(response.tools[0], UnknownToolParam)  # type: ignore[index]


def _full_response() -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1730000000,
        "model": "tzafon.northstar-cua-fast",
        "status": "completed",
        "output": [copy.deepcopy(d) for d, _ in ITEMS],
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "total_tokens": 15,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 2},
        },
        "error": None,
        "incomplete_details": None,
        "previous_response_id": "resp_0",
        "instructions": "be careful",
        "tools": [
            {
                "type": "computer_use_preview",
                "display_width": 1280,
                "display_height": 720,
                "environment": "browser",
            },
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "top_p": 1.0,
        "truncation": "auto",
        "reasoning": {"effort": None, "summary": "concise"},
        "text": {"format": {"type": "text"}},
        "store": True,
        "metadata": {},
        "service_tier": "default",
        "user": None,
        "x_lightcone": {"messages": ["kept"]},
    }


def test_full_response_round_trips_and_accessors() -> None:
    data = _full_response()
    response = Response.model_validate(copy.deepcopy(data))
    assert response.model_dump(mode="json") == data
    assert json.loads(response.model_dump_json()) == data
    assert [c.call_id for c in response.computer_calls] == ["call_1", "call_2"]
    assert [f.name for f in response.function_calls] == ["done"]
    assert response.output_text == "The price is $5."
    assert response.refusals == ["I can't help with that."]
    assert isinstance(response.tools[0], ComputerToolParam)  # type: ignore[index]


def test_response_requires_id_and_output() -> None:
    with pytest.raises(ValidationError):
        Response.model_validate({"output": []})
    with pytest.raises(ValidationError):
        Response.model_validate({"id": "r"})
    with pytest.raises(ValidationError):
        Response.model_validate({"id": "r", "output": ["not an item"]})


def test_minimal_response_dumps_nothing_extra() -> None:
    response = Response.model_validate({"id": "r", "output": []})
    assert response.model_dump() == {"id": "r", "output": []}
    assert response.output_text == "" and response.computer_calls == []


# --- the request body -------------------------------------------------------------

FULL_REQUEST: dict[str, Any] = {
    "model": "tzafon.northstar-cua-fast",
    "input": [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "task"},
                {"type": "input_image", "image_url": PNG, "detail": "auto"},
            ],
        },
        {"type": "item_reference", "id": "msg_1"},
        {
            "type": "computer_call_output",
            "call_id": "c",
            "output": {"type": "input_image", "image_url": PNG},
        },
        {"type": "future_item", "z": 1},
    ],
    "instructions": "You operate a browser.",
    "tools": [
        {
            "type": "computer_use",
            "display_width": 1280,
            "display_height": 720,
            "environment": "browser",
        },
        {
            "type": "computer_use_preview",
            "display_width": 1024,
            "display_height": 768,
            "environment": "linux",
        },
        {"type": "computer"},
        {
            "type": "function",
            "name": "done",
            "description": "finish",
            "parameters": {"type": "object", "properties": {"result": {"type": "string"}}},
            "strict": True,
        },
        {
            "type": "custom",
            "name": "sql",
            "format": {"type": "grammar", "syntax": "lark", "definition": "x"},
        },
        {"type": "web_search", "search_context_size": "low"},
        {
            "type": "mcp",
            "server_label": "docs",
            "server_url": "https://x",
            "require_approval": "never",
        },
    ],
    "tool_choice": {
        "type": "allowed_tools",
        "mode": "auto",
        "tools": [{"type": "function", "name": "done"}],
    },
    "previous_response_id": "resp_0",
    "store": False,
    "stream": True,
    "stream_options": {"include_obfuscation": False},
    "truncation": "auto",
    "reasoning": {"effort": "low", "summary": "auto", "generate_summary": "concise"},
    "text": {
        "format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}},
        "verbosity": "low",
    },
    "temperature": 0.2,
    "top_p": 0.9,
    "max_output_tokens": 512,
    "metadata": {"run": "1"},
    "parallel_tool_calls": False,
    "include": ["reasoning.encrypted_content", "computer_call_output.output.image_url"],
    "service_tier": "auto",
    "user": "u",
    "prompt": {"id": "pmpt_1", "version": "2", "variables": {"city": "Paris"}},
    "background": False,
    "max_tool_calls": 10,
    "top_logprobs": 2,
    "conversation": {"id": "conv_1"},
    "safety_identifier": "hash",
    "prompt_cache_key": "k",
    "top_k": 20,
    "priority": 0,
    "request_id": "req-1",
    "cache_salt": "salt",
    "mm_processor_kwargs": {"max_pixels": 1000000},
    "previous_input_messages": [{"role": "user", "content": "earlier", "author": {"role": "user"}}],
    "enable_response_messages": True,
    "skip_special_tokens": False,
    "include_stop_str_in_output": True,
    "min_p": 0.05,
}


def test_request_with_every_parameter_round_trips() -> None:
    request = ResponsesRequest.model_validate(copy.deepcopy(FULL_REQUEST))
    assert request.to_dict() == FULL_REQUEST
    declared = set(ResponsesRequest.model_fields)
    assert set(FULL_REQUEST) - declared == {"min_p"}  # unknown parameters are kept
    tools = request.tools or []
    assert [type(t) for t in tools] == [
        ComputerToolParam,
        ComputerToolParam,
        ComputerToolParam,
        FunctionToolParam,
        CustomToolParam,
        UnknownToolParam,
        UnknownToolParam,
    ]
    assert isinstance(request.input, list)
    assert [type(i) for i in request.input] == [
        InputMessage,
        ItemReference,
        ComputerCallOutput,
        UnknownItem,
    ]


def test_request_built_in_code_sends_only_what_was_set() -> None:
    request = ResponsesRequest(
        model="m",
        input="hello",
        tools=[ComputerToolParam(type="computer_use", display_width=1280, display_height=720)],
        store=False,
    )
    assert request.to_dict() == {
        "model": "m",
        "input": "hello",
        "tools": [{"type": "computer_use", "display_width": 1280, "display_height": 720}],
        "store": False,
    }


def test_output_message_text_helper() -> None:
    item = parse_item(ITEMS[4][0])
    assert isinstance(item, OutputMessage)
    assert item.text == "The price is $5."
    assert isinstance(item.content[0], OutputText)


def test_models_built_in_code_write_their_type() -> None:
    assert InputText(text="a").to_dict() == {"type": "input_text", "text": "a"}
    assert FunctionCallOutput(call_id="c", output="x").to_dict() == {
        "type": "function_call_output",
        "call_id": "c",
        "output": "x",
    }
    assert ComputerCallOutput(
        call_id="c", output=InputImage(image_url=PNG, detail="auto")
    ).to_dict() == {
        "type": "computer_call_output",
        "call_id": "c",
        "output": {"type": "input_image", "image_url": PNG, "detail": "auto"},
    }
    assert ComputerToolParam(display_width=1, display_height=2).to_dict() == {
        "type": "computer_use_preview",
        "display_width": 1,
        "display_height": 2,
    }
    # the "easy" message form has no type on the wire
    assert InputMessage(role="user", content="hi").to_dict() == {"role": "user", "content": "hi"}
