"""Real-page hazards through the whole loop: real Chromium, the scripted server as the model.

What the screenshot cannot show reaches the model as a user message of
``input_text`` after the call outputs (both dialects, accepted by the scripted
server's protocol checks), lands in steps.jsonl and in the report.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from browser_server import LoopbackServer
from PIL import Image
from test_page_hazards import DIALOG_PAGE, SLOW_PAGE

from agent import Agent, RunResult
from agent.testing import ScriptedResponsesServer, computer_call, function_call, message, turn
from executors import PlaywrightComputer
from executors._browser._dialog_paint import dialog_layout
from executors._computer import Size

pytestmark = pytest.mark.browser

BUTTON = "position:absolute;left:0;top:0;width:300px;height:100px;display:block"


def notice_texts(body: dict[str, Any]) -> list[str]:
    """The text of every user message in a request's input (the notices)."""
    return [
        part["text"]
        for item in body.get("input", [])
        if item.get("type") == "message" and item.get("role") == "user"
        for part in item["content"]
        if part.get("type") == "input_text"
    ]


async def drive(
    computer: PlaywrightComputer,
    script: list[dict[str, Any]],
    run_dir: Path,
    provider: str = "lightcone",
    **agent: Any,
) -> tuple[RunResult, ScriptedResponsesServer]:
    """Run `script` (the scripted server as the model, pixel coordinates) on `computer`."""
    with ScriptedResponsesServer(script, dialect=provider) as server:  # type: ignore[arg-type]
        result = await Agent(
            computer,
            base_url=server.base_url,
            api_key="sk-test",
            provider=provider,
            coordinate_space="pixels",
            run_dir=run_dir,
            **agent,
        ).run("the task")
    assert all(r.status == 200 for r in server.requests)  # every request passed the checks
    return result, server


@pytest.fixture
def pages(web: LoopbackServer) -> LoopbackServer:
    web.pages["/loop-opener.html"] = (
        "<body style='margin:0'><button style='" + BUTTON + "' onclick=\"window.open("
        "'/loop-closer.html', 'p', 'width=400,height=300')\">popup</button></body>"
    )
    web.pages["/loop-closer.html"] = (
        "<body style='margin:0'><button style='" + BUTTON + "' onclick='window.close()'>"
        "close</button></body>"
    )
    return web


@pytest.mark.parametrize("provider", ["lightcone", "openai"])
async def test_popup_and_tabs_are_told_to_the_model(
    pages: LoopbackServer, tmp_path: Path, provider: str
) -> None:
    script = [
        turn(computer_call("click", x=150, y=50)),  # opens the popup
        turn(computer_call("click", x=150, y=50)),  # the popup closes itself
        turn(computer_call("keypress", keys=["ctrl", "t"])),
        turn(computer_call("keypress", keys=["ctrl", "w"])),
        turn(message("done")),
    ]
    async with PlaywrightComputer(start_url=pages.url("/loop-opener.html")) as computer:
        result, server = await drive(computer, script, tmp_path / "run", provider)
        assert await computer.current_url() == pages.url("/loop-opener.html")
    assert result.status == "completed", result.error
    bodies = [r.body for r in server.requests]
    first = bodies[0]["input"][0]
    assert [p["type"] for p in first["content"]] == ["input_text", "input_image"]
    # request 2 answers the popup click: the output first, then the notice
    types = [i.get("type") for i in bodies[1]["input"]]
    assert types == ["computer_call_output", "message"]
    (told,) = notice_texts(bodies[1])
    assert "A new tab opened; actions now go to it." in told
    assert f"You are on tab 2 of 2: {pages.url('/loop-closer.html')}." in told
    (told,) = notice_texts(bodies[2])
    assert "closed; actions go to the previous tab again" in told
    assert f"You are on tab 1 of 1: {pages.url('/loop-opener.html')}." in told
    assert "You are on tab 2 of 2: about:blank." in notice_texts(bodies[3])[0]
    assert f"You are on tab 1 of 1: {pages.url('/loop-opener.html')}." in notice_texts(bodies[4])[0]

    run_dir = tmp_path / "run"
    steps = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]
    assert "A new tab opened; actions now go to it." in steps[0]["notices"]
    assert steps[-1]["notices"] == []
    report = (run_dir / "report.html").read_text()
    assert "Told the model" in report and "A new tab opened; actions now go to it." in report


