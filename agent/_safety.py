"""Safety policies: who decides whether a model's pending safety check is acknowledged.

A computer_call may carry ``pending_safety_checks``. Before any of its actions
runs, the policy decides each one:

- ``deny`` (the default): nothing is acknowledged; the run stops with status
  ``safety_denied``.
- ``ask``: a callback (sync or async) receives the call's checks and returns
  True (acknowledge all) or False (deny; the run stops). Anything but True
  (None, "no", 1) denies.
- ``allow``: acknowledge explicitly -- every check, or only those whose code is
  listed in `allow_codes` (the rest go to the callback if there is one, else
  are denied).

Every decision is returned as a `CheckDecision`, which the loop turns into a
`SafetyDecision` event and a ``safety`` line in the step record.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from agent._errors import ConfigurationError

logger = logging.getLogger(__name__)

__all__ = [
    "AskCallback",
    "CheckDecision",
    "SafetyCheck",
    "SafetyMode",
    "SafetyPolicy",
    "maybe_await",
]

SafetyMode = Literal["deny", "ask", "allow"]


@dataclass(frozen=True)
class SafetyCheck:
    """A pending safety check as the model sent it."""

    id: str
    code: str
    message: str

    @classmethod
    def from_raw(cls, raw: Any) -> SafetyCheck:
        """Build from a dict or an object with id/code/message (missing fields -> "")."""
        if not isinstance(raw, dict):
            raw = raw.model_dump() if hasattr(raw, "model_dump") else vars(raw)
        return cls(
            id=str(raw.get("id") or ""),
            code=str(raw.get("code") or ""),
            message=str(raw.get("message") or ""),
        )

    def to_json(self) -> dict[str, str]:
        """The form echoed back as an acknowledged safety check."""
        return {"id": self.id, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class CheckDecision:
    """The decision on one check: ``acknowledged`` or ``denied``, and who made it."""

    check: SafetyCheck
    call_id: str
    decision: Literal["acknowledged", "denied"]
    decided_by: str  # policy | callback | allowlist (local guards: confirm, allowed_actions)

    @property
    def acknowledged(self) -> bool:
        """True when the check may be acknowledged."""
        return self.decision == "acknowledged"

    def to_json(self) -> dict[str, str]:
        """The ``safety[]`` entry of a steps.jsonl line."""
        return {
            "call_id": self.call_id,
            **self.check.to_json(),
            "decision": self.decision,
            "decided_by": self.decided_by,
        }


AskCallback = Callable[[Sequence[SafetyCheck]], bool | Awaitable[bool]]


async def maybe_await(value: Any) -> Any:
    """Await `value` if it is awaitable (lets callbacks be sync or async)."""
    if inspect.isawaitable(value):
        return await value
    return value


@dataclass(frozen=True)
class SafetyPolicy:
    """How pending safety checks are decided. Build with `deny()`, `ask()` or `allow()`."""

    mode: SafetyMode = "deny"
    callback: AskCallback | None = None
    allow_codes: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("deny", "ask", "allow"):
            raise ConfigurationError(f"safety mode must be deny, ask or allow, got {self.mode!r}")
        if self.mode == "ask" and self.callback is None:
            raise ConfigurationError(
                "safety='ask' needs ask_callback (a function receiving the checks and "
                "returning True/False); use safety='deny' when nobody can be asked"
            )

    @classmethod
    def deny(cls) -> SafetyPolicy:
        """Never acknowledge: any pending check stops the run."""
        return cls("deny")

    @classmethod
    def ask(cls, callback: AskCallback) -> SafetyPolicy:
        """Ask `callback(checks) -> bool` for each computer_call that carries checks."""
        return cls("ask", callback=callback)

    @classmethod
    def allow(
        cls, codes: Iterable[str] | None = None, *, callback: AskCallback | None = None
    ) -> SafetyPolicy:
        """Acknowledge every check, or only those with a listed code (others: ask or deny)."""
        return cls("allow", callback=callback, allow_codes=frozenset(codes) if codes else None)

    @classmethod
    def coerce(
        cls, value: SafetyPolicy | str | None, ask_callback: AskCallback | None = None
    ) -> SafetyPolicy:
        """Accept a policy, a mode name, or None (deny, or ask when a callback is given)."""
        if isinstance(value, SafetyPolicy):
            return value
        if value is None:
            return cls.ask(ask_callback) if ask_callback else cls.deny()
        if value == "ask":
            if ask_callback is None:
                raise ConfigurationError("safety='ask' needs ask_callback")
            return cls.ask(ask_callback)
        if value == "allow":
            return cls.allow(callback=ask_callback)
        if value == "deny":
            return cls.deny()
        raise ConfigurationError(
            f"safety must be deny, ask, allow or a SafetyPolicy, got {value!r}"
        )

    async def decide(self, call_id: str, checks: Sequence[SafetyCheck]) -> list[CheckDecision]:
        """Decide every check of one computer_call."""
        decisions: list[CheckDecision] = []
        undecided: list[SafetyCheck] = []
        for check in checks:
            if self.mode == "allow" and (
                self.allow_codes is None or check.code in self.allow_codes
            ):
                by: Literal["policy", "allowlist"] = (
                    "policy" if self.allow_codes is None else "allowlist"
                )
                decisions.append(CheckDecision(check, call_id, "acknowledged", by))
            elif self.mode == "deny" or (self.mode == "allow" and self.callback is None):
                decisions.append(CheckDecision(check, call_id, "denied", "policy"))
            else:
                undecided.append(check)
        if undecided:
            assert self.callback is not None
            reply = await maybe_await(self.callback(list(undecided)))
            # Only an explicit True acknowledges: "no", 1 or a stray object is not a decision.
            answer = reply is True
            if not isinstance(reply, bool) and reply is not None:
                logger.warning(
                    "the safety callback returned %r, not True/False; denying", type(reply).__name__
                )
            verdict: Literal["acknowledged", "denied"] = "acknowledged" if answer else "denied"
            decisions.extend(CheckDecision(c, call_id, verdict, "callback") for c in undecided)
        order = {id(c): i for i, c in enumerate(checks)}
        decisions.sort(key=lambda d: order.get(id(d.check), 0))
        return decisions
