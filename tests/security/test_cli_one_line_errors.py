"""Bad input to the CLI ends in one line and exit status 2, before anything starts
(issue 13, rows 11 and 12: serve-script, --max-time, --launch, a refused start URL)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from cli_support import screenloop

API = ("--base-url", "http://127.0.0.1:9/v1", "--api-key", "k-123")


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run", "t", "--url", "http://evil.test/", "--block-domain", "evil.test", *API],
         "refused by the policy"),
        (["run", "t", "--url", "http://[::ffff:127.0.0.1]:9/", "--block-domain", "localhost",
          *API], "refused by the policy"),
        (["run", "t", "--max-time", "-1", *API], "--max-time"),
        (["run", "t", "--max-time", "0", *API], "--max-time"),
        (["run", "t", "--desktop", "--launch", "xterm -e 'oops", *API], "cannot be split"),
        (["run", "t", "--max-actions", "0", *API], "--max-actions"),
        (["serve-script", "{missing}"], "cannot read script"),
        (["serve-script", "{bad}"], "not valid JSON"),
        (["serve-script", "{ok}", "--port", "{busy}"], "Address already in use"),
        (["replay", "{missing}"], "not a directory"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, busy_port: int, args: list[str], says: str
) -> None:
    (tmp_path / "bad.json").write_text('[{"turn"')
    (tmp_path / "ok.json").write_text("[]")
    values = {
        "missing": str(tmp_path / "missing"),
        "bad": str(tmp_path / "bad.json"),
        "ok": str(tmp_path / "ok.json"),
        "busy": str(busy_port),
    }
    out = screenloop(*(a.format(**values) for a in args), timeout=60, cwd=tmp_path)
    assert out.code == 2, (out.code, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), out.stderr
    assert says in lines[0], lines[0]
    assert not (tmp_path / "runs").exists()  # refused before a run directory was made
