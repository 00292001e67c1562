"""Request checks the scripted server applies, the way a real Responses server does.

Plain functions over parsed JSON; each returns None when the request is fine or
a `Rejection` (HTTP status + an OpenAI-style error body) when it is not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "CALL_OUTPUT_TYPES",
    "DIALECT_OUTPUT_IMAGE_TYPES",
    "DIALECT_TOOL_TYPES",
    "Dialect",
    "Rejection",
    "check_call_outputs",
    "check_messages",
    "check_tools",
    "input_items",
]

Dialect = Literal["lightcone", "openai"]

# Which output item type answers which call item type.
CALL_OUTPUT_TYPES = {
    "computer_call": "computer_call_output",
    "function_call": "function_call_output",
    "custom_tool_call": "custom_tool_call_output",
}

DIALECT_TOOL_TYPES: dict[str, tuple[str, ...]] = {
    "lightcone": ("computer_use", "computer_use_preview"),
    "openai": ("computer_use_preview", "computer"),
}
# Both dialects take both: Lightcone's examples send input_image, the official SDK's
# TypedDict (and OpenAI) computer_screenshot.
DIALECT_OUTPUT_IMAGE_TYPES: dict[str, tuple[str, ...]] = {
    "lightcone": ("input_image", "computer_screenshot"),
    "openai": ("computer_screenshot", "input_image"),
}


@dataclass(frozen=True)
class Rejection:
    """Why a request is refused: the status and the JSON error body to send."""

    status: int
    message: str
    param: str | None = None
    code: str | None = None

    def body(self) -> dict[str, Any]:
        """An OpenAI-style error body."""
        return {
            "error": {
                "message": self.message,
                "type": "invalid_request_error",
                "param": self.param,
                "code": self.code,
            }
        }


def input_items(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The request's input as a list of item dicts (a plain string input has none)."""
    raw = body.get("input")
    if isinstance(raw, list):
        return [i for i in raw if isinstance(i, dict)]
    return []


def check_tools(body: Mapping[str, Any], dialect: Dialect) -> tuple[str | None, Rejection | None]:
    """The computer tool type declared (or None), and a rejection if the dialect refuses it."""
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        return None, Rejection(400, "Invalid type for 'tools': expected an array.", "tools")
    declared: str | None = None
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            return None, Rejection(400, f"tools[{i}] must be an object with a 'type'.", "tools")
        ttype = tool["type"]
        if not ttype.startswith("computer"):
            continue
        declared = ttype
        allowed = DIALECT_TOOL_TYPES[dialect]
        if ttype not in allowed:
            return declared, Rejection(
                400,
                f"Invalid value for tools[{i}].type: {ttype!r}. The {dialect} dialect supports "
                f"{', '.join(repr(a) for a in allowed)}.",
                f"tools[{i}].type",
                "invalid_value",
            )
    return declared, None


def check_call_outputs(
    items: Sequence[Mapping[str, Any]],
    previous_output: Sequence[Mapping[str, Any]],
    dialect: Dialect,
) -> tuple[list[str], Rejection | None]:
    """Every call (of the previous response, or earlier in the input) must be answered.

    Checks, in order: each output names a known call of the matching type; each
    call has its output; each pending safety check of a computer_call is in its
    output's acknowledged_safety_checks; each computer_call_output carries an
    image the dialect accepts. Returns the image types seen and a rejection.
    """
    calls: dict[str, Mapping[str, Any]] = {}
    for item in [*previous_output, *items]:
        if item.get("type") in CALL_OUTPUT_TYPES and isinstance(item.get("call_id"), str):
            calls[item["call_id"]] = item
    outputs: dict[str, Mapping[str, Any]] = {}
    image_types: list[str] = []
    output_types = set(CALL_OUTPUT_TYPES.values())
    for i, item in enumerate(items):
        itype = item.get("type")
        if itype not in output_types:
            continue
        call_id = item.get("call_id")
        call = calls.get(call_id) if isinstance(call_id, str) else None
        if call is None:
            return image_types, Rejection(
                400,
                f"No tool call found for {itype} with call_id {call_id!r} (input[{i}]). "
                "Pass previous_response_id, or include the call item in the input.",
                f"input[{i}].call_id",
            )
        expected = CALL_OUTPUT_TYPES[str(call.get("type"))]
        if itype != expected:
            return image_types, Rejection(
                400,
                f"input[{i}] answers {call.get('type')} {call_id!r} with {itype}; "
                f"expected {expected}.",
                f"input[{i}].type",
            )
        outputs[str(call_id)] = item
        if itype == "computer_call_output":
            rejection = _check_screenshot(i, item, dialect, image_types)
            if rejection is not None:
                return image_types, rejection
    for call_id, call in calls.items():
        answer = outputs.get(call_id)
        ctype = str(call.get("type"))
        if answer is None:
            return image_types, Rejection(
                400,
                f"No tool output found for {ctype} with call_id {call_id!r}. Every "
                f"{ctype} of the previous response must be answered by a "
                f"{CALL_OUTPUT_TYPES[ctype]} with its call_id.",
                "input",
            )
        if ctype != "computer_call":
            continue
        pending = [c for c in call.get("pending_safety_checks") or [] if isinstance(c, dict)]
        acked = {
            c.get("id")
            for c in answer.get("acknowledged_safety_checks") or []
            if isinstance(c, dict)
        }
        missing = [c for c in pending if c.get("id") not in acked]
        if missing:
            names = ", ".join(f"{c.get('id')!r} ({c.get('code')})" for c in missing)
            return image_types, Rejection(
                400,
                f"Unacknowledged safety check(s) for computer_call {call_id!r}: {names}. "
                "Echo each pending_safety_check in the computer_call_output's "
                "acknowledged_safety_checks once a person or policy has approved it.",
                "input",
                "unacknowledged_safety_check",
            )
    return image_types, None


