"""Domain policy: which URLs a sandboxed browser may reach.

A `DomainPolicy` is plain data plus one pure function, `check(url)`. The
browser executor enforces it at the network layer for every request of every
page; this module only decides.

Rules, in order:

1. ``about:blank`` / ``about:srcdoc`` are always allowed.
2. The scheme must be in ``allow_schemes`` (default ``http``, ``https``, ``ws``,
   ``wss``). ``file:``, ``chrome:``, ``javascript:``, ``data:`` and anything else
   are blocked unless listed there explicitly.
3. For schemes with a host, a matching ``block`` pattern blocks (block wins).
4. If ``allow`` is empty, everything else is allowed; otherwise the host must
   match an ``allow`` pattern.

Host patterns: ``example.com`` (that host exactly), ``*.example.com`` (any
subdomain of example.com, not example.com itself), ``*`` (any host), each
optionally with a port (``example.com:8080``, ``127.0.0.1:3000``, ``[::1]:80``)
and optionally with a scheme prefix (``https://example.com``). A pattern
without a port matches every port.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sandbox._errors import PolicyError

__all__ = ["DEFAULT_ALLOWED_SCHEMES", "DomainPolicy", "HostPattern", "PolicyDecision"]

DEFAULT_ALLOWED_SCHEMES: frozenset[str] = frozenset({"http", "https", "ws", "wss"})
_HOST_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_ALWAYS_ALLOWED = frozenset({"about:blank", "about:srcdoc"})


@dataclass(frozen=True)
class PolicyDecision:
    """The verdict on one URL; `reason` says which rule decided."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def _normalize_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


@dataclass(frozen=True)
class HostPattern:
    """One parsed host rule (see the module docstring for the syntax)."""

    text: str
    host: str
    wildcard: bool
    port: int | None
    scheme: str | None

    @classmethod
    def parse(cls, text: str) -> HostPattern:
        """Parse a pattern; raise `PolicyError` when it is malformed."""
        raw = text.strip()
        if not raw:
            raise PolicyError("empty domain pattern")
        scheme: str | None = None
        rest = raw
        if "://" in rest:
            scheme, rest = rest.split("://", 1)
            scheme = scheme.lower()
            if not scheme.isalnum():
                raise PolicyError(f"bad scheme in domain pattern {text!r}")
        rest = rest.rstrip("/")
        if any(c in rest for c in "/?# \t"):
            raise PolicyError(f"domain pattern {text!r} must be a host[:port], not a URL path")
        port: int | None = None
        if rest.startswith("["):
            end = rest.find("]")
            if end < 0:
                raise PolicyError(f"unclosed IPv6 bracket in domain pattern {text!r}")
            host, tail = rest[1:end], rest[end + 1 :]
            if tail:
                if not tail.startswith(":"):
                    raise PolicyError(f"bad domain pattern {text!r}")
                port = cls._parse_port(tail[1:], text)
        elif rest.count(":") == 1:
            host, port_text = rest.split(":")
            port = cls._parse_port(port_text, text)
        elif rest.count(":") > 1:
            host = rest  # a bare IPv6 address
        else:
            host = rest
        if host.strip() == "*.":
            raise PolicyError(f"bad wildcard in domain pattern {text!r}: use '*.example.com'")
        host = _normalize_host(host)
        wildcard = False
        if host == "*":
            return cls(raw, "", True, port, scheme)
        if host.startswith("*."):
            wildcard, host = True, host[2:]
        if not host or "*" in host:
            raise PolicyError(
                f"bad wildcard in domain pattern {text!r}: use '*.example.com' or '*'"
            )
        return cls(raw, host, wildcard, port, scheme)

    @staticmethod
    def _parse_port(port_text: str, text: str) -> int:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise PolicyError(f"bad port in domain pattern {text!r}")
        return int(port_text)

    def matches(self, scheme: str, host: str, port: int | None) -> bool:
        """True when (scheme, host, port) falls under this pattern."""
        if self.scheme is not None and self.scheme != scheme:
            return False
        if self.port is not None and self.port != port:
            return False
        if self.wildcard and not self.host:
            return True
        if self.wildcard:
            return host.endswith("." + self.host)
        return host == self.host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class DomainPolicy:
    """Allow/block lists of host patterns plus allowed URL schemes."""

    def __init__(
        self,
        allow: Iterable[str] = (),
        block: Iterable[str] = (),
        allow_schemes: Iterable[str] = DEFAULT_ALLOWED_SCHEMES,
    ) -> None:
        self.allow: tuple[HostPattern, ...] = tuple(HostPattern.parse(p) for p in allow)
        self.block: tuple[HostPattern, ...] = tuple(HostPattern.parse(p) for p in block)
        self.allow_schemes: frozenset[str] = frozenset(s.lower().rstrip(":") for s in allow_schemes)

    def __repr__(self) -> str:
        return (
            f"DomainPolicy(allow={[p.text for p in self.allow]!r}, "
            f"block={[p.text for p in self.block]!r}, "
            f"allow_schemes={sorted(self.allow_schemes)!r})"
        )

    @property
    def is_open(self) -> bool:
        """True when the policy allows every http(s) URL (no rules at all)."""
        return not self.allow and not self.block

    def check(self, url: str) -> PolicyDecision:
        """Decide whether the browser may load `url`."""
        text = url.strip()
        if text.lower() in _ALWAYS_ALLOWED:
            return PolicyDecision(True, f"{text} is always allowed")
        try:
            parts = urlsplit(text)
        except ValueError as exc:
            return PolicyDecision(False, f"unparseable URL ({exc})")
        scheme = parts.scheme.lower()
        if not scheme:
            return PolicyDecision(False, "URL has no scheme")
        if scheme not in self.allow_schemes:
            return PolicyDecision(False, f"scheme {scheme!r} is not allowed")
        if scheme == "blob":
            # blob:https://host/uuid belongs to the origin inside it.
            return self.check(text[len("blob:") :])
        if scheme not in _HOST_SCHEMES:
            return PolicyDecision(True, f"scheme {scheme!r} is explicitly allowed")
        try:
            host = _normalize_host(parts.hostname or "")
            port = parts.port or _DEFAULT_PORTS.get(scheme)
        except ValueError as exc:
            return PolicyDecision(False, f"bad host or port in URL ({exc})")
        if not host:
            return PolicyDecision(False, "URL has no host")
        for pattern in self.block:
            if pattern.matches(scheme, host, port):
                return PolicyDecision(False, f"host {host!r} is blocked by {pattern.text!r}")
        if not self.allow:
            return PolicyDecision(True, "no allow list; host is not blocked")
        for pattern in self.allow:
            if pattern.matches(scheme, host, port):
                return PolicyDecision(True, f"host {host!r} is allowed by {pattern.text!r}")
        kind = "address" if _is_ip(host) else "host"
        return PolicyDecision(False, f"{kind} {host!r} (port {port}) is not in the allow list")
