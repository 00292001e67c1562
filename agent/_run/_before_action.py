"""The ``before_action`` hook and its declarative form, safety rules.

Before each action runs (after it is mapped to the screen and any ``confirm``),
the run asks, in order, every `ActionRule` and then the ``before_action``
callable what to do with it; the first answer that is not `Verdict.EXECUTE`
wins:

- ``execute``: run it (the default);
- ``skip``: do not run it; the call is still answered with a fresh screenshot,
  and the model is told the action was skipped (and why, when given);
- ``stop``: end the run before it runs, status ``safety_denied``;
- ``message``: run it, and tell the model the text with the next request.

The callable is ``before_action(action, info) -> Decision | Verdict | None``
(``None`` means execute; it may be async); `ActionInfo` holds the step, the
call, the action in screen pixels and the page URL. Rules come from code or a
task file (JSON/YAML)::

    [{"match": {"type": "click", "url": "/checkout"}, "then": "stop",
      "text": "never pay"},
     {"match": {"type": ["type", "keypress"], "text": "(?i)delete"}, "then": "skip"}]

``match.type`` is an action type or a list of them; ``match.text`` a regular
expression searched in what the action types (``type``, ``point_and_type``), the
keys it presses (``keypress``, joined with ``+``) or the URL it opens
(``navigate``); ``match.url`` a regular expression searched in the page's URL.
Every given field must match. Rules are untrusted input (task files): bad
fields are a `ConfigurationError`, patterns are bounded in length.

This module holds no loop state; the act stage (agent/_run/_act.py) asks it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent._actions._model import Action, Keypress, Navigate, PointAndType, Type
from agent._errors import ConfigurationError
from agent._safety import maybe_await

__all__ = [
    "ActionInfo",
    "ActionRule",
    "BeforeActionHook",
    "Decision",
    "Verdict",
    "action_rules",
    "decide",
]

_MAX_PATTERN = 500
_MAX_RULES = 200
_MAX_TEXT = 1000


class Verdict(enum.Enum):
    """What to do with an action about to run."""

    EXECUTE = "execute"
    SKIP = "skip"
    STOP = "stop"
    MESSAGE = "message"


@dataclass(frozen=True)
class Decision:
    """A `Verdict` and the text told to the model (skip, message) or recorded (stop)."""

    verdict: Verdict
    text: str | None = None
    rule: int | None = None
    """The index of the `ActionRule` that decided (None: the callable)."""

    @classmethod
    def execute(cls) -> Decision:
        """Run the action."""
        return cls(Verdict.EXECUTE)

    @classmethod
    def skip(cls, why: str | None = None) -> Decision:
        """Do not run it; the model is told (with `why`)."""
        return cls(Verdict.SKIP, why)

    @classmethod
    def stop(cls, why: str | None = None) -> Decision:
        """End the run before it runs (status ``safety_denied``)."""
        return cls(Verdict.STOP, why)

    @classmethod
    def message(cls, text: str) -> Decision:
        """Run it and tell the model `text`."""
        return cls(Verdict.MESSAGE, text)


@dataclass(frozen=True)
class ActionInfo:
    """What the hook knows about the action besides the action itself."""

    step: int
    call_id: str
    index: int
    screen: Mapping[str, Any]
    """The action in screen pixels (what will be executed)."""
    url: str | None
    """The page URL (browser runs), redacted."""


BeforeActionHook = Callable[[Action, ActionInfo], Any]
"""``before_action(action, info) -> Decision | Verdict | None`` (may be async); a `Verdict`'s
name (``"skip"``) is accepted too."""


@dataclass(frozen=True)
class ActionRule:
    """One declarative rule: when an action matches, `then` decides (see the module doc)."""

    then: Verdict
    types: frozenset[str] = frozenset()
    text: re.Pattern[str] | None = None
    url: re.Pattern[str] | None = None
    message: str | None = None
    source: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "rule") -> ActionRule:
        """A rule from its JSON form; `ConfigurationError` naming `where` when it is wrong."""
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"{where}: a rule is an object with 'match' and 'then'")
        unknown = set(data) - {"match", "then", "text"}
        if unknown:
            raise ConfigurationError(f"{where}: unknown field(s) {sorted(unknown)}")
        then = data.get("then")
        try:
            verdict = Verdict(then)
        except ValueError:
            choices = ", ".join(v.value for v in Verdict if v is not Verdict.EXECUTE)
            raise ConfigurationError(
                f"{where}.then must be one of {choices}, got {then!r}"
            ) from None
        match = data.get("match") or {}
        if not isinstance(match, Mapping):
            raise ConfigurationError(f"{where}.match must be an object")
        unknown = set(match) - {"type", "text", "url"}
        if unknown:
            raise ConfigurationError(f"{where}.match: unknown field(s) {sorted(unknown)}")
        types = match.get("type") or []
        if isinstance(types, str):
            types = [types]
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise ConfigurationError(f"{where}.match.type must be a string or a list of them")
        text = data.get("text")
        if text is not None and (not isinstance(text, str) or len(text) > _MAX_TEXT):
            raise ConfigurationError(f"{where}.text must be a string of at most {_MAX_TEXT}")
        if verdict is Verdict.MESSAGE and not text:
            raise ConfigurationError(f"{where}: 'then: message' needs a 'text' to tell the model")
        return cls(
            verdict,
            frozenset(types),
            _pattern(match.get("text"), f"{where}.match.text"),
            _pattern(match.get("url"), f"{where}.match.url"),
            text,
            dict(data),
        )

    def matches(self, action: Action, url: str | None) -> bool:
        """True when every field the rule gives matches `action` on the page at `url`."""
        if self.types and action.type not in self.types:
            return False
        if self.text is not None:
            said = action_text(action)
            if said is None or not self.text.search(said):
                return False
        return self.url is None or (url is not None and self.url.search(url) is not None)


def _pattern(value: Any, where: str) -> re.Pattern[str] | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > _MAX_PATTERN:
        raise ConfigurationError(f"{where} must be a regular expression of at most {_MAX_PATTERN}")
    try:
        return re.compile(value)
    except re.error as exc:
        raise ConfigurationError(f"{where} is not a valid regular expression: {exc}") from None


def action_rules(rules: Iterable[ActionRule | Mapping[str, Any]]) -> tuple[ActionRule, ...]:
    """Rules from `ActionRule`s or their JSON form (e.g. a task file's ``rules`` list)."""
    out: list[ActionRule] = []
    for i, rule in enumerate(rules):
        if i >= _MAX_RULES:
            raise ConfigurationError(f"at most {_MAX_RULES} action rules")
        if not isinstance(rule, ActionRule):
            rule = ActionRule.from_dict(rule, f"rule {i}")
        out.append(rule)
    return tuple(out)


def action_text(action: Action) -> str | None:
    """What an action types, presses or opens (what a rule's ``text`` searches)."""
    if isinstance(action, (Type, PointAndType)):
        return action.text
    if isinstance(action, Keypress):
        return "+".join(action.keys)
    if isinstance(action, Navigate):
        return action.url
    return None


async def decide(
    rules: Sequence[ActionRule], hook: BeforeActionHook | None, action: Action, info: ActionInfo
) -> Decision:
    """The first decision other than execute: rules in order, then the hook."""
    for index, rule in enumerate(rules):
        if rule.matches(action, info.url) and rule.then is not Verdict.EXECUTE:
            return Decision(rule.then, rule.message, index)
    if hook is None:
        return Decision.execute()
    answer = await maybe_await(hook(action, info))
    return _coerce(answer)


def _coerce(answer: Any) -> Decision:
    if answer is None:
        return Decision.execute()
    if isinstance(answer, Decision):
        return answer
    if isinstance(answer, Verdict):
        return Decision(answer)
    if isinstance(answer, str):
        try:
            return Decision(Verdict(answer))
        except ValueError:
            pass
    raise ConfigurationError(
        f"before_action returned {answer!r}; return a Decision, a Verdict or None"
    )
