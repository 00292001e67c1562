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

Hosts are compared as the addresses the browser would connect to, so a rule
cannot be bypassed by spelling: an IP address in any form a browser accepts
(``[::ffff:127.0.0.1]``, ``2130706433``, ``0x7f.1``, ``0177.0.0.1``,
percent-encoded or full-width digits) is its canonical address, and
``localhost`` and ``*.localhost`` are 127.0.0.1 and ::1 (Chromium resolves
them itself). Other names are compared as names: the policy does not resolve
DNS.

5. The private-network guard (`refuse`, off by default; the CLI turns it on,
   see `private_network_guard`) refuses addresses by class: ``link-local``
   (169.254.0.0/16 with the cloud metadata services, fe80::/10),
   ``private`` (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) and
   ``loopback`` (127/8, ::1, 0.0.0.0, ::, localhost). An allow pattern that
   names the host (not ``*``) lets it through anyway.

Host patterns: ``example.com`` (that host exactly), ``*.example.com`` (any
subdomain of example.com, not example.com itself), ``*`` (any host), each
optionally with a port (``example.com:8080``, ``127.0.0.1:3000``, ``[::1]:80``)
and optionally with a scheme prefix (``https://example.com``). A pattern
without a port matches every port.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from sandbox._errors import PolicyError

__all__ = [
    "ADDRESS_CLASSES",
    "DEFAULT_ALLOWED_SCHEMES",
    "DomainPolicy",
    "HostPattern",
    "PolicyDecision",
    "address_class",
    "canonical_addresses",
    "private_network_guard",
]

ADDRESS_CLASSES = ("link-local", "private", "loopback")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_LOOPBACK = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
_PRIVATE_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})

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
    # as a browser reads a host: percent-decoded, NFKC (full-width digits), any dot
    host = unicodedata.normalize("NFKC", unquote(host).translate(_DOTS))
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def _ipv4_number(part: str) -> int | None:
    # WHATWG URL "IPv4 number": 0x hex, leading-zero octal, else decimal
    base = 10
    if part[:2] in ("0x", "0X"):
        part, base = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        part, base = part[1:], 8
    if part == "":
        return 0
    try:
        return int(part, base)
    except ValueError:
        return None


def _whatwg_ipv4(host: str) -> ipaddress.IPv4Address | None:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if not parts or len(parts) > 4 or any(p == "" for p in parts):
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    address = values[-1]
    for i, n in enumerate(values[:-1]):
        address += n * 256 ** (3 - i)
    return ipaddress.IPv4Address(address)


def canonical_addresses(host: str) -> frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses a browser connects to for `host` without DNS: an IP literal in any
    spelling (IPv4-mapped IPv6 as its IPv4 address), or 127.0.0.1 and ::1 for the
    loopback names; empty for any other name."""
    host = _normalize_host(host)
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return frozenset(_LOOPBACK)
    if not host.strip("0123456789abcdefx.:"):
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            v4 = _whatwg_ipv4(host)
            if v4 is None:
                return frozenset()
            address = v4
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_unspecified:  # 0.0.0.0 and :: connect to this machine
            return frozenset({address, *_LOOPBACK})
        return frozenset({address})
    return frozenset()


def address_class(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """``link-local``, ``private`` or ``loopback`` (see `ADDRESS_CLASSES`); None if public."""
    if address.is_link_local:
        return "link-local"
    if address.is_loopback or address.is_unspecified:
        return "loopback"  # 0.0.0.0 and :: reach this machine
    if any(address in net for net in _PRIVATE_NETS if net.version == address.version):
        return "private"
    return None


def private_network_guard(start_url: str | None) -> frozenset[str]:
    """The address classes to refuse for a run starting at `start_url`.

    A public (or no) start URL: link-local, private and loopback. A loopback
    start URL keeps loopback; a private one keeps private and loopback.
    Link-local (cloud metadata) is always refused.
    """
    try:
        host = urlsplit(start_url or "").hostname or ""
    except ValueError:
        host = ""
    classes = {address_class(a) for a in canonical_addresses(host)}
    if "private" in classes:
        return frozenset({"link-local"})
    if "loopback" in classes:
        return frozenset({"link-local", "private"})
    return frozenset(ADDRESS_CLASSES)


@dataclass(frozen=True)
class HostPattern:
    """One parsed host rule (see the module docstring for the syntax)."""

    text: str
    host: str
    wildcard: bool
    port: int | None
    scheme: str | None

    @property
    def addresses(self) -> frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        """The addresses this exact host names (empty for names and wildcards)."""
        return frozenset() if self.wildcard else canonical_addresses(self.host)

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
        """True when (scheme, host, port) falls under this pattern (hosts compared as
        addresses where they are addresses, see the module docstring)."""
        if self.scheme is not None and self.scheme != scheme:
            return False
        if self.port is not None and self.port != port:
            return False
        if self.wildcard and not self.host:
            return True
        if self.wildcard:
            return host.endswith("." + self.host)
        return host == self.host or bool(self.addresses & canonical_addresses(host))


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
        refuse: Iterable[str] = (),
    ) -> None:
        self.allow: tuple[HostPattern, ...] = tuple(HostPattern.parse(p) for p in allow)
        self.block: tuple[HostPattern, ...] = tuple(HostPattern.parse(p) for p in block)
        self.allow_schemes: frozenset[str] = frozenset(s.lower().rstrip(":") for s in allow_schemes)
        self.refuse: frozenset[str] = frozenset(refuse)
        unknown = self.refuse - set(ADDRESS_CLASSES)
        if unknown:
            raise PolicyError(f"unknown address classes {sorted(unknown)}; use {ADDRESS_CLASSES}")

    def __repr__(self) -> str:
        return (
            f"DomainPolicy(allow={[p.text for p in self.allow]!r}, "
            f"block={[p.text for p in self.block]!r}, "
            f"allow_schemes={sorted(self.allow_schemes)!r}, refuse={sorted(self.refuse)!r})"
        )

    @property
    def is_open(self) -> bool:
        """True when the policy allows every http(s) URL (no rules at all)."""
        return not self.allow and not self.block and not self.refuse

    def to_json(self) -> dict[str, Any]:
        """The policy as JSON (run.json records it; `from_json` reads it back)."""
        return {
            "allow": [p.text for p in self.allow],
            "block": [p.text for p in self.block],
            "allow_schemes": sorted(self.allow_schemes),
            "refuse": sorted(self.refuse),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DomainPolicy:
        """The policy `to_json` wrote; `PolicyError` when `data` is malformed."""
        lists: dict[str, list[str]] = {}
        for key in ("allow", "block", "allow_schemes", "refuse"):
            value = data.get(key, [] if key != "allow_schemes" else sorted(DEFAULT_ALLOWED_SCHEMES))
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise PolicyError(f"recorded domain policy: {key!r} is not a list of strings")
            lists[key] = value
        return cls(**lists)

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
        named = next((p for p in self.allow if p.matches(scheme, host, port)), None)
        if self.refuse and (named is None or named.wildcard):
            for address in canonical_addresses(host):
                kind = address_class(address)
                if kind in self.refuse:
                    return PolicyDecision(
                        False,
                        f"address {address} is {kind} and the private-network guard refuses it "
                        "(allow it by name with --allow-domain, or --allow-private-network)",
                    )
        if not self.allow:
            return PolicyDecision(True, "no allow list; host is not blocked")
        if named is not None:
            return PolicyDecision(True, f"host {host!r} is allowed by {named.text!r}")
        kind = "address" if _is_ip(host) else "host"
        return PolicyDecision(False, f"{kind} {host!r} (port {port}) is not in the allow list")
