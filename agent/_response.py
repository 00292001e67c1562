"""A minimal response model used by the client until the full protocol models land.

Keeps every field the server sends (extra="allow") and exposes `id`, `status`,
`output` (a list of plain dicts) and `usage`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["Response"]


class Response(BaseModel):
    """A Responses API response object (lenient: unknown fields are kept)."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: str = "response"
    status: str | None = None
    output: list[dict[str, Any]]
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
