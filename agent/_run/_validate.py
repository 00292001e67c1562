"""Validate a response and parse every call in it, before anything runs.

`read_response` takes the typed `Response` (a mapping is validated into one
first) and returns a `ParsedResponse` over the same protocol models, or raises
a `ModelOutputError` subclass: `ResponseValidationError` (failed/incomplete
status, duplicate or missing call ids, a computer_call without an action),
`RefusalError` (the model refused), `ActionParseError` (an action we cannot
understand). Because all of this happens first, a bad response never
half-executes. Unknown item types stay in the output as `UnknownItem` and are
named in ``unknown_types``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agent._actions._model import Action
from agent._actions._parse import parse_action
from agent._api._protocol import (
    BaseItem,
    ComputerCall,
    FunctionCall,
    OutputMessage,
)
from agent._api._response import Response
from agent._errors import RefusalError, ResponseValidationError, WorkLimitError
from agent._safety import SafetyCheck

__all__ = [
    "DEFAULT_MAX_ACTIONS",
    "DEFAULT_MAX_TYPE_CHARS",
    "ParsedComputerCall",
    "ParsedFunctionCall",
    "ParsedResponse",
    "as_response",
    "check_work_limits",
    "dump_items",
    "read_response",
]

_CALL_TYPES = ("computer_call", "function_call")
DEFAULT_MAX_ACTIONS = 100
"""Actions one response may ask for (10,000 in one response ran for minutes)."""
DEFAULT_MAX_TYPE_CHARS = 10_000
"""Characters one typed text may have (1 MB would take about an hour to type)."""


@dataclass
class ParsedComputerCall:
    """A computer_call with its canonical actions and pending safety checks."""

    call_id: str
    item: ComputerCall
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

    response: Response
    messages: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    computer_calls: list[ParsedComputerCall] = field(default_factory=list)
    function_calls: list[ParsedFunctionCall] = field(default_factory=list)
    unknown_types: list[str] = field(default_factory=list)
    calls: list[ParsedComputerCall | ParsedFunctionCall] = field(default_factory=list)
    """Every call, in response order."""

    @property
    def id(self) -> str:
        """The response id."""
        return self.response.id

    @property
    def output(self) -> list[BaseItem]:
        """The output items, unknown ones included."""
        return self.response.output

    @property
    def usage(self) -> dict[str, int]:
        """input/output/total token counts (0 when the server sent none)."""
        raw = self.response.usage
        counts = {
            "input_tokens": (raw.input_tokens if raw else None) or 0,
            "output_tokens": (raw.output_tokens if raw else None) or 0,
            "total_tokens": (raw.total_tokens if raw else None) or 0,
        }
        if not counts["total_tokens"]:
            counts["total_tokens"] = counts["input_tokens"] + counts["output_tokens"]
        return counts

    @property
    def has_calls(self) -> bool:
        """True when the model asked for anything to be done."""
        return bool(self.computer_calls or self.function_calls)


def as_response(response: Response | Mapping[str, Any]) -> Response:
    """The typed response; a mapping (from a client of the user's) is validated first."""
    if isinstance(response, Response):
        return response
    if not isinstance(response, Mapping):
        raise ResponseValidationError(
            f"a response must be a JSON object, got {type(response).__name__}"
        )
    try:
        return Response.model_validate(dict(response))
    except (ValidationError, RecursionError) as exc:
        raise ResponseValidationError(f"the response cannot be read: {exc}") from exc


def _get(part: Any, name: str) -> Any:
    """A field of a content part: a model, or a raw dict inside an item kept as unknown."""
    return part.get(name) if isinstance(part, Mapping) else getattr(part, name, None)


def _texts(parts: Any, kinds: tuple[str, ...]) -> list[str]:
    """The text of the content parts of the given types (unknown part models included)."""
    if isinstance(parts, str):
        return [parts]
    if not isinstance(parts, list):
        return []
    return [str(_get(p, "text") or "") for p in parts if _get(p, "type") in kinds]


def _refusals(parts: Any) -> list[str]:
    if not isinstance(parts, list):
        return []
    return [
        str(_get(p, "refusal") or _get(p, "text") or "")
        for p in parts
        if _get(p, "type") == "refusal"
    ]


def dump_items(items: list[BaseItem]) -> list[dict[str, Any]]:
    """Items as JSON dicts for the record; raises `ResponseValidationError` if impossible."""
    try:
        return [item.to_dict() for item in items]
    except (ValueError, RecursionError) as exc:  # pydantic: "Maximum serialization depth"
        raise ResponseValidationError(f"the response cannot be read: {exc}") from exc


def _computer_call(item: ComputerCall) -> ParsedComputerCall:
    item_id = item.id or item.call_id
    raw_actions: list[Any]
    if isinstance(item.actions, list) and item.actions:
        raw_actions = item.actions
    elif isinstance(item.action, Mapping):
        raw_actions = [item.action]
    else:
        raise ResponseValidationError(
            f"computer_call {item_id!r} has no action (neither 'action' nor 'actions')"
        )
    raws = [dict(a) if isinstance(a, Mapping) else {"value": a} for a in raw_actions]
    actions = [parse_action(a, item_id=item_id) for a in raw_actions]
    checks = [
        SafetyCheck.from_raw(c.model_dump(mode="json")) for c in item.pending_safety_checks or []
    ]
    return ParsedComputerCall(item.call_id, item, raws, actions, checks)


def _call_did_not_validate(item: BaseItem) -> ResponseValidationError:
    """Why a computer_call/function_call item failed to become its model (kept as unknown)."""
    kind, call_id = item.type, getattr(item, "call_id", None)
    if not call_id or not isinstance(call_id, str):
        return ResponseValidationError(f"a {kind} has no call_id: {item.id!r}")
    if kind == "computer_call":
        return ResponseValidationError(
            f"computer_call {item.id or call_id!r} has no valid action "
            "('action' must be an object, 'actions' a list of objects)"
        )
    return ResponseValidationError(
        f"function_call {call_id!r} needs a string 'name' and JSON 'arguments'"
    )


def _function_call(item: BaseItem) -> ParsedFunctionCall:
    if isinstance(item, FunctionCall):
        return ParsedFunctionCall(item.call_id, item.name, item.arguments)
    # arguments sent as a JSON object instead of a string: accepted, re-encoded
    call_id, name = getattr(item, "call_id", None), getattr(item, "name", None)
    args = getattr(item, "arguments", "{}")
    if not isinstance(call_id, str) or not call_id or not isinstance(args, (dict, list)):
        raise _call_did_not_validate(item)
    try:
        arguments = json.dumps(args)
    except (ValueError, TypeError, RecursionError) as exc:
        raise _call_did_not_validate(item) from exc
    return ParsedFunctionCall(call_id, str(name or ""), arguments)


def read_response(response: Response | Mapping[str, Any]) -> ParsedResponse:
    """Validate a response and parse it; raises a `ModelOutputError` subclass."""
    typed = as_response(response)
    if typed.status == "failed":
        err = typed.error or {}
        raise ResponseValidationError(
            f"the response failed: {err.get('code') or ''} {err.get('message') or err}".strip()
        )
    if typed.status == "incomplete":
        reason = (typed.incomplete_details or {}).get("reason", "unknown")
        raise ResponseValidationError(f"the response is incomplete (reason: {reason})")
    parsed = ParsedResponse(typed)
    seen: set[str] = set()
    for item in typed.output:
        kind = item.type if isinstance(item.type, str) else None
        if kind in _CALL_TYPES:
            call: ParsedComputerCall | ParsedFunctionCall
            if isinstance(item, ComputerCall):
                call = _computer_call(item)
            elif kind == "function_call":
                call = _function_call(item)
            else:
                raise _call_did_not_validate(item)
            if call.call_id in seen:
                raise ResponseValidationError(f"duplicate call_id {call.call_id!r} in one response")
            seen.add(call.call_id)
            if isinstance(call, ParsedComputerCall):
                parsed.computer_calls.append(call)
            else:
                parsed.function_calls.append(call)
            parsed.calls.append(call)
        elif isinstance(item, OutputMessage) or kind == "message":
            content = getattr(item, "content", None)
            refusals = _refusals(content)
            if refusals:
                raise RefusalError("the model refused: " + " ".join(refusals))
            parsed.messages.extend(_texts(content, ("output_text", "text")))
        elif kind == "reasoning":
            parsed.reasoning.extend(_texts(getattr(item, "summary", None), ("summary_text",)))
        else:
            parsed.unknown_types.append(str(kind))
    return parsed


def check_work_limits(
    parsed: ParsedResponse, max_actions: int | None, max_type_chars: int | None
) -> None:
    """Raise `WorkLimitError` when `parsed` asks for more work than the limits allow."""
    actions = [a for call in parsed.computer_calls for a in call.actions]
    if max_actions is not None and len(actions) > max_actions:
        raise WorkLimitError(
            f"the response asks for {len(actions)} actions, more than the limit of "
            f"{max_actions} per response (max_actions_per_response / --max-actions)"
        )
    if max_type_chars is None:
        return
    for action in actions:
        text = getattr(action, "text", None)
        if isinstance(text, str) and len(text) > max_type_chars:
            raise WorkLimitError(
                f"a {action.type} action has {len(text)} characters of text, more than the "
                f"limit of {max_type_chars} (max_type_chars / --max-type-chars)"
            )
