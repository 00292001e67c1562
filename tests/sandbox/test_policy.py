"""DomainPolicy decisions, as tables."""

from __future__ import annotations

import pytest

from sandbox import DomainPolicy, PolicyError

OPEN = DomainPolicy()
ALLOW = DomainPolicy(allow=["example.com", "*.example.org", "127.0.0.1:8000", "[::1]"])
BLOCK = DomainPolicy(block=["evil.com", "*.tracker.net", "127.0.0.2"])
BOTH = DomainPolicy(allow=["*.example.com", "example.com"], block=["bad.example.com"])
SCHEMES = DomainPolicy(allow_schemes=["http", "https", "file", "data"])
SCHEMED = DomainPolicy(allow=["https://secure.example.com"])


@pytest.mark.parametrize(
    ("policy", "url", "allowed"),
    [
        # open policy: every http(s)/ws(s) host, no other scheme
        (OPEN, "https://anything.test/path?q=1", True),
        (OPEN, "http://127.0.0.1:9/", True),
        (OPEN, "ws://example.com/socket", True),
        (OPEN, "about:blank", True),
        (OPEN, "ABOUT:BLANK", True),
        (OPEN, "about:srcdoc", True),
        (OPEN, "about:config", False),
        (OPEN, "file:///etc/passwd", False),
        (OPEN, "chrome://settings", False),
        (OPEN, "chrome-extension://abc/x.html", False),
        (OPEN, "javascript:alert(1)", False),
        (OPEN, "data:text/html,<h1>x</h1>", False),
        (OPEN, "view-source:https://example.com", False),
        (OPEN, "no-scheme.example.com", False),
        (OPEN, "blob:https://example.com/uuid", False),
        # allow list: exact host, wildcard subdomains, port, IPv6
        (ALLOW, "https://example.com/", True),
        (ALLOW, "https://EXAMPLE.com./", True),
        (ALLOW, "http://example.com:8080/", True),
        (ALLOW, "https://www.example.com/", False),
        (ALLOW, "https://a.b.example.org/", True),
        (ALLOW, "https://example.org/", False),
        (ALLOW, "https://notexample.org/", False),
        (ALLOW, "http://127.0.0.1:8000/x", True),
        (ALLOW, "http://127.0.0.1:8001/x", False),
        (ALLOW, "http://127.0.0.1/x", False),
        (ALLOW, "http://[::1]:3000/", True),
        (ALLOW, "https://example.com.evil.net/", False),
        (ALLOW, "https://evil.net/?next=example.com", False),
        (ALLOW, "https://example.com@evil.net/", False),
        (ALLOW, "file:///tmp/x", False),
        (ALLOW, "about:blank", True),
        # block list: everything else allowed
        (BLOCK, "https://evil.com/", False),
        (BLOCK, "https://www.evil.com/", True),
        (BLOCK, "https://x.tracker.net/pixel", False),
        (BLOCK, "https://tracker.net/", True),
        (BLOCK, "http://127.0.0.2:5000/", False),
        (BLOCK, "http://127.0.0.1:5000/", True),
        (BLOCK, "wss://evil.com/ws", False),
        # block wins over allow
        (BOTH, "https://good.example.com/", True),
        (BOTH, "https://example.com/", True),
        (BOTH, "https://bad.example.com/", False),
        (BOTH, "https://x.bad.example.com/", True),
        # schemes opened explicitly
        (SCHEMES, "file:///tmp/report.html", True),
        (SCHEMES, "data:text/html,hi", True),
        (SCHEMES, "chrome://version", False),
        (SCHEMES, "ws://example.com/", False),
        # scheme-qualified host pattern
        (SCHEMED, "https://secure.example.com/", True),
        (SCHEMED, "http://secure.example.com/", False),
    ],
)
def test_check(policy: DomainPolicy, url: str, allowed: bool) -> None:
    decision = policy.check(url)
    assert decision.allowed is allowed, decision.reason
    assert decision.reason
    assert bool(decision) is allowed


def test_blob_urls_follow_their_origin() -> None:
    policy = DomainPolicy(allow=["example.com"], allow_schemes=["https", "blob"])
    assert policy.check("blob:https://example.com/1234").allowed
    assert not policy.check("blob:https://evil.com/1234").allowed


def test_reasons_name_the_rule() -> None:
    assert "evil.com" in BLOCK.check("https://evil.com/").reason
    assert "allow list" in ALLOW.check("https://other.test/").reason
    assert "'file'" in OPEN.check("file:///x").reason


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "   ",
        "example.com/path",
        "exa*mple.com",
        "*example.com",
        "example.com:0",
        "example.com:99999",
        "example.com:http",
        "[::1",
        "*.",
        "https://a b",
    ],
)
def test_malformed_patterns_raise(pattern: str) -> None:
    with pytest.raises(PolicyError):
        DomainPolicy(allow=[pattern])


def test_star_matches_every_host_and_port() -> None:
    policy = DomainPolicy(allow=["*"], block=["evil.com"])
    assert policy.check("http://anything:1234/").allowed
    assert not policy.check("http://evil.com/").allowed
    assert not policy.check("file:///x").allowed
