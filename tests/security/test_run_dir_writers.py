"""One writer per run directory (issue 13, row 9): a lock, no silent reuse, unique names."""

from __future__ import annotations

import asyncio
import json
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


# -- the Python API holds its run directory too ---------------------------------------


async def test_two_concurrent_agent_runs_into_one_dir_one_is_refused(tmp_path: Path) -> None:
    from agent import Agent
    from agent.testing import RecordingComputer, ScriptedResponsesServer, computer_call, turn

    run_dir = tmp_path / "run"
    key = "sk-test-run-dir-0123"
    first_script = [turn(computer_call("click", x=5, y=5)), turn()]
    with (
        ScriptedResponsesServer(first_script) as first_server,
        ScriptedResponsesServer([turn()]) as second_server,
    ):
        # the first run stops inside its click (the computer blocks there) holding the dir
        first_computer = RecordingComputer((100, 100), block_on=["click"])
        first = Agent(first_computer, base_url=first_server.base_url, api_key=key, run_dir=run_dir)
        first_run = asyncio.ensure_future(first.run("first task"))
        await asyncio.wait_for(first_computer.blocked.wait(), 30)

        second_computer = RecordingComputer((100, 100))
        second = Agent(
            second_computer, base_url=second_server.base_url, api_key=key, run_dir=run_dir
        )
        refused = await second.run("second task")
        assert refused.status == "error", refused
        assert refused.error is not None and refused.error["type"] == "RunDirectoryError"
        assert "another screenloop run is writing to" in refused.error["message"]
        assert not second_server.requests  # refused before it asked the model anything
        assert second_computer.calls == [] or all(c.name != "click" for c in second_computer.calls)

        first_run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first_run
    # the directory holds the first run only, its record whole
    record = json.loads((run_dir / "run.json").read_text())
    assert record["task"] == "first task" and record["status"] == "cancelled"
    steps = (run_dir / "steps.jsonl").read_text()
    assert "second task" not in steps and "second task" not in (run_dir / "run.json").read_text()


async def test_an_agent_run_into_an_earlier_run_is_refused_unless_overwrite(
    tmp_path: Path,
) -> None:
    from agent import Agent
    from agent.testing import RecordingComputer, ScriptedResponsesServer, message, turn

    run_dir = tmp_path / "run"
    key = "sk-test-run-dir-0123"
    with ScriptedResponsesServer([turn(message("one")), turn(message("three"))]) as server:

        def agent(**kwargs: object) -> Agent:
            return Agent(
                RecordingComputer((100, 100)),
                base_url=server.base_url,
                api_key=key,
                run_dir=run_dir,
                **kwargs,  # type: ignore[arg-type]
            )

        assert (await agent().run("one")).status == "completed"
        again = await agent().run("two")
        assert again.status == "error" and again.error is not None
        assert again.error["type"] == "RunDirectoryError"
        assert "holds an earlier run" in again.error["message"]
        assert "overwrite=True" in again.error["message"]
        assert json.loads((run_dir / "run.json").read_text())["task"] == "one"  # untouched

        replaced = await agent(overwrite=True).run("three")
        assert replaced.status == "completed"
        assert json.loads((run_dir / "run.json").read_text())["task"] == "three"
        assert len((run_dir / "steps.jsonl").read_text().splitlines()) == 1


async def test_files_of_the_caller_may_precede_the_run(tmp_path: Path) -> None:
    # the pytest plugin writes a check's screenshot into the run dir before a run
    from agent import Agent
    from agent.testing import RecordingComputer, ScriptedResponsesServer, message, turn

    run_dir = tmp_path / "run"
    (run_dir / "screenshots").mkdir(parents=True)
    (run_dir / "screenshots" / "check-01.png").write_bytes(b"png")
    with ScriptedResponsesServer([turn(message("ok"))]) as server:
        result = await Agent(
            RecordingComputer((100, 100)), base_url=server.base_url, api_key="sk-test-0123456",
            run_dir=run_dir,
        ).run("t")  # fmt: skip
    assert result.status == "completed", result.error
    assert (run_dir / "screenshots" / "check-01.png").read_bytes() == b"png"
