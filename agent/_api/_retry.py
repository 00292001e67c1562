"""Retry decisions shared by the sync and async clients (plain code, no I/O).

Exponential backoff with full jitter: before retry n (0-based) wait a uniform
random time in [0, min(backoff_max_s, backoff_base_s * 2**n)]. A server's
`Retry-After` (seconds or an HTTP date; `retry-after-ms` too) replaces the
jittered delay. Retries are bounded twice: at most `max_retries` retries, and
no wait may end later than `budget_s` seconds after the first attempt started.
When the server asks for a wait that does not fit in what is left of the
budget, the client gives up at once instead of retrying early.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

__all__ = [
    "RETRYABLE_STATUS_CODES",
    "RetryEvent",
    "RetryPolicy",
    "RetryState",
    "is_retryable_status",
    "parse_retry_after",
]

RETRYABLE_STATUS_CODES = frozenset({408, 409, 429})


def is_retryable_status(status_code: int) -> bool:
    """True for 408, 409, 429 and every 5xx."""
    return status_code in RETRYABLE_STATUS_CODES or 500 <= status_code <= 599


@dataclass(frozen=True)
class RetryEvent:
    """One retry about to happen: handed to `on_retry` and logged."""

    attempt: int
    """The attempt that just failed (1 is the first request)."""
    delay: float
    """Seconds the client waits before the next attempt."""
    reason: str
    """Why: "HTTP 503", "timeout", "connection error: ...", ..."""
    status_code: int | None = None
    retry_after: float | None = None
    """The server's Retry-After in seconds, when it sent one."""


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to retry."""

    max_retries: int = 4
    budget_s: float = 60.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0

    def backoff(self, retry_index: int, rng: Callable[[], float] = random.random) -> float:
        """Full-jitter delay before retry number `retry_index` (0-based)."""
        cap = min(self.backoff_max_s, self.backoff_base_s * (2**retry_index))
        return rng() * cap


def parse_retry_after(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds the server asks us to wait, from `retry-after-ms` or `Retry-After`.

    Returns None when absent or unparseable; never negative.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:  # pragma: no cover - older Pythons returned None
        return None
    return max(0.0, when.timestamp() - now())


@dataclass
class RetryState:
    """Book-keeping for one logical request across its attempts."""

    policy: RetryPolicy
    clock: Callable[[], float] = time.monotonic
    rng: Callable[[], float] = random.random
    attempts: int = 0
    started: float = field(default=0.0)
    give_up_reason: str | None = None

    def __post_init__(self) -> None:
        self.started = self.clock()

    def start_attempt(self) -> int:
        """Count an attempt; returns its 1-based number."""
        self.attempts += 1
        return self.attempts

    @property
    def elapsed(self) -> float:
        """Seconds since the first attempt started."""
        return self.clock() - self.started

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """The wait before the next attempt, or None to give up (see `give_up_reason`)."""
        retries_done = self.attempts - 1
        if retries_done >= self.policy.max_retries:
            self.give_up_reason = f"max_retries={self.policy.max_retries} reached"
            return None
        remaining = self.policy.budget_s - self.elapsed
        if retry_after is not None:
            if retry_after > remaining:
                left = max(remaining, 0.0)
                self.give_up_reason = (
                    f"the server asked to wait {retry_after:.1f}s but only {left:.1f}s "
                    f"of retry_budget_s={self.policy.budget_s:g} is left"
                )
                return None
            return retry_after
        if remaining <= 0:
            self.give_up_reason = f"retry_budget_s={self.policy.budget_s:g} spent"
            return None
        return min(self.policy.backoff(retries_done, self.rng), remaining)
