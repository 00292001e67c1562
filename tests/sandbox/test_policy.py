"""DomainPolicy decisions, as tables."""

from __future__ import annotations

import json

import pytest

from sandbox import DomainPolicy, PolicyError
from sandbox._policy import private_network_guard

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


# -- addresses, not names (issue 13, row 4) ---------------------------------------------

LOOPBACK_BLOCK = DomainPolicy(block=["127.0.0.1"])
SPELLINGS_OF_127_0_0_1 = [
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://app.localhost:8080/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://%31%32%37.0.0.1/",
    "http://\uff11\uff12\uff17.0.0.1/",
    "http://127\u30020\u30020\u30021/",
    "http://0.0.0.0/",
    "http://[::]/",
]


@pytest.mark.parametrize("url", SPELLINGS_OF_127_0_0_1)
def test_a_blocked_address_cannot_be_reached_by_another_spelling(url: str) -> None:
    decision = LOOPBACK_BLOCK.check(url)
    assert not decision.allowed, decision.reason


@pytest.mark.parametrize(
    ("policy", "url", "allowed"),
    [
        (DomainPolicy(block=["localhost"]), "http://127.0.0.1:9/", False),
        (DomainPolicy(block=["localhost"]), "http://[::1]:9/", False),
        (DomainPolicy(block=["[::1]"]), "http://localhost/", False),
        (DomainPolicy(block=["[::ffff:127.0.0.1]"]), "http://127.0.0.1/", False),
        (DomainPolicy(allow=["127.0.0.1:8000"]), "http://localhost:8000/", True),
        (DomainPolicy(allow=["127.0.0.1:8000"]), "http://localhost:8001/", False),
        (DomainPolicy(block=["127.0.0.1"]), "http://127.0.0.2/", True),  # another address
        (DomainPolicy(block=["127.0.0.1"]), "http://127.0.0.1.example.com/", True),
        (DomainPolicy(block=["10.0.0.1"]), "http://10.1/", False),  # 10.1 is 10.0.0.1
        (DomainPolicy(block=["10.0.0.1"]), "http://10.0.0.2/", True),
        (DomainPolicy(block=["10.0.0.1"]), "http://10.0.1/", False),
        (DomainPolicy(block=["10.0.0.1"]), "http://167772161/", False),
    ],
)
def test_rules_compare_addresses(policy: DomainPolicy, url: str, allowed: bool) -> None:
    assert policy.check(url).allowed is allowed, policy.check(url).reason


# -- the private-network guard (issue 13, row 5): in-process checks only ----------------

PUBLIC_START = DomainPolicy(refuse=private_network_guard("https://shop.example.com/"))
LOCAL_START = DomainPolicy(refuse=private_network_guard("http://127.0.0.1:8000/"))
INTRANET_START = DomainPolicy(refuse=private_network_guard("http://192.168.1.20/"))


@pytest.mark.parametrize(
    ("policy", "url", "allowed"),
    [
        (PUBLIC_START, "http://169.254.169.254/latest/meta-data/", False),
        (PUBLIC_START, "http://[fd00:ec2::254]/", False),
        (PUBLIC_START, "http://[::ffff:169.254.169.254]/", False),
        (PUBLIC_START, "http://2852039166/", False),  # 169.254.169.254 as a number
        (PUBLIC_START, "http://[fe80::1]/", False),
        (PUBLIC_START, "http://10.0.0.1/", False),
        (PUBLIC_START, "http://172.16.5.4/", False),
        (PUBLIC_START, "http://192.168.0.1/admin", False),
        (PUBLIC_START, "http://100.64.0.1/", False),
        (PUBLIC_START, "http://127.0.0.1:631/", False),
        (PUBLIC_START, "http://localhost:3000/", False),
        (PUBLIC_START, "http://0.0.0.0:8080/", False),
        (PUBLIC_START, "ws://[::1]:9222/devtools", False),
        (PUBLIC_START, "https://93.184.215.14/", True),
        (PUBLIC_START, "https://example.com/", True),  # names are not resolved
        (LOCAL_START, "http://127.0.0.1:8000/other", True),
        (LOCAL_START, "http://localhost:5000/", True),
        (LOCAL_START, "http://10.0.0.1/", False),
        (LOCAL_START, "http://169.254.169.254/", False),
        (INTRANET_START, "http://192.168.1.21/", True),
        (INTRANET_START, "http://169.254.169.254/", False),
        (DomainPolicy(), "http://169.254.169.254/", True),  # the library default: no guard
        (
            DomainPolicy(allow=["10.0.0.5"], refuse=private_network_guard(None)),
            "http://10.0.0.5/",
            True,  # named in the allow list
        ),
        (
            DomainPolicy(allow=["*"], refuse=private_network_guard(None)),
            "http://10.0.0.5/",
            False,  # a wildcard does not name it
        ),
    ],
)
def test_private_network_guard(policy: DomainPolicy, url: str, allowed: bool) -> None:
    decision = policy.check(url)
    assert decision.allowed is allowed, decision.reason
    if not allowed and "guard" in decision.reason:
        assert "--allow-private-network" in decision.reason


def test_policy_round_trips_through_run_json() -> None:
    policy = DomainPolicy(
        allow=["*.example.com"], block=["[::1]:80"], allow_schemes=["https"], refuse=["private"]
    )
    again = DomainPolicy.from_json(json.loads(json.dumps(policy.to_json())))
    assert again.to_json() == policy.to_json()
    with pytest.raises(PolicyError):
        DomainPolicy.from_json({"allow": "example.com"})
    with pytest.raises(PolicyError):
        DomainPolicy.from_json({"refuse": ["everything"]})
