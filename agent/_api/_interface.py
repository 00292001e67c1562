"""What the loop needs from a model client, as Protocols (no implementation here).

`AsyncResponsesClient` satisfies both; so can a user's own client (a proxy, a
cache, a client of another SDK): `Agent(client=...)` takes any `ModelClient`.
A client that also reports its retries (`ReportsRetries`) has them recorded
in the run (``Retry`` events), its own callback still called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from agent._api._response import Response
from agent._api._retry import RetryEvent

__all__ = ["ModelClient", "OnRetry", "ReportsRetries"]

OnRetry = Callable[[RetryEvent], object]
"""Called with each `RetryEvent` before the client waits and retries."""


class ModelClient(Protocol):
    """One call of the Responses API: ``await client.create(body, stream=...)``."""

    async def create(
        self, body: Mapping[str, Any], *, stream: bool = False
    ) -> Response | Mapping[str, Any]:
        """Create a response from a request body (a mapping is validated by the loop)."""
        ...


@runtime_checkable
class ReportsRetries(Protocol):
    """A client with a settable ``on_retry`` callback."""

    on_retry: OnRetry | None