async def test_notices_off_sends_no_message_but_records_the_events(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    script = [turn(computer_call("click", x=150, y=50)), turn(message("done"))]
    async with PlaywrightComputer(start_url=pages.url("/loop-opener.html")) as computer:
        result, server = await drive(computer, script, tmp_path / "run", notices=False)
    assert result.status == "completed", result.error
    assert [i["type"] for i in server.requests[1].body["input"]] == ["computer_call_output"]
    (step, _) = [json.loads(x) for x in (tmp_path / "run/steps.jsonl").read_text().splitlines()]
    assert step["notices"] == []
    assert "tab_switched" in [e.get("kind") for e in step["events"]]


def image_of(body: dict[str, Any]) -> Image.Image:
    """The screenshot a request carries in its computer_call_output."""
    (output,) = [i for i in body["input"] if i.get("type") == "computer_call_output"]
    data = base64.b64decode(output["output"]["image_url"].split(",", 1)[1])
    return Image.open(io.BytesIO(data)).convert("RGB")


async def test_a_confirm_is_seen_and_answered_through_the_loop(
    web: LoopbackServer, tmp_path: Path
) -> None:
    web.pages["/dialogs.html"] = DIALOG_PAGE
    layout = dialog_layout("confirm", "Sure?", f"127.0.0.1:{web.port}", Size(1280, 720))
    prompt = dialog_layout("prompt", "Your name?", f"127.0.0.1:{web.port}", Size(1280, 720))
    ok = layout.ok
    script = [
        turn(computer_call("click", x=150, y=50)),  # confirm('Sure?')
        turn(computer_call("click", x=ok.x + 5, y=ok.y + 5)),  # OK
        turn(computer_call("click", x=150, y=170)),  # prompt('Your name?')
        turn(computer_call("type", text="Grace")),
        turn(computer_call("keypress", keys=["ENTER"])),
        turn(message("done")),
    ]
    async with PlaywrightComputer(start_url=web.url("/dialogs.html")) as computer:
        result, server = await drive(computer, script, tmp_path / "run")
        final_title = await computer.page.title()
    assert result.status == "completed", result.error
    bodies = [r.body for r in server.requests]
    shot = image_of(bodies[1])  # what the model saw after its click: the dialog
    assert shot.getpixel((ok.x + 4, ok.y + ok.height // 2)) == (26, 115, 232)
    assert "confirm dialog saying 'Sure?' is open" in notice_texts(bodies[1])[0]
    assert "was answered OK (clicked ok)" in notice_texts(bodies[2])[0]
    assert image_of(bodies[2]).getpixel((ok.x + 4, ok.y + ok.height // 2)) != (26, 115, 232)
    assert image_of(bodies[4]).getpixel((prompt.ok.x + 4, prompt.ok.y + 5)) == (26, 115, 232)
    assert "with 'Grace'" in notice_texts(bodies[5])[0]
    assert final_title == "prompt:Grace"
    steps = [json.loads(x) for x in (tmp_path / "run/steps.jsonl").read_text().splitlines()]
    kinds = [e.get("notice") for s in steps for e in s["events"]]
    assert "dialog" in kinds and "dialog_answered" in kinds


# -- downloads and file choosers ----------------------------------------------------------

FILES_PAGE = (
    "<body style='margin:0'><a href='/download?name=report.csv&size=1234' style='"
    + BUTTON + "'>download</a><input type=file id=f style='position:absolute;left:0;"
    "top:150px;width:300px;height:40px' onchange=\"document.title = 'file:' + "
    "(this.files[0] ? this.files[0].name + ':' + this.files[0].size : 'none')\"></body>"
)  # fmt: skip


async def run_files(
    web: LoopbackServer, tmp_path: Path, script: list[dict[str, Any]], **computer: Any
) -> tuple[Any, ScriptedResponsesServer, str]:
    web.pages["/files.html"] = FILES_PAGE
    async with PlaywrightComputer(start_url=web.url("/files.html"), **computer) as c:
        result, server = await drive(c, script, tmp_path / "run")
        title = await c.page.title()
    assert result.status == "completed", result.error
    return result, server, title


async def test_a_download_is_kept_in_the_run_directory_and_told(
    web: LoopbackServer, tmp_path: Path
) -> None:
    script = [turn(computer_call("click", x=150, y=50)), turn(message("done"))]
    _, server, _ = await run_files(web, tmp_path, script)
    assert "Downloaded report.csv (1.2 KB)." in notice_texts(server.requests[1].body)[0]
    run_dir = tmp_path / "run"
    assert (run_dir / "downloads/report.csv").read_bytes() == b"x" * 1234
    summary = json.loads((run_dir / "run.json").read_text())
    assert summary["downloads"] == [
        {"name": "report.csv", "size": 1234, "url": web.url("/download?name=report.csv&size=1234"),
         "path": "downloads/report.csv"}
    ]  # fmt: skip
    assert 'href="downloads/report.csv"' in (run_dir / "report.html").read_text()


async def test_downloads_dir_chooses_another_place(web: LoopbackServer, tmp_path: Path) -> None:
    script = [turn(computer_call("click", x=150, y=50)), turn(message("done"))]
    await run_files(web, tmp_path, script, downloads_dir=tmp_path / "mine")
    assert (tmp_path / "mine/report.csv").stat().st_size == 1234
    assert not (tmp_path / "run/downloads").exists()
    summary = json.loads((tmp_path / "run/run.json").read_text())
    assert summary["downloads"][0]["path"] == str(tmp_path / "mine/report.csv")


async def test_a_file_chooser_with_an_upload_dir_takes_an_allowed_file(
    web: LoopbackServer, tmp_path: Path
) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "cv.pdf").write_bytes(b"%PDF-1.4 hello")
    (tmp_path / "secret.txt").write_text("not for upload")
    script = [
        turn(computer_call("click", x=150, y=170)),  # opens the chooser
        turn(function_call("choose_file", {"name": "../secret.txt"})),  # refused
        turn(function_call("choose_file", {"name": "cv.pdf"})),
        turn(message("done")),
    ]
    _, server, title = await run_files(web, tmp_path, script, upload_dir=uploads)
    bodies = [r.body for r in server.requests]
    assert "choose_file" in [t.get("name") for t in bodies[0]["tools"]]
    # the chooser's event can trail the step's screenshot: told with it or the next request
    told = " ".join(t for b in bodies[1:3] for t in notice_texts(b))
    assert "A file chooser opened" in told and "Files you may pick: cv.pdf." in told
    refused = next(i for i in bodies[2]["input"] if i["type"] == "function_call_output")
    assert "not one of the files allowed" in refused["output"]
    assert title == "file:cv.pdf:14"  # the page got the file (and only that one)
    steps = [json.loads(x) for x in (tmp_path / "run/steps.jsonl").read_text().splitlines()]
    assert "file_chosen" in [e.get("notice") for s in steps for e in s["events"]]


async def test_a_file_chooser_without_an_upload_dir_is_refused(
    web: LoopbackServer, tmp_path: Path
) -> None:
    script = [
        turn(computer_call("click", x=150, y=170)),
        turn(computer_call("screenshot")),
        turn(message("done")),
    ]
    _, server, title = await run_files(web, tmp_path, script)
    assert "choose_file" not in [t.get("name") for t in server.requests[0].body["tools"]]
    # the chooser's event can trail the step's screenshot: told with it or the next request
    told = " ".join(t for r in server.requests[1:] for t in notice_texts(r.body))
    assert "uploads are not allowed in this run; it was cancelled" in told
    assert title == ""  # no file reached the page (its onchange never ran)


async def test_slow_page_and_address_bar_through_the_loop(
    web: LoopbackServer, tmp_path: Path
) -> None:
    web.pages["/slow-start.html"] = SLOW_PAGE
    web.pages["/second.html"] = "<body style='margin:0;background:#ff00ff'>second</body>"
    script = [
        turn(computer_call("click", x=150, y=50)),  # a link to a page answering after 3 s
        turn(computer_call("keypress", keys=["ctrl", "l"])),
        turn(computer_call("type", text=web.url("/second.html"))),
        turn(computer_call("keypress", keys=["Return"])),
        turn(message("done")),
    ]
    async with PlaywrightComputer(start_url=web.url("/slow-start.html")) as computer:
        result, server = await drive(computer, script, tmp_path / "run")
    assert result.status == "completed", result.error
    bodies = [r.body for r in server.requests]
    assert image_of(bodies[1]).getpixel((600, 500)) == (0, 255, 0)  # the slow page, not the old
    assert "address bar is focused" in notice_texts(bodies[2])[0]
    assert image_of(bodies[4]).getpixel((600, 500)) == (255, 0, 255)
    (output,) = [i for i in bodies[4]["input"] if i["type"] == "computer_call_output"]
    assert output["output"]["current_url"] == web.url("/second.html")
