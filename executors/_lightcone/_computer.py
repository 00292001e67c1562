"""`LightconeComputer`: the `Computer` protocol on a Lightcone hosted computer.

Through the official SDK (``tzafon``, extra ``screenloop[lightcone]``, imported
when a computer starts): the session is created (``kind`` browser or desktop,
display size, lifetime and idle timeouts, ``persistent``, ``context_id``) or
attached by id, and deleted on close — whatever ended the run (an error,
Ctrl-C, SIGTERM cancelling the task) — unless the user keeps it.

One round trip per model turn: the action methods only queue their action
objects (executors/_lightcone/_wire.py); `settle` sends the queue and a
screenshot as one ``batch`` and keeps the picture for the `screenshot` that
follows. An action that fails therefore raises from `settle`/`screenshot`
(as `ActionFailedError`, naming the action), not from its own method.
`release_all` and `close` flush what is queued. While the model thinks, a
background task sends ``keepalive`` when the session has been idle for
`keepalive_s`, so an idle timeout never ends a run that is waiting on its model.

Screenshots come back as base64 (the record always gets the bytes; a remote
that only sends a URL is fetched). With ``hosted_screenshots=True`` the
`Screenshot` also carries the hosted URL, which the agent then sends to the
Responses API instead of a data URL (saving the upload).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import executors._lightcone._wire as _wire
from executors._computer import (
    ALL_CAPABILITIES,
    Button,
    Capability,
    ExecutorEvent,
    Point,
    Screenshot,
    SettleResult,
    Size,
)
from executors._errors import (
    ActionFailedError,
    ExecutorClosedError,
    LightconeAuthError,
    LightconeError,
    LightconeSessionGoneError,
    LightconeUnavailableError,
    UnsupportedActionError,
)
from executors._keys import normalize_key

if TYPE_CHECKING:
    from tzafon import AsyncLightcone

__all__ = ["LIGHTCONE_CAPABILITIES", "LightconeComputer"]

logger = logging.getLogger(__name__)

LIGHTCONE_CAPABILITIES: frozenset[Capability] = ALL_CAPABILITIES  # every action maps to the API
"""Every capability: ``move`` is a scroll by nothing at the point, ``triple_click`` a double
click and a click at the same point (the API has neither)."""

Kind = Literal["browser", "desktop"]


def _import_sdk() -> Any:
    try:
        import tzafon
    except ImportError:
        raise LightconeUnavailableError() from None
    return tzafon


class LightconeComputer:
    """A Lightcone hosted computer (browser or desktop session), driven through the official SDK.

    Args:
        kind: ``"browser"`` or ``"desktop"`` (a new session; ignored when attaching).
        size: the display size; screenshots come back at it.
        computer_id: attach to this existing session instead of creating one.
        api_key: the Lightcone key (default: ``TZAFON_API_KEY``, as the SDK reads it).
        base_url: the API origin (default: ``LIGHTCONE_BASE_URL`` or the SDK's default).
        start_url: a browser session first goes here.
        max_lifetime_s, idle_timeout_s: the session's limits (the service's defaults if None).
        persistent: save cookies and storage when the session ends.
        context_id: start from a saved context (saved logins).
        keep: leave the session running on close. Default: keep a session that was
            attached by id, delete one this computer created.
        hosted_screenshots: pass the hosted screenshot URL to the model instead of bytes.
        keepalive_s: send a keepalive after this many idle seconds (None: never).
        client: an ``AsyncLightcone`` to use (default: one made from api_key/base_url).
        request_timeout_s: the timeout of each API request.
    """

    def __init__(
        self,
        *,
        kind: Kind = "browser",
        size: tuple[int, int] = (1280, 720),
        computer_id: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        start_url: str | None = None,
        max_lifetime_s: int | None = None,
        idle_timeout_s: int | None = None,
        persistent: bool = False,
        context_id: str | None = None,
        keep: bool | None = None,
        hosted_screenshots: bool = False,
        keepalive_s: float | None = 60.0,
        client: AsyncLightcone | None = None,
        request_timeout_s: float = 120.0,
    ) -> None:
        if kind not in ("browser", "desktop"):
            raise ValueError(f"kind must be 'browser' or 'desktop', got {kind!r}")
        self._kind: Kind = kind
        self._size = Size(*size)
        self._id = computer_id
        self._attached = computer_id is not None
        self._api_key = api_key
        self._base_url = base_url
        self._start_url = start_url
        self._create: dict[str, Any] = {
            "kind": kind,
            "display": {"width": self._size.width, "height": self._size.height},
        }
        if max_lifetime_s is not None:
            self._create["max_lifetime_seconds"] = int(max_lifetime_s)
        if idle_timeout_s is not None:
            self._create["inactivity_timeout_seconds"] = int(idle_timeout_s)
        if persistent:
            self._create["persistent"] = True
        if context_id is not None:
            self._create["context_id"] = context_id
        self._keep = keep
        self._hosted = hosted_screenshots
        self._keepalive_s = keepalive_s
        self._client = client
        self._once: AsyncLightcone | None = None  # the client without retries, for batches
        self._owns_client = client is None
        self._timeout = request_timeout_s
        self._pending: list[dict[str, Any]] = []
        self._shot: Screenshot | None = None
        self._url: str | None = None
        self._held_keys: list[str] = []
        self._held_buttons: dict[Button, Point] = {}
        self._events: list[ExecutorEvent] = []
        self._last_call = time.monotonic()
        self._keepalive_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._started = False
        self._closed = False
        self.round_trips = 0
        """How many Computers API requests this computer made (a figure for tests and bench)."""

    # -- the protocol's properties ------------------------------------------------------

    @property
    def environment(self) -> Kind:
        return self._kind

    @property
    def size(self) -> Size:
        return self._size

    @property
    def capabilities(self) -> frozenset[Capability]:
        return LIGHTCONE_CAPABILITIES

    @property
    def computer_id(self) -> str | None:
        """The session's id (None before it starts)."""
        return self._id

    def __repr__(self) -> str:
        # never the key
        return f"LightconeComputer(kind={self._kind!r}, id={self._id!r})"

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> LightconeComputer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Create the session (or check the attached one exists), then go to `start_url`."""
        if self._started:
            return
        if self._client is None:
            sdk = _import_sdk()
            try:
                self._client = sdk.AsyncLightcone(
                    api_key=self._api_key, base_url=self._base_url, timeout=self._timeout
                )
            except sdk.LightconeError as exc:  # no key anywhere
                raise LightconeAuthError(self._scrub(str(exc))) from None
        self._started = True
        self._once = self._client.with_options(max_retries=0)  # a retried batch would click twice
        try:
            if self._id is None:
                created = await self._call(self._client.computers.create(**self._create))
                if not created.id:
                    raise LightconeError("the Computers API created a session without an id")
                self._id = created.id
                logger.info("lightcone: created %s session %s", self._kind, self._id)
            else:
                found = await self._call(self._client.computers.retrieve(self._id))
                if found.kind in ("browser", "desktop"):
                    self._kind = found.kind
                logger.info("lightcone: attached to session %s", self._id)
            if self._start_url and self._kind == "browser":
                # sent with the first screenshot, in the same batch
                self._pending.append(_wire.navigate(self._start_url))
        except BaseException:
            await self.close()
            raise
        if self._keepalive_s:
            self._keepalive_task = asyncio.create_task(self._keep_alive(self._keepalive_s))

    async def close(self) -> None:
        """Release what is held, then delete the session (unless kept). Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._keepalive_task is not None:
            self._keepalive_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._keepalive_task
        client, self._client = self._client, None
        if client is None or self._id is None:
            return
        keep = self._keep if self._keep is not None else self._attached
        try:
            if keep:
                with contextlib.suppress(LightconeError):
                    await asyncio.shield(self._release_now(client))
            else:
                # shielded: a second Ctrl-C must not leave a paid session running
                await asyncio.shield(self._delete(client))
        finally:
            if self._owns_client:
                with contextlib.suppress(Exception):
                    await client.close()

    async def _release_now(self, client: AsyncLightcone) -> None:
        actions = self._pending + self._release_actions()
        self._pending = []
        if actions and self._id is not None:
            await self._call(client.computers.batch(self._id, actions=cast(Any, actions)))

    async def _delete(self, client: AsyncLightcone) -> None:
        assert self._id is not None
        try:
            await self._call(client.computers.delete(self._id))
            logger.info("lightcone: deleted session %s", self._id)
        except LightconeSessionGoneError:
            pass
        except LightconeError as exc:
            logger.warning("lightcone: could not delete session %s: %s", self._id, exc)

    async def _keep_alive(self, every_s: float) -> None:
        while True:
            idle = time.monotonic() - self._last_call
            if idle < every_s:
                await asyncio.sleep(every_s - idle)
                continue
            if self._client is None or self._id is None:
                return
            try:
                async with self._lock:
                    await self._call(self._client.computers.keepalive(self._id))
            except LightconeError as exc:
                logger.warning("lightcone: keepalive failed: %s", exc)
                self._last_call = time.monotonic()

    # -- talking to the API ----------------------------------------------------------

    def _scrub(self, text: str) -> str:
        key = self._api_key or (getattr(self._client, "api_key", None) if self._client else None)
        return text.replace(key, "***") if key else text

    async def _call(self, awaitable: Any) -> Any:
        """Await one SDK call; its errors become typed executor errors."""
        sdk = _import_sdk()
        self.round_trips += 1
        try:
            result = await awaitable
        except sdk.AuthenticationError as exc:
            raise LightconeAuthError(self._scrub(str(exc)), status=exc.status_code) from None
        except sdk.PermissionDeniedError as exc:
            raise LightconeAuthError(self._scrub(str(exc)), status=exc.status_code) from None
        except sdk.NotFoundError as exc:
            raise LightconeSessionGoneError(
                f"the Lightcone session {self._id} is gone: {self._scrub(str(exc))}",
                status=exc.status_code,
            ) from None
        except sdk.APIStatusError as exc:
            raise LightconeError(self._scrub(str(exc)), status=exc.status_code) from None
        except sdk.APIConnectionError as exc:
            raise LightconeError(f"the Computers API could not be reached: {exc}") from None
        finally:
            self._last_call = time.monotonic()
        return result

    def _live(self) -> AsyncLightcone:
        if self._closed:
            raise ExecutorClosedError("the Lightcone computer is closed")
        if self._client is None or self._id is None:
            raise ExecutorClosedError("the Lightcone computer was not started (use `async with`)")
        return self._client

    async def _flush(self, *, screenshot: bool) -> Screenshot | None:
        """Send the queued actions (and a screenshot) as one batch."""
        self._live()
        actions = self._pending
        self._pending = []
        if screenshot:
            actions = [*actions, _wire.screenshot()]
        if not actions:
            return None
        assert self._id is not None
        assert self._once is not None
        async with self._lock:
            answer = await self._call(
                self._once.computers.batch(self._id, actions=cast(Any, actions))
            )
        results = _results(answer)
        for index, action in enumerate(actions):
            result = results[index] if index < len(results) else None
            failed = _failure(result, answer if index >= len(results) else None)
            if failed is not None:
                raise ActionFailedError(
                    f"lightcone {action['type']} (action {index + 1} of {len(actions)}) "
                    f"failed: {self._scrub(failed)}"
                )
        if not screenshot:
            return None
        return await self._screenshot_of(results[-1] if results else {})

    async def _screenshot_of(self, result: dict[str, Any]) -> Screenshot:
        context = result.get("page_context")
        if isinstance(context, dict) and isinstance(context.get("url"), str):
            self._url = context["url"]
        inner = result.get("result")
        data, url = _wire.screenshot_result(inner if isinstance(inner, dict) else None)
        if data is None:
            if url is None:
                raise ActionFailedError("lightcone screenshot returned neither bytes nor a URL")
            data = await self._fetch(url)
        shot = _wire.decode_image(data, self._size)
        if self._hosted and url is not None:
            shot = Screenshot(shot.data, shot.format, shot.width, shot.height, hosted_url=url)
        return shot

    async def _fetch(self, url: str) -> bytes:
        import httpx

        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                response = await http.get(url)
                response.raise_for_status()
        except httpx.HTTPError as exc:
            raise ActionFailedError(f"could not fetch the hosted screenshot: {exc}") from None
        return response.content

    def _release_actions(self) -> list[dict[str, Any]]:
        actions = [_wire.mouse("mouse_up", p.x, p.y, b) for b, p in self._held_buttons.items()]
        actions += [_wire.key("key_up", k) for k in reversed(self._held_keys)]
        self._held_buttons.clear()
        self._held_keys.clear()
        return actions

    def _queue(self, *actions: dict[str, Any]) -> None:
        self._live()
        self._shot = None
        self._pending.extend(actions)

    def _with_keys(self, keys: Sequence[str], *actions: dict[str, Any]) -> None:
        held = [normalize_key(k) for k in keys]
        self._queue(
            *(_wire.key("key_down", k) for k in held),
            *actions,
            *(_wire.key("key_up", k) for k in reversed(held)),
        )

    # -- the actions (queued) --------------------------------------------------------

    async def click(
        self, x: int, y: int, button: Button = "left", keys: Sequence[str] = ()
    ) -> None:
        self._with_keys(keys, _wire.click("click", x, y, button))

    async def double_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        self._with_keys(keys, _wire.click("double_click", x, y))

    async def triple_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        # the API has no triple click: a double click and a click, back to back in one batch
        self._with_keys(keys, _wire.click("double_click", x, y), _wire.click("click", x, y))

    async def drag(
        self, path: Sequence[Point], keys: Sequence[str] = (), button: Button = "left"
    ) -> None:
        if len(path) < 2:
            raise ValueError("a drag needs at least two points")
        self._with_keys(keys, _wire.drag([Point(*p) for p in path], button))

    async def move(self, x: int, y: int, keys: Sequence[str] = ()) -> None:
        # the API has no bare pointer move: a scroll by nothing at (x, y) puts the pointer there
        self._with_keys(keys, _wire.scroll(x, y, 0, 0))

    async def scroll(
        self, x: int, y: int, scroll_x: int, scroll_y: int, keys: Sequence[str] = ()
    ) -> None:
        self._with_keys(keys, _wire.scroll(x, y, scroll_x, scroll_y))

    async def type(self, text: str) -> None:
        if text:
            self._queue(_wire.type_text(text))

    async def keypress(self, keys: Sequence[str]) -> None:
        self._queue(_wire.keypress([normalize_key(k) for k in keys]))

    async def key_down(self, key: str) -> None:
        canonical = normalize_key(key)
        self._queue(_wire.key("key_down", canonical))
        if canonical not in self._held_keys:
            self._held_keys.append(canonical)

    async def key_up(self, key: str) -> None:
        canonical = normalize_key(key)
        self._queue(_wire.key("key_up", canonical))
        if canonical in self._held_keys:
            self._held_keys.remove(canonical)

    async def mouse_down(self, x: int, y: int, button: Button = "left") -> None:
        self._queue(_wire.mouse("mouse_down", x, y, button))
        self._held_buttons[button] = Point(x, y)

    async def mouse_up(self, x: int, y: int, button: Button = "left") -> None:
        self._queue(_wire.mouse("mouse_up", x, y, button))
        self._held_buttons.pop(button, None)

    async def wait(self, ms: int) -> None:
        self._queue(_wire.wait(max(0, int(ms))))

    async def navigate(self, url: str) -> None:
        if self._kind != "browser":
            raise UnsupportedActionError("navigate", "LightconeComputer (desktop)")
        self._queue(_wire.navigate(url))

    # -- observing -------------------------------------------------------------------

    async def settle(self, max_wait_s: float) -> SettleResult:
        """Send what is queued with a screenshot (one round trip); the remote settles itself."""
        t0 = time.monotonic()
        self._shot = await self._flush(screenshot=True)
        return SettleResult(time.monotonic() - t0, True, "remote")

    async def screenshot(self) -> Screenshot:
        shot, self._shot = self._shot, None
        if shot is None:
            shot = await self._flush(screenshot=True)
            assert shot is not None
        return shot

    async def current_url(self) -> str | None:
        """The page's URL as of the latest screenshot (browser sessions)."""
        return self._url if self._kind == "browser" else None

    def drain_events(self) -> list[ExecutorEvent]:
        events, self._events = self._events, []
        return events

    async def release_all(self) -> None:
        if self._closed or self._client is None:
            return
        self._pending.extend(self._release_actions())
        await self._flush(screenshot=False)


def _results(answer: Any) -> list[dict[str, Any]]:
    """The per-action results of a batch answer (a dict with ``results``, or a bare list)."""
    raw = answer.get("results", answer.get("actions")) if isinstance(answer, dict) else answer
    if not isinstance(raw, list):
        return []
    return [r if isinstance(r, dict) else {} for r in raw]


def _failure(result: dict[str, Any] | None, answer: Any) -> str | None:
    """Why an action failed, or None. A missing result fails only when the batch says so."""
    source = result if result is not None else answer
    if not isinstance(source, dict):
        return None
    status = str(source.get("status") or "").lower()
    message = source.get("error_message") or source.get("error")
    if status in ("error", "failed", "failure") or (message and status != "success"):
        return str(message or status)
    return None
