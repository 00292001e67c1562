"""The Responses API client: `AsyncResponsesClient` and its sync twin `ResponsesClient`.

Everything that does no I/O (building requests, retry decisions, mapping
statuses to typed errors, parsing bodies and stream events) lives in
`ClientCore` (`agent._api._client_core`); the constructor and properties are
shared through `_BaseClient`, and the two clients are thin loops around httpx.

The API key is only ever placed in the `Authorization` header of outgoing
requests. It is kept out of reprs, log records and exception messages, and any
echo of it in a server's error body is replaced by `***`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Generic, TypeVar

import httpx

from agent._api._client_core import (
    Body,
    ClientCore,
    OnEvent,
    describe,
    events_for_plain_response,
    ssl_context,
    stream_broken,
)
from agent._api._interface import OnRetry
from agent._api._response import Response
from agent._api._sse import TERMINAL_EVENT_TYPES, SSEDecoder, StreamEvent, StreamTracker
from agent._errors import StreamError

__all__ = ["AsyncResponsesClient", "ResponsesClient"]

logger = logging.getLogger(__name__)

_TransportT = TypeVar("_TransportT")
_HttpT = TypeVar("_HttpT")


class _BaseClient(Generic[_TransportT, _HttpT]):
    """The constructor and properties both clients share; `_open_http` makes the pool."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        provider: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 4,
        retry_budget_s: float = 60.0,
        transport: _TransportT | None = None,
        headers: Mapping[str, str] | None = None,
        on_retry: OnRetry | None = None,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._core = ClientCore(
            api_key=api_key,
            base_url=base_url,
            provider=provider,
            timeout=timeout,
            max_retries=max_retries,
            retry_budget_s=retry_budget_s,
            backoff_base_s=backoff_base_s,
            backoff_max_s=backoff_max_s,
            headers=headers,
            on_retry=on_retry,
            env=env,
        )
        self._http: _HttpT = self._open_http(self._core.http_timeout(), transport)

    def _open_http(self, timeout: httpx.Timeout, transport: _TransportT | None) -> _HttpT:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self._core.repr_for(type(self).__name__)

    @property
    def provider(self) -> str:
        """`lightcone`, `openai` or `custom`."""
        return self._core.settings.provider

    @property
    def base_url(self) -> str:
        """The base URL requests go to (up to and including /v1)."""
        return self._core.settings.base_url

    @property
    def on_retry(self) -> OnRetry | None:
        """Called with a `RetryEvent` before each retry (settable; the Agent chains onto it)."""
        return self._core.on_retry

    @on_retry.setter
    def on_retry(self, callback: OnRetry | None) -> None:
        self._core.on_retry = callback


class AsyncResponsesClient(_BaseClient[httpx.AsyncBaseTransport, httpx.AsyncClient]):
    """Async client for `POST /responses`, `GET /responses/{id}` and `.../cancel`.

    Retries 408, 409, 429, 5xx, timeouts and dropped connections with jittered
    exponential backoff (honouring Retry-After), bounded by `max_retries` and by
    `retry_budget_s` seconds in total. Other failures raise the typed errors of
    `agent._errors`. Use as `async with AsyncResponsesClient(...) as client:`.
    """

    def _open_http(
        self, timeout: httpx.Timeout, transport: httpx.AsyncBaseTransport | None
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=timeout, transport=transport, verify=ssl_context())

    async def __aenter__(self) -> AsyncResponsesClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _request(self, method: str, path: str, json_body: Any = None) -> httpx.Response:
        core = self._core
        what = describe(method, path)
        state = core.new_retry_state()
        while True:
            attempt = state.start_attempt()
            logger.debug("%s: attempt %d", what, attempt)
            try:
                resp = await self._http.request(
                    method, core.url(path), json=json_body, headers=core.headers()
                )
            except httpx.HTTPError as exc:
                delay = core.after_exception(exc, state, what)
            else:
                logger.debug("%s: HTTP %d", what, resp.status_code)
                if resp.is_success:
                    return resp
                delay = core.after_status(resp, state, what)
            await asyncio.sleep(delay)

    async def create(
        self, body: Body, *, stream: bool = False, on_event: OnEvent | None = None
    ) -> Response:
        """Create a response. With `stream=True` events go to `on_event` as they arrive.

        Either way the complete response is returned; a stream that ends without
        its completion event raises StreamError.
        """
        if not stream:
            payload = self._core.body_dict(body, stream=False)
            resp = await self._request("POST", "/responses", payload)
            return self._core.parse_body(resp, "POST /responses")
        tracker_final: dict[str, Any] | None = None
        async for event in self.stream(body):
            if on_event is not None:
                result = on_event(event)
                if inspect.isawaitable(result):
                    await result
            if event.type in TERMINAL_EVENT_TYPES:
                tracker_final = event.response
        if tracker_final is None:  # pragma: no cover - stream() raises first
            raise StreamError("the stream ended without a response")
        return self._core.to_response(tracker_final, "POST /responses (stream)")

    async def stream(self, body: Body) -> AsyncIterator[StreamEvent]:
        """Create a response with `stream: true` and yield its events as they arrive.

        Ends after the terminal event (`response.completed`, `.failed`,
        `.incomplete`); raises StreamError if the stream ends before one.
        Connection failures and retryable statuses before the first event are
        retried; once events flowed, a failure raises StreamError.
        """
        core = self._core
        payload = core.body_dict(body, stream=True)
        what = "POST /responses (stream)"
        state = core.new_retry_state()
        while True:
            attempt = state.start_attempt()
            logger.debug("%s: attempt %d", what, attempt)
            request = self._http.build_request(
                "POST", core.url("/responses"), json=payload, headers=core.headers(stream=True)
            )
            try:
                resp = await self._http.send(request, stream=True)
            except httpx.HTTPError as exc:
                await asyncio.sleep(core.after_exception(exc, state, what))
                continue
            if resp.is_success:
                break
            try:
                await resp.aread()
            except httpx.HTTPError as exc:
                await resp.aclose()
                await asyncio.sleep(core.after_exception(exc, state, what))
                continue
            await resp.aclose()
            await asyncio.sleep(core.after_status(resp, state, what))
        try:
            if core.stream_content_is_json(resp):
                await resp.aread()
                for plain in events_for_plain_response(core.parse_body(resp, what)):
                    yield plain
                return
            decoder = SSEDecoder()
            tracker = StreamTracker()
            async for line in resp.aiter_lines():
                sse = decoder.feed(line)
                event = StreamEvent.from_sse(sse) if sse is not None else None
                if event is None:
                    continue
                tracker.observe(event)
                yield event
                if tracker.done:
                    return
            tail = decoder.flush()
            event = StreamEvent.from_sse(tail) if tail is not None else None
            if event is not None:
                tracker.observe(event)
                yield event
            tracker.finish()
        except httpx.HTTPError as exc:
            raise stream_broken(core, exc) from exc
        finally:
            await resp.aclose()

    async def retrieve(self, response_id: str) -> Response:
        """Fetch a stored response by id."""
        path = self._core.response_path(response_id)
        resp = await self._request("GET", path)
        return self._core.parse_body(resp, f"GET {path}")

    async def cancel(self, response_id: str) -> Response:
        """Cancel a background response by id; returns it as the server reports it."""
        path = self._core.response_path(response_id, "/cancel")
        resp = await self._request("POST", path)
        return self._core.parse_body(resp, f"POST {path}")


