"""Where requests go and which key they carry: provider, base URL and API key resolution.

Explicit arguments win over the environment. The environment is passed in (a
mapping, `os.environ` by default) so resolution is a plain, testable function.

- `lightcone`: key from the argument or `TZAFON_API_KEY`; base URL from the
  argument, `LIGHTCONE_BASE_URL`, or https://api.tzafon.ai/v1.
  `LIGHTCONE_BASE_URL` is read as the official SDK reads it: an origin (or a
  prefix) that ``/v1/responses`` is appended to, so ``https://api.tzafon.ai``
  means ``https://api.tzafon.ai/v1``; a value already ending in ``/v1`` (what
  screenloop documented before) is taken as it is. A `lightcone` base URL
  argument that is a bare origin gets ``/v1`` too.
  `LIGHTCONE_CUSTOM_HEADERS` (``Name: value`` lines, parsed as the SDK does)
  are sent with every `lightcone` request; explicit headers win.
- `openai`: key from the argument or `OPENAI_API_KEY`; base URL from the
  argument, `OPENAI_BASE_URL`, or https://api.openai.com/v1.
- `custom`: key from the argument, `TZAFON_API_KEY` or `OPENAI_API_KEY` (none is
  fine: local servers often need no key); the base URL argument is required.

With no provider given: a base URL on api.tzafon.ai means `lightcone`, one on
api.openai.com means `openai`, any other base URL means `custom`; with neither a
provider nor a base URL, `lightcone` unless only OpenAI variables are set.

Keys go only where they belong. A key from the environment goes with the base
URL configured beside it: `TZAFON_API_KEY` to Lightcone's host or to
`LIGHTCONE_BASE_URL`'s origin (as the official SDK does), `OPENAI_API_KEY` to
OpenAI's host or to `OPENAI_BASE_URL`'s origin. A base URL given as an
argument on any other host gets only a key given as an argument, unless
`send_env_key=True` (``--send-env-key``): a `lightcone`/`openai` provider then
raises `ConfigurationError` saying how, a `custom` one sends no key and logs a
warning (local servers often need none).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast
from urllib.parse import urlsplit

from agent._errors import ConfigurationError

__all__ = [
    "LIGHTCONE_DEFAULT_BASE_URL",
    "OPENAI_DEFAULT_BASE_URL",
    "Provider",
    "ProviderSettings",
    "env_key_belongs",
    "lightcone_custom_headers",
    "resolve_provider",
    "sdk_base_url",
    "without_credentials",
]

Provider = Literal["lightcone", "openai", "custom"]

LIGHTCONE_DEFAULT_BASE_URL = "https://api.tzafon.ai/v1"
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"

_PROVIDERS = ("lightcone", "openai", "custom")
_ENV_KEYS = (
    ("TZAFON_API_KEY", "LIGHTCONE_BASE_URL", LIGHTCONE_DEFAULT_BASE_URL),
    ("OPENAI_API_KEY", "OPENAI_BASE_URL", OPENAI_DEFAULT_BASE_URL),
)

logger = logging.getLogger(__name__)


def _origin(url: str | None) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower().rstrip("."), port


def env_key_belongs(variable: str, url: str, env: Mapping[str, str]) -> bool:
    """True when `url` is where the key in environment variable `variable` may go."""
    for key_var, url_var, default in _ENV_KEYS:
        if key_var == variable:
            target = _origin(url)
            return target is not None and target in (_origin(default), _origin(env.get(url_var)))
    return False


@dataclass(frozen=True)
class ProviderSettings:
    """The resolved provider, base URL and key. The key never appears in the repr."""

    provider: Provider
    base_url: str
    api_key: str | None = field(repr=False)
    key_source: str | None  # "argument" or the variable's name; never the key itself

    @property
    def key_hint(self) -> str:
        """What the user should set to fix a missing or wrong key."""
        if self.provider == "lightcone":
            return "pass api_key= or set TZAFON_API_KEY"
        if self.provider == "openai":
            return "pass api_key= or set OPENAI_API_KEY"
        return (
            "pass api_key= (--api-key); a TZAFON_API_KEY / OPENAI_API_KEY from the environment "
            "goes only to the LIGHTCONE_BASE_URL / OPENAI_BASE_URL set beside it, or with "
            "--send-env-key"
        )


def _first(*pairs: tuple[str | None, str]) -> tuple[str | None, str | None]:
    for value, source in pairs:
        if value:
            return value, source
    return None, None


def without_credentials(url: str | None) -> str | None:
    """`url` without ``user:password@`` (what is recorded or shown of a base URL)."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _provider_for_url(base_url: str) -> Provider:
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "api.tzafon.ai":
        return "lightcone"
    if host == "api.openai.com":
        return "openai"
    return "custom"


