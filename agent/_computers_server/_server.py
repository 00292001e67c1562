"""`ComputersServer`: the part of Lightcone's Computers API that the official SDK's
``ComputerSession`` and `LightconeComputer` use, served on loopback by local computers.

Routes (the SDK's paths, tzafon/resources/computers/computers.py):

    POST   /computers                       create  -> ComputerResponse
    GET    /computers                       list    -> [ComputerResponse]
    GET    /computers/{id}                  retrieve-> ComputerResponse
    DELETE /computers/{id}                  delete  -> 204
    POST   /computers/{id}/keepalive        -> {"status", "idle_expires_at"}
    POST   /computers/{id}/batch            {"actions": [...]} -> {"status", "results": [...]}
    POST   /computers/{id}/execute          {"action": {...}}  -> ActionResult
    POST   /computers/{id}/<action>         click, double-click, right-click, drag,
                                            mouse-down, mouse-up, type, hotkey, key-down,
                                            key-up, scroll, navigate, screenshot -> ActionResult
    GET    /computers/{id}/screenshots/{token}.png   a recent screenshot (the token is the key)

Every route but the screenshot URLs needs ``Authorization: Bearer <key>``.
A request field the SDK's types do not name is refused (422), so a client
that drifts from the SDK is caught here; `REQUEST_FIELDS` is what the
contract test compares with the SDK's TypedDicts. A batch runs its actions in
order and stops at the first that fails (HTTP 200, ``status: "error"``, the
failing action's result last). Before a screenshot the computer settles.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

from agent._computers_server._http import HTTPRequest, HTTPResponse, HTTPServer
from agent._computers_server._sessions import CreateRefused, Session, SessionPool
from executors._errors import ExecutorError
from executors._lightcone import _wire
from sandbox import DomainPolicy

__all__ = ["ACTION_FIELDS", "REQUEST_FIELDS", "ComputersServer", "Exchange"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

ACTION_FIELDS = frozenset(
    {"type", "x", "y", "x1", "y1", "x2", "y2", "path", "button", "dx", "dy", "scroll_x"}
    | {"scroll_y", "text", "keys", "key", "ms", "url", "base64", "include_context", "tab_id"}
    | {"request_id", "settle_ms", "screenshot_after"}
)
"""The `ComputerActionParam` fields this server reads (the others are refused)."""

# route -> (the action type it performs, the request fields it takes)
_ACTION_ROUTES: dict[str, tuple[str, frozenset[str]]] = {
    "click": ("click", frozenset({"x", "y", "tab_id"})),
    "double-click": ("double_click", frozenset({"x", "y", "tab_id"})),
    "right-click": ("right_click", frozenset({"x", "y", "tab_id"})),
    "drag": ("drag", frozenset({"x1", "y1", "x2", "y2", "tab_id"})),
    "mouse-down": ("mouse_down", frozenset({"x", "y", "tab_id"})),
    "mouse-up": ("mouse_up", frozenset({"x", "y", "tab_id"})),
    "type": ("type", frozenset({"text", "tab_id"})),
    "hotkey": ("keypress", frozenset({"keys", "tab_id"})),
    "key-down": ("key_down", frozenset({"key", "tab_id"})),
    "key-up": ("key_up", frozenset({"key", "tab_id"})),
    "scroll": ("scroll", frozenset({"x", "y", "dx", "dy", "tab_id"})),
    "navigate": ("go_to_url", frozenset({"url", "tab_id"})),
    "screenshot": ("screenshot", frozenset({"base64", "tab_id"})),
}

CREATE_FIELDS = frozenset(
    {"kind", "display", "max_lifetime_seconds", "inactivity_timeout_seconds", "persistent"}
    | {"idle_timeout_enabled", "context_id", "timeout_seconds", "auto_kill", "stealth"}
    | {"environment_id", "use_advanced_proxy"}
)

REQUEST_FIELDS: dict[str, frozenset[str]] = {
    "create": CREATE_FIELDS,
    "batch": frozenset({"actions"}),
    "execute": frozenset({"action"}),
    **{route: fields for route, (_, fields) in _ACTION_ROUTES.items()},
}
"""Each JSON route's accepted body fields (checked against the SDK's param TypedDicts)."""


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, kept for the contract test (``keep_exchanges=True``)."""

    method: str
    route: str
    request: Any
    status: int
    response: Any


