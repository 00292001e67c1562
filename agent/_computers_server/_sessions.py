"""The computers of `serve-computers`: one session per local `Computer`, created, timed out, closed.

A browser session is a `PlaywrightComputer` (its own headless Chromium); a
desktop session is a fresh `VirtualDisplay` (Xvfb + openbox) with the
server's ``--launch`` programs started in it and a `DesktopComputer` on it.
A session ends when deleted, when its lifetime is over, or when it has been
idle longer than its inactivity timeout (keepalive and every action count as
activity); ending closes its computer and display.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shlex
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from executors._computer import Computer, Size
from sandbox import DomainPolicy

__all__ = ["CreateRefused", "Session", "SessionPool"]

logger = logging.getLogger(__name__)

KEEP_SHOTS = 8
"""How many recent screenshots a session serves at their URLs."""


class CreateRefused(Exception):
    """A create request the pool will not honour: `status` and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Session:
    """One live computer."""

    id: str
    kind: str
    size: Size
    computer: Computer
    stack: contextlib.AsyncExitStack
    max_lifetime_s: int
    idle_timeout_s: int
    idle_enabled: bool
    persistent: bool
    created: float = field(default_factory=time.time)
    last_activity: float = field(default_factory=time.time)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    shots: OrderedDict[str, bytes] = field(default_factory=OrderedDict)

    def touch(self) -> None:
        self.last_activity = time.time()

    def expired(self, now: float) -> str | None:
        """Why the session is over at `now`, or None."""
        if now - self.created >= self.max_lifetime_s:
            return "lifetime"
        if self.idle_enabled and now - self.last_activity >= self.idle_timeout_s:
            return "idle"
        return None

    def keep_shot(self, data: bytes) -> str:
        token = secrets.token_urlsafe(18)
        self.shots[token] = data
        while len(self.shots) > KEEP_SHOTS:
            self.shots.popitem(last=False)
        return token

    def describe(self, status: str = "running") -> dict[str, Any]:
        """The session as the SDK's `ComputerResponse`."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": status,
            "created_at": _iso(self.created),
            "expires_at": _iso(self.created + self.max_lifetime_s),
            "idle_expires_at": _iso(self.last_activity + self.idle_timeout_s),
            "last_activity_at": _iso(self.last_activity),
            "idle_timeout_enabled": self.idle_enabled,
            "auto_kill": self.idle_enabled,
            "inactivity_timeout_seconds": self.idle_timeout_s,
            "max_lifetime_seconds": self.max_lifetime_s,
        }


def _int(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CreateRefused(422, f"{name} must be an integer in {low}..{high}")
    return value


class SessionPool:
    """The live sessions of one server, on its event loop."""

    def __init__(
        self,
        *,
        max_sessions: int = 8,
        max_lifetime_s: int = 3600,
        idle_timeout_s: int = 300,
        launch: Sequence[str] = (),
        policy: DomainPolicy | None = None,
        headless: bool = True,
    ) -> None:
        from sandbox import check_launchable

        # a command no session could start (a terminal told to run a program that is
        # not installed) is refused here, once, instead of failing every session
        for cmd in launch:
            check_launchable(shlex.split(cmd.replace("{session}", "session")))
        self.max_sessions = max_sessions
        self.max_lifetime_s = max_lifetime_s
        self.idle_timeout_s = idle_timeout_s
        self.launch = list(launch)
        self.policy = policy
        self.headless = headless
        self.sessions: dict[str, Session] = {}
        self._starting = 0
        self._changed = threading.Condition()
        self.ended: list[tuple[str, str]] = []
        """(session id, why) of every ended session, oldest first."""

    # -- observing (any thread) ------------------------------------------------------

    def ids(self) -> list[str]:
        with self._changed:
            return list(self.sessions)

    def wait_until(self, predicate: Callable[[list[str]], bool], timeout: float) -> bool:
        """Block (any thread but the pool's) until `predicate(ids)` holds; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(list(self.sessions)), timeout)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # -- lifecycle ------------------------------------------------------------------

    async def create(self, params: dict[str, Any]) -> Session:
        kind = params.get("kind", "browser")
        if kind not in ("browser", "desktop"):
            raise CreateRefused(422, "kind must be 'browser' or 'desktop'")
        display = params.get("display") or {}
        if not isinstance(display, dict):
            raise CreateRefused(422, "display must be an object {width, height}")
        size = Size(_int(display, "width", 1024, 64, 3840), _int(display, "height", 768, 64, 2160))
        lifetime = _int(
            params,
            "max_lifetime_seconds",
            params.get("timeout_seconds", self.max_lifetime_s),
            1,
            self.max_lifetime_s,
        )
        idle = _int(params, "inactivity_timeout_seconds", self.idle_timeout_s, 1, 86_400)
        idle_enabled = params.get("idle_timeout_enabled", params.get("auto_kill", True))
        if not isinstance(idle_enabled, bool):
            raise CreateRefused(422, "idle_timeout_enabled must be a boolean")
        if len(self.sessions) + self._starting >= self.max_sessions:
            raise CreateRefused(429, f"this server runs at most {self.max_sessions} sessions")
        self._starting += 1
        session_id = "cmp_" + secrets.token_hex(12)
        stack = contextlib.AsyncExitStack()
        try:
            computer = await self._open(session_id, kind, size, stack)
        except BaseException:
            await stack.aclose()
            raise
        finally:
            self._starting -= 1
        session = Session(
            id=session_id,
            kind=kind,
            size=size,
            computer=computer,
            stack=stack,
            max_lifetime_s=lifetime,
            idle_timeout_s=idle,
            idle_enabled=idle_enabled,
            persistent=bool(params.get("persistent", False)),
        )
        with self._changed:
            self.sessions[session.id] = session
            self._changed.notify_all()
        logger.info("serve-computers: %s session %s started", kind, session.id)
        return session

    async def _open(
        self, session_id: str, kind: str, size: Size, stack: contextlib.AsyncExitStack
    ) -> Computer:
        if kind == "browser":
            from executors import PlaywrightComputer

            browser = PlaywrightComputer(
                size=size, start_url="about:blank", policy=self.policy, headless=self.headless
            )
            return await stack.enter_async_context(browser)
        from executors import DesktopComputer
        from sandbox import VirtualDisplay, wait_for_launched

        display = await stack.enter_async_context(VirtualDisplay(*size))
        # {session} in a command names this session (a log file of its own, say)
        argvs = [shlex.split(cmd.replace("{session}", session_id)) for cmd in self.launch]
        procs = [display.launch(argv) for argv in argvs]
        if procs:
            await asyncio.to_thread(wait_for_launched, display, procs, timeout_s=30.0)
        desktop = DesktopComputer(display, size=size)
        computer = await stack.enter_async_context(desktop)
        await computer.settle(2.0)
        return computer

    async def end(self, session_id: str, why: str) -> bool:
        """Close a session; False when there was none with that id."""
        with self._changed:
            session = self.sessions.pop(session_id, None)
        if session is None:
            return False
        try:
            async with session.lock:
                await session.stack.aclose()
        except Exception:
            logger.warning("serve-computers: closing %s failed", session_id, exc_info=True)
        finally:
            with self._changed:
                self.ended.append((session_id, why))
                self._changed.notify_all()
        logger.info("serve-computers: session %s ended (%s)", session_id, why)
        return True

    async def reap(self) -> None:
        """End timed-out sessions, once a second, until cancelled."""
        while True:
            now = time.time()
            for session in list(self.sessions.values()):
                why = session.expired(now)
                if why is not None and not session.lock.locked():
                    await self.end(session.id, why)
            await asyncio.sleep(1.0)

    async def close(self) -> None:
        for session_id in list(self.sessions):
            await self.end(session_id, "server stopped")
