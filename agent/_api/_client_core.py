"""Work without I/O shared by both Responses clients: `ClientCore`.

Building requests, retry bookkeeping, mapping statuses and transport failures
to the typed errors of `agent._errors`, parsing bodies, and redaction. The API
key is only ever placed in the `Authorization` header; any echo of it in a
server's error body or an exception message is replaced by `***`.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from agent._api._interface import OnRetry
from agent._api._provider import (
    ProviderSettings,
    lightcone_custom_headers,
    resolve_provider,
    without_credentials,
)
from agent._api._response import Response
from agent._api._retry import (
    RetryEvent,
    RetryPolicy,
    RetryState,
    is_retryable_status,
    parse_retry_after,
)
from agent._api._sse import StreamEvent
from agent._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamError,
)
from agent._secrets import secret_forms

__all__ = [
    "USER_AGENT",
    "Body",
    "ClientCore",
    "OnEvent",
    "describe",
    "events_for_plain_response",
    "ssl_context",
    "stream_broken",
]

logger = logging.getLogger(__name__)

USER_AGENT = "screenloop/0.1 (+httpx)"
_MAX_ERROR_TEXT = 500

OnEvent = Callable[[StreamEvent], object]
Body = Mapping[str, Any] | BaseModel


class ClientCore:
    """Request building and response interpretation shared by both clients."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        provider: str | None,
        timeout: float,
        max_retries: int,
        retry_budget_s: float,
        backoff_base_s: float,
        backoff_max_s: float,
        headers: Mapping[str, str] | None,
        on_retry: OnRetry | None,
        env: Mapping[str, str] | None,
    ) -> None:
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, got {timeout!r}")
        if max_retries < 0 or retry_budget_s < 0:
            raise ConfigurationError("max_retries and retry_budget_s must not be negative")
        self.settings: ProviderSettings = resolve_provider(
            api_key=api_key, base_url=base_url, provider=provider, env=env
        )
        self.timeout = timeout
        self.policy = RetryPolicy(
            max_retries=max_retries,
            budget_s=retry_budget_s,
            backoff_base_s=backoff_base_s,
            backoff_max_s=backoff_max_s,
        )
        # LIGHTCONE_CUSTOM_HEADERS go where the SDK sends them: to Lightcone's base URL
        from_env = lightcone_custom_headers(env) if self.settings.provider == "lightcone" else {}
        extra = {**from_env, **dict(headers or {})}
        if any(k.lower() == "authorization" for k in extra):
            raise ConfigurationError("pass the key as api_key=, not as an Authorization header")
        self.extra_headers = extra
        self.on_retry = on_retry

    # -- requests ----------------------------------------------------------------

    def repr_for(self, cls_name: str) -> str:
        key = "'***'" if self.settings.api_key else "None"
        return (
            f"{cls_name}(provider={self.settings.provider!r}, "
            f"base_url={self.shown_base_url!r}, api_key={key})"
        )

    def http_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout)

    def headers(self, *, stream: bool = False) -> dict[str, str]:
        h = {
            "User-Agent": USER_AGENT,
            "Accept": "text/event-stream" if stream else "application/json",
        }
        h.update(self.extra_headers)
        if self.settings.api_key:
            h["Authorization"] = f"Bearer {self.settings.api_key}"
        return h

    def url(self, path: str) -> str:
        return f"{self.settings.base_url}{path}"

    @staticmethod
    def response_path(response_id: str, suffix: str = "") -> str:
        if not isinstance(response_id, str) or not response_id:
            raise ConfigurationError(f"response_id must be a non-empty string, got {response_id!r}")
        return f"/responses/{quote(response_id, safe='')}{suffix}"

    @staticmethod
    def body_dict(body: Body, *, stream: bool) -> dict[str, Any]:
        if isinstance(body, BaseModel):
            data: dict[str, Any] = body.model_dump(mode="json", by_alias=True, exclude_none=True)
        elif isinstance(body, Mapping):
            data = dict(body)
        else:
            raise ConfigurationError(
                f"body must be a dict or a pydantic model, got {type(body).__name__}"
            )
        if stream:
            data["stream"] = True
        else:
            data.pop("stream", None)
        return data

    def new_retry_state(self) -> RetryState:
        return RetryState(self.policy)

    # -- redaction ---------------------------------------------------------------

    @property
    def shown_base_url(self) -> str:
        """The base URL as errors and reprs show it: without ``user:password@``."""
        return without_credentials(self.settings.base_url) or ""

    def redact(self, text: str) -> str:
        key = self.settings.api_key
        if key:
            for form in secret_forms(key):  # the key in any encoding (URL, base64, JSON...)
                text = text.replace(form, "***")
        return text

    def redact_obj(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(str(k)): self.redact_obj(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact_obj(v) for v in value]
        return value

    # -- outcomes ----------------------------------------------------------------

    def after_status(self, resp: httpx.Response, state: RetryState, what: str) -> float:
        """A non-2xx response whose body has been read: a delay to retry, or raise."""
        status = resp.status_code
        if not is_retryable_status(status):
            self.raise_status_error(resp, state, what, reason=None)
        retry_after = parse_retry_after(resp.headers)
        delay = state.next_delay(retry_after)
        if delay is None:
            self.raise_status_error(resp, state, what, reason=state.give_up_reason)
        self._announce(
            RetryEvent(
                attempt=state.attempts,
                delay=delay,
                reason=f"HTTP {status}",
                status_code=status,
                retry_after=retry_after,
            ),
            what,
        )
        return delay

    def after_exception(self, exc: httpx.HTTPError, state: RetryState, what: str) -> float:
        """A transport failure: a delay to retry, or raise the typed error."""
        if isinstance(exc, httpx.UnsupportedProtocol):
            raise ConfigurationError(
                f"cannot send to {self.shown_base_url!r}: {exc}; use an http(s) base_url"
            ) from exc
        if isinstance(exc, httpx.DecodingError):
            raise MalformedResponseError(
                f"{what}: the response body could not be decoded ({exc}); "
                "check that base_url points at a Responses API"
            ) from exc
        is_timeout = isinstance(exc, httpx.TimeoutException)
        detail = self.redact(str(exc)) or type(exc).__name__
        reason = "timeout" if is_timeout else f"connection error: {detail}"
        delay = state.next_delay(None)
        if delay is None:
            tried = (
                f"after {state.attempts} attempt(s) in {state.elapsed:.1f}s "
                f"({state.give_up_reason})"
            )
            if is_timeout:
                raise APITimeoutError(
                    f"{what} timed out {tried} (timeout={self.timeout:g}s per attempt). "
                    "Raise timeout=, or check that the server at "
                    f"{self.shown_base_url} is healthy"
                ) from exc
            raise APIConnectionError(
                f"{what} failed {tried}: {detail}. Check base_url={self.shown_base_url!r}, "
                "that the server is running and the network reaches it"
            ) from exc
        self._announce(RetryEvent(attempt=state.attempts, delay=delay, reason=reason), what)
        return delay

    def _announce(self, event: RetryEvent, what: str) -> None:
        logger.info(
            "%s: attempt %d failed (%s); retrying in %.2fs",
            what,
            event.attempt,
            event.reason,
            event.delay,
        )
        if self.on_retry is not None:
            self.on_retry(event)

    def server_message(self, resp: httpx.Response) -> tuple[str, Any]:
        """The server's error message and its body (parsed JSON or text), redacted."""
        text = self.redact(resp.text)
        try:
            body: Any = json.loads(text)
        except (ValueError, RecursionError):
            body = text
        message: Any = None
        if isinstance(body, dict):
            err = body.get("error")
            if isinstance(err, dict):
                message = err.get("message") or err.get("code")
            elif isinstance(err, str):
                message = err
            message = message or body.get("message") or body.get("detail")
        if not message:
            message = text.strip()[:_MAX_ERROR_TEXT] or resp.reason_phrase or "no message"
        if not isinstance(message, str):
            message = json.dumps(message)[:_MAX_ERROR_TEXT]
        return self.redact(message), body

    def raise_status_error(
        self, resp: httpx.Response, state: RetryState, what: str, *, reason: str | None
    ) -> NoReturn:
        status = resp.status_code
        message, body = self.server_message(resp)
        request_id = resp.headers.get("x-request-id")
        ctx = f"{what}: HTTP {status}: {message}"
        if request_id:
            ctx += f" (request id {request_id})"
        if reason is not None:
            ctx += f" [gave up after {state.attempts} attempt(s) in {state.elapsed:.1f}s: {reason}]"
        cls: type[APIStatusError]
        if status == 400 or status == 422:
            cls, hint = BadRequestError, "Fix the request; the server's message says what is wrong"
        elif status == 401:
            cls, hint = AuthenticationError, f"Check the API key: {self.settings.key_hint}"
        elif status == 403:
            cls, hint = (
                PermissionDeniedError,
                "The key may not use this model or endpoint; check the model name and the key",
            )
        elif status == 404:
            cls, hint = (
                NotFoundError,
                "Check base_url (it usually ends in /v1), the model name, or the response id "
                "(responses created with store: false cannot be retrieved)",
            )
        elif status == 429:
            cls, hint = (
                RateLimitError,
                "Slow down, or raise max_retries / retry_budget_s",
            )
        elif 500 <= status <= 599:
            cls, hint = ServerError, "The server is failing; try again later"
        else:
            cls, hint = APIStatusError, "The request was not accepted; see the server's message"
        raise cls(f"{ctx}. {hint}", status_code=status, body=body)

    def parse_body(self, resp: httpx.Response, what: str) -> Response:
        """A 2xx body as a Response, or MalformedResponseError."""
        try:
            data = json.loads(resp.content)
        except (ValueError, RecursionError) as exc:  # nested deeper than Python can decode
            ctype = resp.headers.get("content-type", "no content-type")
            snippet = self.redact(resp.text[:120])
            raise MalformedResponseError(
                f"{what}: the body is not JSON (HTTP {resp.status_code}, {ctype}, starts with "
                f"{snippet!r}). Check that base_url={self.shown_base_url!r} points at a "
                "Responses API"
            ) from exc
        return self.to_response(data, what)

    def to_response(self, data: Any, what: str) -> Response:
        if not isinstance(data, dict) or not isinstance(data.get("output"), list):
            shape = (
                f"an object with keys {sorted(data)[:8]}"
                if isinstance(data, dict)
                else type(data).__name__
            )
            raise MalformedResponseError(
                f"{what}: the JSON is not a response object (got {self.redact(shape)}; expected "
                "'id' and an 'output' list). Check that base_url points at a Responses API"
            )
        try:
            return Response.model_validate(data)
        except ValidationError as exc:
            first = self.redact(str(exc.errors()[0]["msg"]))
            raise MalformedResponseError(
                f"{what}: the response object does not validate "
                f"({exc.error_count()} error(s), first: {first}). "
                "Check that base_url points at a Responses API"
            ) from exc

    def stream_content_is_json(self, resp: httpx.Response) -> bool:
        ctype = resp.headers.get("content-type", "")
        return "json" in ctype and "event-stream" not in ctype


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """One TLS context shared by every client."""
    # httpx builds a fresh context (loading the CA bundle, ~80 ms) per client;
    # one shared context makes clients cheap to create.
    return httpx.create_ssl_context()


def describe(method: str, path: str) -> str:
    """How log lines and errors name a request: `POST /responses`."""
    return f"{method} {path}"


def stream_broken(core: ClientCore, exc: httpx.HTTPError) -> StreamError:
    """The error for a stream that failed after its events began to flow."""
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "broke"
    detail = core.redact(str(exc)) or type(exc).__name__
    return StreamError(
        f"the stream {kind} before its completion event ({detail}); "
        "the response is incomplete. Retry the request, or call retrieve() with the response id "
        "if the server stored it"
    )


def events_for_plain_response(response: Response) -> Iterator[StreamEvent]:
    """A server that ignored `stream: true` and answered JSON: one terminal event."""
    data = response.model_dump(mode="json")
    status = data.get("status")
    etype = {"failed": "response.failed", "incomplete": "response.incomplete"}.get(
        str(status), "response.completed"
    )
    logger.info("the server answered a stream request with plain JSON; synthesizing %s", etype)
    yield StreamEvent(type=etype, data={"type": etype, "response": data})
