"""`screenloop run --downloads-dir DIR --upload-dir DIR` on a real page: the download
lands in DIR, and the model may give a file chooser a file of the upload directory
(proved by the page, which puts the file it got into its URL)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cli_support import screenloop

from agent._cli._exit_codes import ExitCode
from agent.testing import ScriptedResponsesServer, computer_call, function_call, message, turn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "executors"))
from browser_server import LoopbackServer

pytestmark = pytest.mark.browser

MODEL = "tzafon.northstar-cua-fast"  # normalized coordinates (0-999) on a 1280x720 page
FILES_PAGE = (
    "<body style='margin:0'><a href='/download?name=report.csv&size=1234' style='position:"
    "absolute;left:0;top:0;width:300px;height:100px;display:block'>download</a>"
    "<input type=file id=f style='position:absolute;left:0;top:150px;width:300px;height:40px' "
    "onchange=\"location.hash = 'got=' + this.files[0].name + ':' + this.files[0].size\">"
    "</body>"
)


def norm(x: int, y: int) -> dict[str, int]:
    return {"x": round(x * 999 / 1280), "y": round(y * 999 / 720)}


@pytest.mark.parametrize("flag", ["--downloads-dir", "--downloads"])
def test_run_saves_downloads_into_the_given_dir_and_uploads_from_the_upload_dir(
    tmp_path: Path, flag: str
) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "cv.pdf").write_bytes(b"%PDF-1.4 hello")
    downloads = tmp_path / "mine"
    script = [
        turn(computer_call("click", **norm(150, 50))),  # the download link
        turn(computer_call("click", **norm(150, 170))),  # opens the file chooser
        turn(function_call("choose_file", {"name": "cv.pdf"})),
        turn(computer_call("screenshot")),  # the next request carries the page's URL
        turn(message("done")),
    ]
    web = LoopbackServer().start()
    try:
        web.pages["/files.html"] = FILES_PAGE
        with ScriptedResponsesServer(script) as server:
            res = screenloop(
                "run", "get the report and upload my CV", "--url", web.url("/files.html"),
                "--base-url", server.base_url, "--model", MODEL,
                "--record", str(tmp_path / "run"), flag, str(downloads),
                "--upload-dir", str(uploads), "--json",
            )  # fmt: skip
    finally:
        web.stop()
    assert res.code == ExitCode.COMPLETED, res.stderr
    assert (downloads / "report.csv").read_bytes() == b"x" * 1234
    assert not (tmp_path / "run" / "downloads").exists()
    # the page received the allowed file (its URL, sent to the model, says which)
    assert "/files.html#got=cv.pdf:14" in (tmp_path / "run" / "steps.jsonl").read_text()
    summary = json.loads((tmp_path / "run" / "run.json").read_text())
    assert summary["downloads"][0]["path"] == str(downloads / "report.csv")
