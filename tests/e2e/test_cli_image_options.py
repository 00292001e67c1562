"""``screenloop run --image-format/--lossless/--compression``: the model gets (and the run
records) screenshots in the chosen encoding, with every pixel of the page; a mix no
encoder takes is a usage error before any model call."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import PageServer, page_server, screenloop
from PIL import Image

from agent._cli._exit_codes import ExitCode
from agent.testing import ScriptedResponsesServer, computer_call, message, turn

KEY = "sk-cli-test-key-0123456789"
SCRIPT = [turn(computer_call("click", x=200, y=150)), turn(message("Pressed Go."))]


@pytest.fixture
def page() -> Iterator[PageServer]:
    with page_server() as server:
        yield server


def args(server: ScriptedResponsesServer, run_dir: Path, *extra: str) -> list[str]:
    return [
        "run", "press Go", "--base-url", server.base_url, "--api-key", KEY,
        "--model", "m", "--provider", "openai", "--record", str(run_dir), *extra,
    ]  # fmt: skip


def sent_images(server: ScriptedResponsesServer) -> list[str]:
    """Every image data URL the model was sent."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            url = node.get("image_url")
            if isinstance(url, str) and url.startswith("data:"):
                found.append(url)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for request in server.requests:
        walk(request.body)
    return found


@pytest.mark.browser
def test_lossless_webp_is_sent_and_recorded(page: PageServer, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with ScriptedResponsesServer(SCRIPT) as server:
        res = screenloop(
            *args(server, run_dir, "--url", page.url, "--image-format", "webp", "--lossless")
        )
        urls = sent_images(server)
    assert res.code == ExitCode.COMPLETED, res.stderr
    assert {"e": "click", "v": ""} in page.events
    assert urls and all(u.startswith("data:image/webp;base64,") for u in urls)
    recorded = sorted((run_dir / "screenshots").iterdir())
    assert [p.suffix for p in recorded] == [".webp", ".webp"]
    sent = base64.b64decode(urls[-1].split(",", 1)[1])
    with Image.open(io.BytesIO(sent)) as image:
        assert image.format == "WEBP"
        # the click turned the page green (#cfc): lossless keeps the exact colour
        assert image.convert("RGB").getpixel((20, 20)) == (0xCC, 0xFF, 0xCC)


@pytest.mark.parametrize(
    "flags",
    [["--image-format", "gif"], ["--image-format", "jpeg", "--lossless"], ["--compression", "x"]],
)
def test_bad_image_flags_are_a_usage_error(tmp_path: Path, flags: list[str]) -> None:
    with ScriptedResponsesServer(SCRIPT) as server:
        res = screenloop(*args(server, tmp_path / "run", "--url", "about:blank", *flags))
        assert not server.requests  # refused before any model call
    assert res.code == ExitCode.USAGE, res.stdout + res.stderr
    assert "screenshot options" in res.stderr + res.stdout