def _error(status: int, message: str) -> HTTPResponse:
    return HTTPResponse(status, {"error": {"message": message, "code": status}})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class ComputersServer:
    """Serve local computers through Lightcone's Computers API on 127.0.0.1.

    `start` runs the server on an event loop of its own in a daemon thread (so a
    synchronous client, like the SDK's ``Lightcone``, can use it from this
    thread); `close` ends every session and stops it.
    """

    def __init__(
        self,
        *,
        api_key: str,
        host: str = "127.0.0.1",
        port: int = 0,
        max_sessions: int = 8,
        max_lifetime_s: int = 3600,
        idle_timeout_s: int = 300,
        launch: Sequence[str] = (),
        policy: DomainPolicy | None = None,
        keep_exchanges: bool = False,
    ) -> None:
        if not api_key:
            raise ValueError("serve-computers needs an API key for its clients")
        self._key = api_key.encode()
        self.host = host
        self._port = port
        self.pool = SessionPool(
            max_sessions=max_sessions,
            max_lifetime_s=max_lifetime_s,
            idle_timeout_s=idle_timeout_s,
            launch=launch,
            policy=policy,
        )
        self.keep_exchanges = keep_exchanges
        self.exchanges: list[Exchange] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: HTTPServer | None = None
        self._reaper: asyncio.Task[None] | None = None

    def __repr__(self) -> str:  # never the key
        return f"ComputersServer({self.origin if self._server else 'not started'})"

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return self._server.port

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``: the SDK's ``base_url`` (LIGHTCONE_BASE_URL)."""
        return f"http://{self.host}:{self.port}"

    # -- running ----------------------------------------------------------------------

    def start(self) -> ComputersServer:
        """Start serving in a thread of its own; returns once it listens."""
        ready: Future[None] = Future()
        self.loop = asyncio.new_event_loop()

        def main() -> None:
            assert self.loop is not None
            asyncio.set_event_loop(self.loop)
            try:
                self.loop.run_until_complete(self._listen())
            except BaseException as exc:
                ready.set_exception(exc)
                return
            ready.set_result(None)
            self.loop.run_forever()

        self._thread = threading.Thread(target=main, name="serve-computers", daemon=True)
        self._thread.start()
        ready.result(timeout=60)
        return self

    async def _listen(self) -> None:
        self._server = HTTPServer(self._handle)
        await self._server.start(self.host, self._port)
        self._reaper = asyncio.ensure_future(self.pool.reap())

    def call(self, work: Callable[[], Awaitable[T]], timeout: float = 60) -> T:
        """Run `work()` on the server's loop (from another thread) and return its result."""
        assert self.loop is not None

        async def run() -> T:
            return await work()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def session(self, session_id: str) -> Session:
        """A live session (for tests: its `computer` to observe effects through `call`)."""
        return self.pool.sessions[session_id]

    def close(self) -> None:
        """End every session, stop listening and stop the thread. Idempotent."""
        if self.loop is None or self._thread is None:
            return

        async def stop() -> None:
            if self._reaper is not None:
                self._reaper.cancel()
            await self.pool.close()
            if self._server is not None:
                await self._server.close()

        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(120)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)
        self.loop.close()
        self.loop = None

    def __enter__(self) -> ComputersServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------

    async def _handle(self, request: HTTPRequest) -> HTTPResponse:
        parts = [p for p in request.path.split("/") if p]
        if len(parts) == 4 and parts[0] == "computers" and parts[2] == "screenshots":
            return self._shot(parts[1], parts[3])
        supplied = request.headers.get("authorization", "")
        scheme, _, token = supplied.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self._key):
            return _error(401, "missing or wrong API key")
        try:
            body = request.json() if request.method in ("POST", "PUT") else None
        except ValueError:
            return _error(400, "the body is not JSON")
        answer = await self._route(request.method, parts, body)
        if self.keep_exchanges:
            route = "/".join(parts[:1] + ["{id}"] * (len(parts) > 1) + parts[2:])
            self.exchanges.append(
                Exchange(request.method, route, body, answer.status, answer.json_body)
            )
        return answer

    async def _route(self, method: str, parts: list[str], body: Any) -> HTTPResponse:
        if not parts or parts[0] != "computers" or len(parts) > 3:
            return _error(404, "no such route")
        if len(parts) == 1:
            if method == "GET":
                return HTTPResponse(200, [s.describe() for s in self.pool.sessions.values()])
            if method == "POST":
                return await self._create(body)
            return _error(405, "use GET or POST")
        session = self.pool.sessions.get(parts[1])
        if session is None:
            return _error(404, f"no computer {parts[1]!r} (ended, or never existed)")
        if len(parts) == 2:
            if method == "GET":
                return HTTPResponse(200, session.describe())
            if method == "DELETE":
                await self.pool.end(session.id, "deleted")
                return HTTPResponse(204)
            return _error(405, "use GET or DELETE")
        if method != "POST":
            return _error(405, "use POST")
        route = parts[2]
        if not isinstance(body, dict):
            return _error(422, "the body must be a JSON object")
        fields = REQUEST_FIELDS.get(route)
        if route != "keepalive" and fields is None:
            return _error(404, f"no action route {route!r}")
        unknown = sorted(set(body) - (fields or frozenset()))
        if unknown:
            return _error(422, f"unknown field(s) for {route}: {', '.join(unknown)}")
        session.touch()
        if route == "keepalive":
            return HTTPResponse(200, {"status": "ok", "idle_expires_at": _iso_idle(session)})
        if route == "batch":
            actions = body.get("actions", [])
            if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
                return _error(422, "actions must be a list of action objects")
            return HTTPResponse(200, await self._batch(session, actions))
        if route == "execute":
            action = body.get("action")
            if not isinstance(action, dict):
                return _error(422, "execute needs an 'action' object")
            return self._single(await self._batch(session, [action]))
        kind, _ = _ACTION_ROUTES[route]
        action = {k: v for k, v in body.items() if k != "tab_id"}
        return self._single(await self._batch(session, [{"type": kind, **action}]))

    def _single(self, batch: dict[str, Any]) -> HTTPResponse:
        result = batch["results"][-1]
        if result.get("status") == "error":
            return _error(422, str(result.get("error_message")))
        return HTTPResponse(200, result)

    async def _create(self, body: Any) -> HTTPResponse:
        if not isinstance(body, dict):
            return _error(422, "the body must be a JSON object")
        unknown = sorted(set(body) - CREATE_FIELDS)
        if unknown:
            return _error(422, f"unknown field(s) for create: {', '.join(unknown)}")
        try:
            session = await self.pool.create(body)
        except CreateRefused as exc:
            return _error(exc.status, str(exc))
        except Exception as exc:
            logger.warning("serve-computers: a session failed to start", exc_info=True)
            return _error(503, f"the computer could not start: {type(exc).__name__}: {exc}")
        return HTTPResponse(200, session.describe())

    async def _batch(self, session: Session, actions: list[dict[str, Any]]) -> dict[str, Any]:
        results: list[dict[str, Any]] = []
        async with session.lock:
            for index, action in enumerate(actions):
                unknown = sorted(set(action) - ACTION_FIELDS)
                try:
                    if unknown:
                        raise ValueError(f"unknown action field(s): {', '.join(unknown)}")
                    if _third_click(actions, index):
                        # the double click before it already clicked twice here: an OS
                        # counts this click as the third (the API has no triple click)
                        x, y = round(action["x"]), round(action["y"])
                        await session.computer.triple_click(x, y)
                        result = _result("success")
                    else:
                        result = await self._act(session, action)
                except (ValueError, ExecutorError) as exc:
                    results.append(_result("error", error_message=f"{type(exc).__name__}: {exc}"))
                    return {"status": "error", "error_message": str(exc), "results": results}
                results.append(result)
            session.touch()
        return {"status": "success", "results": results}

    async def _act(self, session: Session, action: dict[str, Any]) -> dict[str, Any]:
        computer = session.computer
        if action.get("type") != "screenshot":
            await _wire.perform(computer, action)
            return _result("success")
        await computer.settle(3.0)
        shot = await computer.screenshot()
        token = session.keep_shot(shot.data)
        inner: dict[str, Any] = {
            "screenshot_url": f"{self.origin}/computers/{session.id}/screenshots/{token}.png"
        }
        if action.get("base64"):
            inner["base64"] = base64.b64encode(shot.data).decode("ascii")
        extra: dict[str, Any] = {}
        if action.get("include_context") and session.kind == "browser":
            extra["page_context"] = {
                "url": await computer.current_url(),
                "viewport_width": session.size.width,
                "viewport_height": session.size.height,
                "is_main_tab": True,
            }
        return _result("success", result=inner, **extra)

    def _shot(self, session_id: str, name: str) -> HTTPResponse:
        session = self.pool.sessions.get(session_id)
        data = session.shots.get(name.removesuffix(".png")) if session else None
        if data is None:
            return _error(404, "no such screenshot")
        return HTTPResponse(200, raw=data, content_type="image/png")


def _third_click(actions: list[dict[str, Any]], index: int) -> bool:
    """A left click right after a double click at the same point (LightconeComputer's triple)."""
    if index == 0:
        return False
    this, before = actions[index], actions[index - 1]
    return (
        this.get("type") == "click"
        and this.get("button", "left") == "left"
        and before.get("type") == "double_click"
        and isinstance(this.get("x"), (int, float))
        and isinstance(this.get("y"), (int, float))
        and (this.get("x"), this.get("y")) == (before.get("x"), before.get("y"))
    )


def _result(status: str, **fields: Any) -> dict[str, Any]:
    """An `ActionResult`."""
    return {"status": status, "timestamp": _now(), **fields}


def _iso_idle(session: Session) -> str:
    when = session.last_activity + session.idle_timeout_s
    return datetime.fromtimestamp(when, timezone.utc).isoformat().replace("+00:00", "Z")