def _lightcone_url(url: str, *, from_env: bool) -> str:
    """A Lightcone base URL up to ``/v1``, from the SDK's form (an origin or prefix).

    The environment variable is the SDK's: ``/v1`` is appended unless the value
    already ends with it. An argument is screenloop's (up to ``/v1``): only a
    bare origin gets ``/v1``.
    """
    stripped = url.strip().rstrip("/")
    try:
        path = urlsplit(stripped).path
    except ValueError:
        return stripped
    if path.endswith("/v1"):
        return stripped
    if from_env or not path:
        return f"{stripped}/v1"
    return stripped


def sdk_base_url(base_url: str) -> str:
    """The official SDK's ``base_url`` (it appends ``/v1/responses``) for a screenloop one."""
    url = base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def lightcone_custom_headers(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """`LIGHTCONE_CUSTOM_HEADERS` parsed as the official SDK parses it.

    One header per line, ``Name: value``, split at the first colon, both sides
    stripped; a line with no colon is skipped. An ``Authorization`` header is
    refused (the key goes as api_key=, and only where it belongs).
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    raw = environ.get("LIGHTCONE_CUSTOM_HEADERS")
    parsed: dict[str, str] = {}
    if raw is None:
        return parsed
    for line in raw.split("\n"):
        colon = line.find(":")
        if colon >= 0:
            parsed[line[:colon].strip()] = line[colon + 1 :].strip()
    if any(name.lower() == "authorization" for name in parsed):
        raise ConfigurationError(
            "LIGHTCONE_CUSTOM_HEADERS sets Authorization; pass the key as TZAFON_API_KEY or "
            "api_key= instead"
        )
    return parsed


def _normalize_url(base_url: str) -> str:
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"base_url {url!r} is not an http(s) URL; pass something like "
            f"{LIGHTCONE_DEFAULT_BASE_URL!r} (the path up to and including /v1)"
        )
    return url


def resolve_provider(
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    provider: str | None = None,
    env: Mapping[str, str] | None = None,
    send_env_key: bool = False,
) -> ProviderSettings:
    """Resolve provider, base URL and key from arguments, then the environment.

    An environment key is used only for a base URL it belongs to (see the
    module docstring) unless `send_env_key`.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    if provider is not None and provider not in _PROVIDERS:
        raise ConfigurationError(
            f"provider {provider!r} is not one of {', '.join(_PROVIDERS)}; "
            "use 'custom' for any other OpenAI-compatible Responses server"
        )
    if provider is None:
        if base_url:
            provider = _provider_for_url(base_url)
        elif environ.get("LIGHTCONE_BASE_URL") or environ.get("TZAFON_API_KEY"):
            provider = "lightcone"
        elif environ.get("OPENAI_BASE_URL") or environ.get("OPENAI_API_KEY"):
            provider = "openai"
        else:
            provider = "lightcone"
    arg_key = (api_key, "argument")
    if provider == "lightcone":
        url, url_source = _first(
            (base_url, "argument"),
            (environ.get("LIGHTCONE_BASE_URL"), "LIGHTCONE_BASE_URL"),
            (LIGHTCONE_DEFAULT_BASE_URL, "default"),
        )
        assert url is not None
        url = _lightcone_url(url, from_env=url_source == "LIGHTCONE_BASE_URL")
        key, source = _first(arg_key, (environ.get("TZAFON_API_KEY"), "TZAFON_API_KEY"))
    elif provider == "openai":
        url, _ = _first(
            (base_url, "argument"),
            (environ.get("OPENAI_BASE_URL"), "OPENAI_BASE_URL"),
            (OPENAI_DEFAULT_BASE_URL, "default"),
        )
        key, source = _first(arg_key, (environ.get("OPENAI_API_KEY"), "OPENAI_API_KEY"))
    else:
        if not base_url:
            raise ConfigurationError(
                "provider 'custom' needs base_url= (for example 'http://127.0.0.1:8000/v1')"
            )
        url = base_url
        env_keys = [(environ.get(v), v) for v in ("TZAFON_API_KEY", "OPENAI_API_KEY")]
        # a key that belongs to this URL first, then (checked below) any other
        env_keys.sort(key=lambda pair: not env_key_belongs(pair[1], url, environ))
        key, source = _first(arg_key, *env_keys)
    assert url is not None
    if (
        source not in (None, "argument")
        and not send_env_key
        and not env_key_belongs(str(source), url, environ)
    ):
        host = urlsplit(url).hostname
        advice = (
            f"{source} is not sent to {host}, which is not its provider's host or the base URL "
            f"set beside it; pass the key with --api-key (api_key=), or --send-env-key "
            f"(send_env_key=True) to send it anyway"
        )
        if provider != "custom":
            raise ConfigurationError(advice)
        logger.warning("%s; sending no key", advice)
        key, source = None, None
    settings = ProviderSettings(
        provider=cast(Provider, provider),
        base_url=_normalize_url(url),
        api_key=key,
        key_source=source,
    )
    if key is None and provider != "custom":
        raise ConfigurationError(f"no API key for provider {provider!r}: {settings.key_hint}")
    return settings
