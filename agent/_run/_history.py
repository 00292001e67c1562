"""Conversation history: what each request carries as ``input``.

Two modes:

- `ServerHistory` (``history="server"``): the server keeps the conversation;
  each request sends ``previous_response_id`` and only the new items (the
  outputs answering the last response's calls), so request size stays flat.
- `StatelessHistory` (``history="stateless"``): ``store: false``; the whole
  conversation is resent each time, reasoning items included. Screenshots
  older than the last `keep_screenshots` are replaced by placeholders: an
  ``input_image`` inside a message becomes a short ``input_text``; the image of
  a computer_call_output becomes a 1x1 PNG (67 bytes) so the call and its
  output stay paired and valid for any server.

Both take the protocol models the loop works on and turn them into the JSON
the request carries here, at the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from agent._api._protocol import BaseItem

__all__ = [
    "History",
    "HistoryMode",
    "ServerHistory",
    "StatelessHistory",
    "make_history",
]

HistoryMode = Literal["server", "stateless"]

PLACEHOLDER_TEXT = "[earlier screenshot omitted]"
PLACEHOLDER_IMAGE = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR42mNoAAAAggCB2kUIOwAAAABJRU5ErkJggg=="
)


class History(Protocol):
    """What the loop needs from a history mode."""

    mode: HistoryMode

    def request_fields(self, new_items: Sequence[BaseItem]) -> dict[str, Any]:
        """The ``input`` (and chaining fields) of the next request."""
        ...

    def commit(
        self, new_items: Sequence[BaseItem], response_id: str | None, output: Sequence[BaseItem]
    ) -> None:
        """Remember a completed exchange: what was sent and what came back."""
        ...


class ServerHistory:
    """Server-side state: ``previous_response_id`` plus only the new items."""

    mode: HistoryMode = "server"

    def __init__(self) -> None:
        self.previous_response_id: str | None = None

    def request_fields(self, new_items: Sequence[BaseItem]) -> dict[str, Any]:
        """New items only, chained to the previous response."""
        fields: dict[str, Any] = {"input": [item.to_dict() for item in new_items]}
        if self.previous_response_id:
            fields["previous_response_id"] = self.previous_response_id
        return fields

    def commit(
        self, new_items: Sequence[BaseItem], response_id: str | None, output: Sequence[BaseItem]
    ) -> None:
        """Chain the next request to `response_id`."""
        self.previous_response_id = response_id


def _is_data_image(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("data:image/") and value != PLACEHOLDER_IMAGE


class StatelessHistory:
    """Client-side history: everything resent with ``store: false``, old screenshots trimmed."""

    mode: HistoryMode = "stateless"

    def __init__(self, keep_screenshots: int = 3) -> None:
        if keep_screenshots < 1:
            raise ValueError("keep_screenshots must be at least 1")
        self.keep_screenshots = keep_screenshots
        self.items: list[dict[str, Any]] = []

    def request_fields(self, new_items: Sequence[BaseItem]) -> dict[str, Any]:
        """The whole conversation plus the new items, trimmed, with ``store: false``."""
        items = self.items + [i.to_dict() for i in new_items]
        _trim(items, self.keep_screenshots)
        return {"input": items, "store": False}

    def commit(
        self, new_items: Sequence[BaseItem], response_id: str | None, output: Sequence[BaseItem]
    ) -> None:
        """Append what was sent and what came back (output items are resent as input)."""
        self.items.extend(i.to_dict() for i in new_items)
        self.items.extend(_as_input(i.to_dict()) for i in output)
        _trim(self.items, self.keep_screenshots)


def _as_input(item: dict[str, Any]) -> dict[str, Any]:
    """A response output item in the form accepted back as input."""
    return {k: v for k, v in item.items() if v is not None}


def _screenshot_slots(items: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """(container, key) of every full screenshot, oldest first."""
    slots: list[tuple[dict[str, Any], str]] = []
    for item in items:
        content = item.get("content")
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and _is_data_image(part.get("image_url")):
                    slots.append((part, "message"))
        output = item.get("output")
        if isinstance(output, dict) and _is_data_image(output.get("image_url")):
            slots.append((output, "output"))
    return slots


def _trim(items: list[dict[str, Any]], keep: int) -> None:
    slots = _screenshot_slots(items)
    for container, where in slots[: max(len(slots) - keep, 0)]:
        if where == "output":
            container["image_url"] = PLACEHOLDER_IMAGE
        else:
            container.clear()
            container.update({"type": "input_text", "text": PLACEHOLDER_TEXT})


def make_history(mode: HistoryMode, keep_screenshots: int = 3) -> History:
    """Build the history for a mode name."""
    if mode == "server":
        return ServerHistory()
    if mode == "stateless":
        return StatelessHistory(keep_screenshots)
    raise ValueError(f"history must be 'server' or 'stateless', got {mode!r}")
