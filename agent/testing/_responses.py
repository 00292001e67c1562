"""Responses the scripted server sends: ids filled in, and the SSE form of a stream.

`ResponseBuilder` turns a script turn into a complete response object (ids,
call ids, statuses, usage); `sse_events` replays one as the events OpenAI's
streaming API sends, with sequence numbers.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

__all__ = ["ResponseBuilder", "sse_bytes", "sse_events"]

_TERMINAL_FOR_STATUS = {"failed": "response.failed", "incomplete": "response.incomplete"}


class ResponseBuilder:
    """Complete response objects from script turns, with ids unique to one server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = 0

    def next_id(self, prefix: str) -> str:
        """The next id: ``resp_0001``, ``cu_0002``, ..."""
        with self._lock:
            self._counter += 1
            return f"{prefix}_{self._counter:04d}"

    def build(self, t: dict[str, Any], body: dict[str, Any], *, model: str) -> dict[str, Any]:
        """The response for turn `t` answering request `body` (`model` if neither names one)."""
        output = [self.fill_item(dict(item)) for item in t["output"]]
        status = t.get("status", "completed")
        usage = t.get("usage") or {
            "input_tokens": 0,
            "output_tokens": 0,
            "total_tokens": 0,
        }
        return {
            "id": self.next_id("resp"),
            "object": "response",
            "created_at": int(time.time()),
            "model": t.get("model") or body.get("model") or model,
            "status": status,
            "output": output,
            "usage": usage,
            "error": t.get("error"),
            "incomplete_details": t.get("incomplete_details"),
            "previous_response_id": body.get("previous_response_id"),
            "tools": body.get("tools") or [],
            "store": body.get("store", True) is not False,
            "background": bool(body.get("background", False)),
        }

    def fill_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """`item` with the ids, call ids and defaults the script left out."""
        itype = item.get("type")
        prefix = {
            "computer_call": "cu",
            "function_call": "fc",
            "message": "msg",
            "reasoning": "rs",
            "custom_tool_call": "ctc",
        }.get(str(itype), "item")
        if "id" not in item:
            item["id"] = self.next_id(prefix)
        if (
            itype in ("computer_call", "function_call", "custom_tool_call")
            and "call_id" not in item
        ):
            item["call_id"] = self.next_id("call")
        if itype == "computer_call":
            item.setdefault("pending_safety_checks", [])
        if itype == "function_call" and isinstance(item.get("arguments"), dict):
            item["arguments"] = json.dumps(item["arguments"])
        if itype == "message":
            item.setdefault("role", "assistant")
            if isinstance(item.get("content"), str):
                item["content"] = [
                    {"type": "output_text", "text": item["content"], "annotations": []}
                ]
        if itype != "reasoning":
            item.setdefault("status", "completed")
        return item


def sse_bytes(name: str, data: dict[str, Any]) -> bytes:
    """One server-sent event."""
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def sse_events(response: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The events of a streamed response, in OpenAI's naming, with sequence numbers."""
    events: list[tuple[str, dict[str, Any]]] = []

    def add(name: str, **data: Any) -> None:
        events.append((name, {"type": name, "sequence_number": len(events), **data}))

    started = {**response, "status": "in_progress", "output": []}
    add("response.created", response=started)
    add("response.in_progress", response=started)
    for index, item in enumerate(response["output"]):
        pending = {**item, "status": "in_progress"}
        if item.get("type") == "message":
            pending["content"] = []
        add("response.output_item.added", output_index=index, item=pending)
        if item.get("type") == "message":
            for ci, part in enumerate(item.get("content") or []):
                if isinstance(part, dict) and part.get("type") == "output_text":
                    text = str(part.get("text", ""))
                    common = {"item_id": item["id"], "output_index": index, "content_index": ci}
                    add("response.output_text.delta", delta=text, **common)
                    add("response.output_text.done", text=text, **common)
        add("response.output_item.done", output_index=index, item=item)
    terminal = _TERMINAL_FOR_STATUS.get(str(response.get("status")), "response.completed")
    add(terminal, response=response)
    return events
