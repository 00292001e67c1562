"""Secrets: ``{{secret:NAME}}`` placeholders resolved only at the moment of typing.

The model writes the placeholder; the executor receives the real value; the
request bodies, logs, events and the run record only ever contain the
placeholder. `Redactor` scrubs secret values (and the API key) from anything
about to be written, as a second line of defence -- in every form a value
takes on its way out of a page or a program (`secret_forms`): URL- and
form-encoded (either hex case), JSON- and HTML-escaped, base64 (standard and
URL-safe, at any byte alignment inside a longer encoded text), and its bytes
in Latin-1 / cp1252 (percent-encoded, or UTF-8 misread as Latin-1).

What redaction cannot reach: a secret typed into a page is visible in the
screenshots the model and the run record get (as text unless the field masks
it).
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from agent._errors import ModelOutputError

__all__ = [
    "SECRET_PATTERN",
    "RedactingFilter",
    "Redactor",
    "UnknownSecretError",
    "redacted_logging",
    "resolve_secrets",
    "secret_forms",
]

SECRET_PATTERN = re.compile(r"\{\{\s*secret:([A-Za-z0-9_.\-]+)\s*\}\}")
_MIN_REDACT_LEN = 3  # shorter values would scrub ordinary text
_MIN_BASE64_LEN = 6  # an encoded fragment shorter than this would match by chance
_PCT = re.compile(r"%[0-9A-F]{2}")


def _lower_hex(text: str) -> str:
    return _PCT.sub(lambda m: m.group(0).lower(), text)


def _base64_fragments(data: bytes) -> list[str]:
    # The part of base64(prefix + data + suffix) that depends on `data` alone,
    # for each of the three alignments `data` can have in a longer text.
    found: list[str] = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode("ascii").rstrip("=")
        start = (offset * 4 + 2) // 3  # characters that mix in the prefix
        end = len(encoded) - (1 if (offset + len(data)) % 3 else 0)  # a char mixing the suffix
        core = encoded[start:end]
        if len(core) >= _MIN_BASE64_LEN:
            found.append(core)
            found.append(core.replace("+", "-").replace("/", "_"))
    return found


def secret_forms(value: str) -> list[str]:
    """Every form of `value` the redactor replaces, the literal text first."""
    forms = [value]
    for charset in ("utf-8", "latin-1", "cp1252"):
        try:
            raw = value.encode(charset)
        except UnicodeEncodeError:
            continue
        for encoded in (quote(raw, safe=""), quote(raw), quote_plus(raw)):
            forms += [encoded, _lower_hex(encoded)]
        if charset == "utf-8":
            forms += _base64_fragments(raw)
            forms.append(raw.decode("latin-1"))  # UTF-8 read as Latin-1 (mojibake)
        else:
            forms += _base64_fragments(raw)
    forms.append(json.dumps(value)[1:-1])
    forms.append(json.dumps(value, ensure_ascii=False)[1:-1])
    forms.append(html.escape(value))
    forms.append(html.escape(value, quote=False))
    unique = list(dict.fromkeys(f for f in forms if len(f) >= _MIN_REDACT_LEN))
    return unique


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
                pairs += [(form, "{{secret:" + name + "}}") for form in secret_forms(value)]
        if api_key and len(api_key) >= _MIN_REDACT_LEN:
            pairs += [(form, "[REDACTED]") for form in secret_forms(api_key)]
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
