"""Validate a response and parse every call in it, before anything runs.

`read_response` returns a `ParsedResponse` or raises a `ModelOutputError`
subclass: `ResponseValidationError` (failed/incomplete status, duplicate or
missing call ids, a computer_call without an action), `RefusalError` (the
model refused), `ActionParseError` (an action we cannot understand). Because
all of this happens first, a bad response never half-executes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent._actions._model import Action
from agent._actions._parse import parse_action
from agent._errors import RefusalError, ResponseValidationError
from agent._safety import SafetyCheck

__all__ = [
    "ParsedComputerCall",
    "ParsedFunctionCall",
    "ParsedResponse",
    "read_response",
    "response_to_dict",
]


@dataclass
class ParsedComputerCall:
    """A computer_call with its canonical actions and pending safety checks."""

    call_id: str
    item: dict[str, Any]
    raw_actions: list[dict[str, Any]]
    actions: list[Action]
    checks: list[SafetyCheck]


@dataclass
class ParsedFunctionCall:
    """A function_call: name and JSON arguments string."""

    call_id: str
    name: str
    arguments: str


@dataclass
class ParsedResponse:
    """A validated response, its items sorted by kind (order kept within a kind)."""

    id: str | None
    status: str | None
    output: list[dict[str, Any]]
    usage: dict[str, int]
    messages: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    computer_calls: list[ParsedComputerCall] = field(default_factory=list)
    function_calls: list[ParsedFunctionCall] = field(default_factory=list)
    unknown_types: list[str] = field(default_factory=list)
    calls: list[ParsedComputerCall | ParsedFunctionCall] = field(default_factory=list)
    """Every call, in response order."""

    @property
    def has_calls(self) -> bool:
        """True when the model asked for anything to be done."""
        return bool(self.computer_calls or self.function_calls)


def response_to_dict(response: Any) -> dict[str, Any]:
    """A response (pydantic model or dict) as a plain JSON dict, unknown fields kept."""
    if isinstance(response, Mapping):
        return dict(response)
    try:
        dumped = response.model_dump(mode="json", exclude_none=True, by_alias=True)
    except (ValueError, RecursionError) as exc:  # pydantic: "Maximum serialization depth"
        raise ResponseValidationError(f"the response cannot be read: {exc}") from exc
    assert isinstance(dumped, dict)
    return dumped


def _usage(raw: Any) -> dict[str, int]:
    raw = raw if isinstance(raw, Mapping) else {}
    out = {}
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        value = raw.get(key)
        out[key] = int(value) if isinstance(value, (int, float)) else 0
    if not out["total_tokens"]:
        out["total_tokens"] = out["input_tokens"] + out["output_tokens"]
    return out


def _texts(parts: Any, kinds: tuple[str, ...]) -> list[str]:
    if isinstance(parts, str):
        return [parts]
    if not isinstance(parts, list):
        return []
    return [
        str(p.get("text", "")) for p in parts if isinstance(p, Mapping) and p.get("type") in kinds
    ]


def _refusals(parts: Any) -> list[str]:
    if not isinstance(parts, list):
        return []
    return [
        str(p.get("refusal") or p.get("text") or "")
        for p in parts
        if isinstance(p, Mapping) and p.get("type") == "refusal"
    ]


def _computer_call(item: dict[str, Any], call_id: str) -> ParsedComputerCall:
    item_id = item.get("id") or call_id
    if isinstance(item.get("actions"), list) and item["actions"]:
        raw_actions = item["actions"]
    elif isinstance(item.get("action"), Mapping):
        raw_actions = [item["action"]]
    else:
        raise ResponseValidationError(
            f"computer_call {item_id!r} has no action (neither 'action' nor 'actions')"
        )
    raws = [dict(a) if isinstance(a, Mapping) else {"value": a} for a in raw_actions]
    actions = [parse_action(a, item_id=item_id) for a in raw_actions]
    checks = [SafetyCheck.from_raw(c) for c in item.get("pending_safety_checks") or []]
    return ParsedComputerCall(call_id, item, raws, actions, checks)


def read_response(response: Any) -> ParsedResponse:
    """Validate a response and parse it; raises a `ModelOutputError` subclass."""
    data = response_to_dict(response)
    status = data.get("status")
    if status == "failed":
        err = data.get("error") or {}
        raise ResponseValidationError(
            f"the response failed: {err.get('code') or ''} {err.get('message') or err}".strip()
        )
    if status == "incomplete":
        reason = (data.get("incomplete_details") or {}).get("reason", "unknown")
        raise ResponseValidationError(f"the response is incomplete (reason: {reason})")
    output = data.get("output")
    if not isinstance(output, list):
        raise ResponseValidationError("the response has no output list")
    parsed = ParsedResponse(data.get("id"), status, output, _usage(data.get("usage")))
    seen: set[str] = set()
    for item in output:
        kind = item.get("type") if isinstance(item, Mapping) else None
        if kind in ("computer_call", "function_call"):
            call_id = item.get("call_id")
            if not call_id or not isinstance(call_id, str):
                raise ResponseValidationError(f"a {kind} has no call_id: {item.get('id')!r}")
            if call_id in seen:
                raise ResponseValidationError(f"duplicate call_id {call_id!r} in one response")
            seen.add(call_id)
            call: ParsedComputerCall | ParsedFunctionCall
            if kind == "computer_call":
                call = _computer_call(item, call_id)
                parsed.computer_calls.append(call)
            else:
                args = item.get("arguments", "{}")
                args = args if isinstance(args, str) else json.dumps(args)
                call = ParsedFunctionCall(call_id, str(item.get("name", "")), args)
                parsed.function_calls.append(call)
            parsed.calls.append(call)
        elif kind == "message":
            refusals = _refusals(item.get("content"))
            if refusals:
                raise RefusalError("the model refused: " + " ".join(refusals))
            parsed.messages.extend(_texts(item.get("content"), ("output_text", "text")))
        elif kind == "reasoning":
            parsed.reasoning.extend(_texts(item.get("summary"), ("summary_text",)))
        else:
            parsed.unknown_types.append(str(kind))
    return parsed
