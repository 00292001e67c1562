"""One writer per run directory (issue 13, row 9): a lock, no silent reuse, unique names."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from cli_support import screenloop

from agent._errors import RunDirectoryError
from agent._record._claim import claim_run_dir
from agent._record._recorder import default_run_dir


def test_a_second_writer_is_refused_while_the_first_holds_the_dir(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with claim_run_dir(run_dir):
        (run_dir / "steps.jsonl").write_text("{}\n")
        with (
            pytest.raises(RunDirectoryError, match="another screenloop run"),
            claim_run_dir(run_dir, overwrite=True),
        ):
            pass
        assert (run_dir / "steps.jsonl").read_text() == "{}\n"  # untouched


def test_an_earlier_run_is_kept_unless_overwrite(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "screenshots").mkdir(parents=True)
    (run_dir / "run.json").write_text("{}")
    with pytest.raises(RunDirectoryError, match="--overwrite"), claim_run_dir(run_dir):
        pass
    assert (run_dir / "run.json").exists()
    with claim_run_dir(run_dir, overwrite=True):
        assert sorted(p.name for p in run_dir.iterdir()) == [".lock"]


def test_default_names_are_unique_within_one_second(tmp_path: Path) -> None:
    dirs = [default_run_dir(tmp_path, "same task") for _ in range(5)]
    assert len(set(dirs)) == 5
    assert all(d.is_dir() for d in dirs)  # reserved by creating them


def test_cli_refuses_an_existing_run_dir_before_starting_anything(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.json").write_text('{"schema_version": 1, "task": "earlier"}')
    out = screenloop(
        "run", "t", "--url", "http://127.0.0.1:9/", "--base-url", "http://127.0.0.1:9/v1",
        "--record", str(run_dir),
    )  # fmt: skip
    assert out.code == 2, out
    assert "--overwrite" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "earlier" in (run_dir / "run.json").read_text()


def test_cli_refuses_a_record_path_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("keep me")
    out = screenloop(
        "run", "t", "--url", "http://127.0.0.1:9/", "--base-url", "http://127.0.0.1:9/v1",
        "--record", str(target),
    )  # fmt: skip
    assert out.code == 2 and "not a directory" in out.stderr, out
    assert target.read_text() == "keep me"
