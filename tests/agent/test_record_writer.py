"""The run directory's per-step writes go through a worker thread, in order.

Effects only: the files a recorder leaves after `finish`, the order of the
steps.jsonl lines, run.json's last state, and a failed write surfacing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agent._record._recorder import RunRecorder
from agent._record._writer import Writer


def test_every_step_line_and_the_last_summary_are_on_disk_after_finish(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path / "run")
    recorder.start({"task": "t"})
    for n in range(1, 51):
        recorder.write_step({"step": n, "text": "x" * n})
        recorder.update(steps=n)
    recorder.finish(status="completed")
    lines = (tmp_path / "run" / "steps.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == list(range(1, 51))
    summary = json.loads((tmp_path / "run" / "run.json").read_text())
    assert summary["steps"] == 50 and summary["status"] == "completed"
    assert not list((tmp_path / "run").glob(".run.*"))  # no temp file left behind


def test_a_durable_summary_waits_for_the_queued_writes(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path / "run")
    recorder.start({"task": "t"})
    recorder.write_step({"step": 1})
    recorder.update(steps=1)
    recorder.write_summary(durable=True)
    # what was queued before is on disk once a durable write returns
    assert json.loads((tmp_path / "run" / "steps.jsonl").read_text())["step"] == 1
    assert json.loads((tmp_path / "run" / "run.json").read_text())["steps"] == 1
    recorder.finish(status="completed")


def test_a_failed_background_write_is_raised_by_the_next_call(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path / "run")
    recorder.start({"task": "t"})
    shutil.rmtree(tmp_path / "run")  # run.json cannot be rewritten any more
    recorder.update(steps=1)
    with pytest.raises(OSError):
        recorder._writer.drain()


def test_writer_runs_jobs_in_order_and_raises_the_first_error() -> None:
    writer = Writer()
    seen: list[int] = []

    def fail() -> None:
        raise OSError("disk full")

    for n in range(20):
        writer.submit(lambda n=n: seen.append(n))
    writer.submit(fail)
    writer.submit(lambda: seen.append(99))
    with pytest.raises(OSError, match="disk full"):
        writer.close()
    assert seen == [*range(20), 99]


def test_data_urls_in_a_step_become_refs_to_their_screenshot_files(tmp_path: Path) -> None:
    from executors._computer import Screenshot

    recorder = RunRecorder(tmp_path / "run")
    recorder.start({"task": "t"})
    shots = [Screenshot(data=bytes([n]) * 3000, format="png", width=1, height=1) for n in (1, 2)]
    urls = [f"data:image/png;base64,{'AB' * 2000}{n}" for n in (1, 2)]
    for n, (shot, url) in enumerate(zip(shots, urls, strict=True)):
        recorder.save_screenshot(n, shot, url)
    equal_copy = "".join(list(urls[1]))  # the same text, another object
    recorder.write_step({"a": urls[0], "b": [equal_copy], "c": "data:image/png;base64,QUJD"})
    recorder.finish(status="completed")
    line = json.loads((tmp_path / "run" / "steps.jsonl").read_text())
    assert line["a"] == {"screenshot_ref": "screenshots/0000.png"}
    assert line["b"] == [{"screenshot_ref": "screenshots/0001.png"}]
    assert line["c"] == {"screenshot_ref": None}
    assert (tmp_path / "run" / "screenshots" / "0001.png").read_bytes() == shots[1].data
