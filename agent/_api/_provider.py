"""Where requests go and which key they carry: provider, base URL and API key resolution.

Explicit arguments win over the environment. The environment is passed in (a
mapping, `os.environ` by default) so resolution is a plain, testable function.

- `lightcone`: key from the argument or `TZAFON_API_KEY`; base URL from the
  argument, `LIGHTCONE_BASE_URL`, or https://api.tzafon.ai/v1.
- `openai`: key from the argument or `OPENAI_API_KEY`; base URL from the
  argument, `OPENAI_BASE_URL`, or https://api.openai.com/v1.
- `custom`: key from the argument, `TZAFON_API_KEY` or `OPENAI_API_KEY` (none is
  fine: local servers often need no key); the base URL argument is required.

With no provider given: a base URL on api.tzafon.ai means `lightcone`, one on
api.openai.com means `openai`, any other base URL means `custom`; with neither a
provider nor a base URL, `lightcone` unless only OpenAI variables are set.
"""

from __future__ import annotations

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
    "resolve_provider",
]

Provider = Literal["lightcone", "openai", "custom"]

LIGHTCONE_DEFAULT_BASE_URL = "https://api.tzafon.ai/v1"
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"

_PROVIDERS = ("lightcone", "openai", "custom")


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
        return "pass api_key= (or set TZAFON_API_KEY / OPENAI_API_KEY)"


def _first(*pairs: tuple[str | None, str]) -> tuple[str | None, str | None]:
    for value, source in pairs:
        if value:
            return value, source
    return None, None


def _provider_for_url(base_url: str) -> Provider:
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "api.tzafon.ai":
        return "lightcone"
    if host == "api.openai.com":
        return "openai"
    return "custom"


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
) -> ProviderSettings:
    """Resolve provider, base URL and key from arguments, then the environment."""
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
        url, _ = _first(
            (base_url, "argument"),
            (environ.get("LIGHTCONE_BASE_URL"), "LIGHTCONE_BASE_URL"),
            (LIGHTCONE_DEFAULT_BASE_URL, "default"),
        )
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
        key, source = _first(
            arg_key,
            (environ.get("TZAFON_API_KEY"), "TZAFON_API_KEY"),
            (environ.get("OPENAI_API_KEY"), "OPENAI_API_KEY"),
        )
    assert url is not None
    settings = ProviderSettings(
        provider=cast(Provider, provider),
        base_url=_normalize_url(url),
        api_key=key,
        key_source=source,
    )
    if key is None and provider != "custom":
        raise ConfigurationError(f"no API key for provider {provider!r}: {settings.key_hint}")
    return settings
