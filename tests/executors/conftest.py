"""Loopback HTTP servers for the browser tests.

`web` serves tests/pages/ on 127.0.0.1 plus pages a test registers, redirects
(``/redirect?to=URL``) and slow responses (``/slow?ms=N``; a page in a colour
with ``&colour=RRGGBB``), a registered page whose part after ``<!--rest-->``
comes ``ms`` later (``/trickle?path=P&ms=N``), attachments
(``/download?name=N&size=BYTES``). `forbidden` runs on 127.0.0.2 and only
counts hits: a domain-policy test passes when it saw none.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_server import LoopbackServer


@pytest.fixture(scope="session")
def web() -> Iterator[LoopbackServer]:
    server = LoopbackServer("127.0.0.1").start()
    yield server
    server.stop()


@pytest.fixture
def forbidden() -> Iterator[LoopbackServer]:
    server = LoopbackServer("127.0.0.2").start()
    yield server
    server.stop()