class ResponsesClient(_BaseClient[httpx.BaseTransport, httpx.Client]):
    """The synchronous twin of `AsyncResponsesClient` (same arguments and behaviour)."""

    def _open_http(
        self, timeout: httpx.Timeout, transport: httpx.BaseTransport | None
    ) -> httpx.Client:
        return httpx.Client(timeout=timeout, transport=transport, verify=ssl_context())

    def __enter__(self) -> ResponsesClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _request(self, method: str, path: str, json_body: Any = None) -> httpx.Response:
        core = self._core
        what = describe(method, path)
        state = core.new_retry_state()
        while True:
            attempt = state.start_attempt()
            logger.debug("%s: attempt %d", what, attempt)
            try:
                resp = self._http.request(
                    method, core.url(path), json=json_body, headers=core.headers()
                )
            except httpx.HTTPError as exc:
                delay = core.after_exception(exc, state, what)
            else:
                logger.debug("%s: HTTP %d", what, resp.status_code)
                if resp.is_success:
                    return resp
                delay = core.after_status(resp, state, what)
            time.sleep(delay)

    def create(
        self, body: Body, *, stream: bool = False, on_event: OnEvent | None = None
    ) -> Response:
        """Create a response; see `AsyncResponsesClient.create`."""
        if not stream:
            payload = self._core.body_dict(body, stream=False)
            resp = self._request("POST", "/responses", payload)
            return self._core.parse_body(resp, "POST /responses")
        final: dict[str, Any] | None = None
        for event in self.stream(body):
            if on_event is not None:
                on_event(event)
            if event.type in TERMINAL_EVENT_TYPES:
                final = event.response
        if final is None:  # pragma: no cover - stream() raises first
            raise StreamError("the stream ended without a response")
        return self._core.to_response(final, "POST /responses (stream)")

    def stream(self, body: Body) -> Iterator[StreamEvent]:
        """Create a streamed response and yield its events; see `AsyncResponsesClient.stream`."""
        core = self._core
        payload = core.body_dict(body, stream=True)
        what = "POST /responses (stream)"
        state = core.new_retry_state()
        while True:
            attempt = state.start_attempt()
            logger.debug("%s: attempt %d", what, attempt)
            request = self._http.build_request(
                "POST", core.url("/responses"), json=payload, headers=core.headers(stream=True)
            )
            try:
                resp = self._http.send(request, stream=True)
            except httpx.HTTPError as exc:
                time.sleep(core.after_exception(exc, state, what))
                continue
            if resp.is_success:
                break
            try:
                resp.read()
            except httpx.HTTPError as exc:
                resp.close()
                time.sleep(core.after_exception(exc, state, what))
                continue
            resp.close()
            time.sleep(core.after_status(resp, state, what))
        try:
            if core.stream_content_is_json(resp):
                resp.read()
                yield from events_for_plain_response(core.parse_body(resp, what))
                return
            decoder = SSEDecoder()
            tracker = StreamTracker()
            for line in resp.iter_lines():
                sse = decoder.feed(line)
                event = StreamEvent.from_sse(sse) if sse is not None else None
                if event is None:
                    continue
                tracker.observe(event)
                yield event
                if tracker.done:
                    return
            tail = decoder.flush()
            event = StreamEvent.from_sse(tail) if tail is not None else None
            if event is not None:
                tracker.observe(event)
                yield event
            tracker.finish()
        except httpx.HTTPError as exc:
            raise stream_broken(core, exc) from exc
        finally:
            resp.close()

    def retrieve(self, response_id: str) -> Response:
        """Fetch a stored response by id."""
        path = self._core.response_path(response_id)
        return self._core.parse_body(self._request("GET", path), f"GET {path}")

    def cancel(self, response_id: str) -> Response:
        """Cancel a background response by id; returns it as the server reports it."""
        path = self._core.response_path(response_id, "/cancel")
        return self._core.parse_body(self._request("POST", path), f"POST {path}")