def _check_screenshot(
    index: int, item: Mapping[str, Any], dialect: Dialect, seen: list[str]
) -> Rejection | None:
    out = item.get("output")
    if not isinstance(out, dict):
        return Rejection(
            400, f"input[{index}].output must be an image object.", f"input[{index}].output"
        )
    otype = out.get("type")
    seen.append(str(otype))
    allowed = DIALECT_OUTPUT_IMAGE_TYPES[dialect]
    if otype not in allowed:
        return Rejection(
            400,
            f"Invalid value for input[{index}].output.type: {otype!r}. The {dialect} dialect "
            f"expects {' or '.join(repr(a) for a in allowed)}.",
            f"input[{index}].output.type",
            "invalid_value",
        )
    if not out.get("image_url") and not out.get("file_id"):
        return Rejection(
            400,
            f"input[{index}].output needs 'image_url' or 'file_id'.",
            f"input[{index}].output",
        )
    return None


_MESSAGE_PARTS: dict[str, tuple[str, ...]] = {
    "user": ("input_text", "input_image", "input_file"),
    "system": ("input_text",),
    "developer": ("input_text",),
    "assistant": ("output_text", "refusal"),
}


def check_messages(
    items: Sequence[Mapping[str, Any]], previous_output: Sequence[Mapping[str, Any]] = ()
) -> Rejection | None:
    """Message items have a known role, content parts of that role's types, and text.

    A message may not come between a call (of the previous response or of the
    input) and its output: the runtime sends its notices after the outputs.
    """
    unanswered = {
        str(i.get("call_id"))
        for i in previous_output
        if i.get("type") in CALL_OUTPUT_TYPES and i.get("call_id")
    }
    for i, item in enumerate(items):
        itype = item.get("type", "message" if "role" in item else None)
        if itype in CALL_OUTPUT_TYPES and item.get("call_id"):
            unanswered.add(str(item["call_id"]))
        elif itype in CALL_OUTPUT_TYPES.values():
            unanswered.discard(str(item.get("call_id")))
        if itype != "message":
            continue
        if unanswered:
            return Rejection(
                400,
                f"input[{i}] is a message between a tool call and its output "
                f"({', '.join(sorted(unanswered))}); send the outputs first.",
                f"input[{i}]",
            )
        rejection = _check_message(i, item)
        if rejection is not None:
            return rejection
    return None


def _check_message(i: int, item: Mapping[str, Any]) -> Rejection | None:
    role = item.get("role")
    allowed = _MESSAGE_PARTS.get(str(role))
    if allowed is None:
        return Rejection(400, f"Invalid value for input[{i}].role: {role!r}.", f"input[{i}].role")
    content = item.get("content")
    if isinstance(content, str):
        return None
    if not isinstance(content, list) or not content:
        return Rejection(
            400,
            f"input[{i}].content must be a string or a non-empty array.",
            f"input[{i}].content",
        )
    for j, part in enumerate(content):
        ptype = part.get("type") if isinstance(part, dict) else None
        if ptype not in allowed:
            return Rejection(
                400,
                f"Invalid value for input[{i}].content[{j}].type: {ptype!r}; a {role} "
                f"message takes {', '.join(allowed)}.",
                f"input[{i}].content[{j}].type",
                "invalid_value",
            )
        if ptype in ("input_text", "output_text") and not isinstance(part.get("text"), str):
            return Rejection(
                400,
                f"input[{i}].content[{j}].text must be a string.",
                f"input[{i}].content[{j}].text",
            )
    return None
