"""A secret is redacted in every encoding it takes on the way out, not only as literal text.

Issue 13, row 3: a password submitted by a GET form reaches ``current_url``
URL-encoded; the model's requests, steps.jsonl, report.html and cassettes
must not carry it in any form.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus, urlencode

import pytest
from rel_support import API_KEY, Site, scripted_agent

from agent._pytest._cassette import Normalizer
from agent._secrets import Redactor
from agent.testing import ScriptedResponsesServer, computer_call, message, turn
from executors import PlaywrightComputer

SECRET = "p@ss/w&rd+é 9"

ENCODINGS: dict[str, Callable[[str], str]] = {
    "literal": lambda s: s,
    "url": lambda s: quote(s, safe=""),
    "url_keep_slash": quote,
    "url_lower_hex": lambda s: quote(s, safe="").lower(),
    "form": quote_plus,
    "form_query": lambda s: urlencode({"user": "ann", "pw": s}),
    "json_ascii": lambda s: json.dumps({"k": s}),
    "json_utf8": lambda s: json.dumps({"k": s}, ensure_ascii=False),
    "html": lambda s: "<input value='" + s.replace("&", "&amp;") + "'>",
    "base64": lambda s: base64.b64encode(s.encode()).decode(),
    "base64_basic_auth": lambda s: base64.b64encode(b"ann:" + s.encode()).decode(),
    "base64_offset_2": lambda s: base64.b64encode(b"ab" + s.encode() + b"!").decode(),
    "base64_urlsafe": lambda s: base64.urlsafe_b64encode(b"x" + s.encode()).decode(),
    "latin1_url": lambda s: quote(s.encode("latin-1"), safe=""),
    "latin1_form": lambda s: quote_plus(s.encode("latin-1")),
    "latin1_base64": lambda s: base64.b64encode(s.encode("latin-1")).decode(),
    "utf8_read_as_latin1": lambda s: s.encode().decode("latin-1"),
}


def leaks(text: str, secret: str = SECRET) -> list[str]:
    """The encodings of `secret` found in `text`."""
    lower = text.lower()
    found = []
    for name, encode in ENCODINGS.items():
        if name in ("form_query", "html", "json_ascii", "json_utf8") or "base64" in name:
            continue  # covered by their inner forms below
        form = encode(secret)
        if form in text or (name.startswith(("url", "latin1")) and form.lower() in lower):
            found.append(name)
    if json.dumps(secret)[1:-1] in text:
        found.append("json")
    for charset in ("utf-8", "latin-1"):
        for offset in range(3):
            encoded = base64.b64encode(b"\0" * offset + secret.encode(charset)).decode()
            middle = encoded[4:-4]  # depends on the secret's bytes alone, at this alignment
            if middle in text or middle.replace("+", "-").replace("/", "_") in text:
                found.append(f"base64 {charset} +{offset}")
    return found


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_redactor_removes_every_encoding(encoding: str) -> None:
    text = "before " + ENCODINGS[encoding](SECRET) + " after"
    redacted = Redactor({"PW": SECRET}, API_KEY).text(text)
    assert leaks(redacted) == [], redacted
    assert "before " in redacted and " after" in redacted
    assert "{{secret:PW}}" in redacted


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_cassettes_store_no_encoding_of_a_secret_or_the_key(encoding: str) -> None:
    norm = Normalizer(secrets={"PW": SECRET}, api_key=API_KEY)
    body = {
        "input": [{"current_url": "http://x/?q=" + ENCODINGS[encoding](SECRET)}],
        "h": "Bearer " + base64.b64encode(API_KEY.encode()).decode(),
    }
    stored = json.dumps(norm.request("POST", "/v1/responses", body), ensure_ascii=False)
    assert leaks(stored) == [], stored
    assert base64.b64encode(API_KEY.encode()).decode()[4:-4] not in stored


PAGE = (
    "<!doctype html><body style='margin:0'><form method=get action='/done'>"
    "<input id=pw name=pw type=password "
    "style='position:absolute;left:0;top:0;width:300px;height:40px'></form></body>"
)


@pytest.mark.browser
async def test_a_submitted_password_leaks_in_no_encoding(tmp_path: Path) -> None:
    secret = "p@ss/w&rd+Zq9"
    script = [
        turn(computer_call("click", x=150, y=20)),
        turn(computer_call("type", text="{{secret:PW}}")),
        turn(computer_call("keypress", keys=["Enter"])),
        turn(computer_call("wait", ms=200)),
        turn(message("logged in")),
    ]
    run_dir = tmp_path / "run"
    with Site() as site:
        site.pages["/login"] = ("text/html", PAGE)
        async with PlaywrightComputer(size=(640, 400), start_url=site.url("/login")) as pc:
            with ScriptedResponsesServer(script) as server:
                agent = scripted_agent(pc, server, run_dir, secrets={"PW": secret})
                result = await agent.run("log in")
                sent = [json.dumps(r.body, ensure_ascii=False) for r in server.requests]
    assert result.status == "completed", result.error
    # the password really went out URL-encoded (form GET): proof the test can leak
    assert any(quote_plus(secret) in hit for hit in site.hits), site.hits
    assert any("/done?pw={{secret:PW}}" in s for s in sent), "current_url not sent redacted"
    written = {
        p.name: p.read_bytes().decode("utf-8", "replace")
        for p in run_dir.rglob("*")
        if p.is_file() and p.suffix in (".json", ".jsonl", ".html")
    }
    for where, text in {"requests to the model": "\n".join(sent), **written}.items():
        assert leaks(text, secret) == [], f"the secret leaked into {where}"
