"""Secrets: ``{{secret:NAME}}`` placeholders resolved only at the moment of typing.

The model writes the placeholder; the executor receives the real value; the
request bodies, logs, events and the run record only ever contain the
placeholder. `Redactor` scrubs secret values (and the API key) from anything
about to be written, as a second line of defence.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

from agent._errors import ModelOutputError

__all__ = [
    "SECRET_PATTERN",
    "RedactingFilter",
    "Redactor",
    "UnknownSecretError",
    "redacted_logging",
    "resolve_secrets",
]

SECRET_PATTERN = re.compile(r"\{\{\s*secret:([A-Za-z0-9_.\-]+)\s*\}\}")
_MIN_REDACT_LEN = 3  # shorter values would scrub ordinary text


class UnknownSecretError(ModelOutputError):
    """The model used a ``{{secret:NAME}}`` placeholder for a secret that was not given."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(
            f"unknown secret {name!r} in a placeholder; known secrets: {sorted(known)}"
        )


def resolve_secrets(text: str, secrets: Mapping[str, str]) -> str:
    """Replace every ``{{secret:NAME}}`` in `text` by its value; unknown names raise."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in secrets:
            raise UnknownSecretError(name, list(secrets))
        return secrets[name]

    return SECRET_PATTERN.sub(sub, text)


class Redactor:
    """Replaces secret values with their placeholder and the API key with ``[REDACTED]``."""

    def __init__(self, secrets: Mapping[str, str] | None = None, api_key: str | None = None):
        pairs: list[tuple[str, str]] = []
        for name, value in (secrets or {}).items():
            if value and len(value) >= _MIN_REDACT_LEN:
                pairs.append((value, "{{secret:" + name + "}}"))
        if api_key and len(api_key) >= _MIN_REDACT_LEN:
            pairs.append((api_key, "[REDACTED]"))
        # Longest first, so a value containing another is replaced whole.
        self._pairs = sorted(pairs, key=lambda p: -len(p[0]))

    @property
    def active(self) -> bool:
        """True when there is anything to redact."""
        return bool(self._pairs)

    def text(self, value: str) -> str:
        """`value` with every secret replaced."""
        for secret, placeholder in self._pairs:
            if secret in value:
                value = value.replace(secret, placeholder)
        return value

    def __call__(self, obj: Any) -> Any:
        """A copy of a JSON-like structure with every string redacted (image data skipped)."""
        if not self._pairs:
            return obj
        if isinstance(obj, str):
            return obj if obj.startswith("data:image/") else self.text(obj)
        if isinstance(obj, dict):
            return {k: self(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self(v) for v in obj]
        return obj


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from each record's rendered message."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message, redact it, and drop the arguments."""
        if self.redactor.active:
            record.msg = self.redactor.text(record.getMessage())
            record.args = None
        return True


@contextlib.contextmanager
def redacted_logging(redactor: Redactor) -> Iterator[None]:
    """While active, every handler of the root logger redacts secrets from what it emits.

    Handler filters (unlike logger filters) see records from every module,
    including executors that log the text they type.
    """
    if not redactor.active:
        yield
        return
    flt = RedactingFilter(redactor)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(flt)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(flt)
