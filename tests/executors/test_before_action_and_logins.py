"""The before_action hook, safety rules, and saved logins: real Chromium, the scripted model.

A skipped click leaves the page untouched but is still answered with a
screenshot and a note; a stop ends the run before the click; a message runs it
and tells the model. Rules come in their task-file form (YAML). A login made in
one run (a cookie and local storage) is there in the next, through a storage
state file or a profile directory, and never lands in the run directory.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from browser_server import LoopbackServer
from test_runs_that_finish import drive, steps_of, told

from agent import ActionInfo, ConfigurationError, Decision, Verdict
from agent._actions._model import Action
from agent._cli._run_finishing import load_action_rules
from agent.testing import computer_call, message, turn
from executors import PlaywrightComputer

pytestmark = pytest.mark.browser

TWO = (  # "keep" on the left, "delete" on the right; each click is logged by the page
    "<body style='margin:0'><script>window.log=[]</script>"
    "<div style='position:absolute;left:0;top:0;width:300px;height:100px;background:#ddd' "
    "onclick='window.log.push(\"keep\")'>keep</div>"
    "<div style='position:absolute;left:400px;top:0;width:300px;height:100px;background:#fbb' "
    "onclick='window.log.push(\"delete\")'>delete</div>"
    "<input id=t style='position:absolute;left:0;top:200px;width:300px'></body>"
)
LOGIN = (  # the button logs in: a cookie and a local-storage token
    "<body style='margin:0'><div id=b style='position:absolute;left:0;top:0;width:300px;"
    "height:100px;background:#ddd' onclick='document.cookie=\"sid=s3cr3t-session; "
    'max-age=3600; path=/";localStorage.setItem("token","tok-123");this.textContent="in"\''
    ">log in</div></body>"
)


@pytest.fixture
def pages(web: LoopbackServer) -> LoopbackServer:
    web.pages["/ba-two.html"] = TWO
    web.pages["/ba-login.html"] = LOGIN
    return web


CLICKS = [
    turn(computer_call("click", x=150, y=50)),  # keep
    turn(computer_call("click", x=550, y=50)),  # delete
    turn(message("done")),
]


async def test_a_skipped_click_does_not_run_but_is_answered_with_a_screenshot(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    seen: list[tuple[str, ActionInfo]] = []

    def before(action: Action, info: ActionInfo) -> Decision | None:
        seen.append((action.type, info))
        if info.screen.get("x", 0) >= 400:
            return Decision.skip("deleting is not allowed")
        return None

    run_dir = tmp_path / "run"
    async with PlaywrightComputer(start_url=pages.url("/ba-two.html")) as computer:
        result, bodies = await drive(computer, CLICKS, run_dir, before_action=before)
        log = await computer.page.evaluate("window.log")
    assert result.status == "completed", result.error
    assert log == ["keep"]  # the delete click never reached the page
    assert [t for t, _ in seen] == ["click", "click"]
    assert seen[1][1].url == pages.url("/ba-two.html") and seen[1][1].step == 2
    # the skipped call is still answered: its output (a screenshot), then the note
    assert [i["type"] for i in bodies[2]["input"]] == ["computer_call_output", "message"]
    output = bodies[2]["input"][0]["output"]
    assert output["image_url"].startswith("data:image/png;base64,")
    assert told(bodies[2]) and "not performed: deleting is not allowed" in told(bodies[2])[0]
    step = steps_of(run_dir)[1]
    assert step["actions"][0]["error"] == "skipped by before_action: deleting is not allowed"
    (event,) = [e for e in step["events"] if e["kind"] == "nudge"]
    assert event["reason"] == "before_action" and event["data"]["verdict"] == "skip"
    assert "deleting is not allowed" in (run_dir / "report.html").read_text()


async def test_an_async_hook_stopping_ends_the_run_before_the_action(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    async def before(action: Action, info: ActionInfo) -> Verdict:
        return Verdict.STOP if info.screen.get("x", 0) >= 400 else Verdict.EXECUTE

    run_dir = tmp_path / "run"
    async with PlaywrightComputer(start_url=pages.url("/ba-two.html")) as computer:
        result, bodies = await drive(computer, CLICKS, run_dir, before_action=before)
        log = await computer.page.evaluate("window.log")
    assert result.status == "safety_denied"
    assert log == ["keep"]
    assert len(bodies) == 2
    (decision,) = steps_of(run_dir)[1]["safety"]
    assert decision["decided_by"] == "before_action" and decision["code"] == "before_action_stop"


async def test_a_message_runs_the_action_and_tells_the_model(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    def before(action: Action, info: ActionInfo) -> Decision | None:
        if info.screen.get("x", 0) >= 400:
            return Decision.message("That deleted the item; make sure you meant it.")
        return None

    async with PlaywrightComputer(start_url=pages.url("/ba-two.html")) as computer:
        result, bodies = await drive(computer, CLICKS, tmp_path / "run", before_action=before)
        log = await computer.page.evaluate("window.log")
    assert result.status == "completed", result.error
    assert log == ["keep", "delete"]
    assert "That deleted the item; make sure you meant it." in told(bodies[2])[0]


RULES_YAML = """
rules:
  - match: {type: type, text: "(?i)drop table"}
    then: skip
    text: typing SQL is not allowed here
  - match: {type: [click, double_click], url: "/ba-two\\\\.html$"}
    then: stop
    text: no clicks on this page
"""


async def test_rules_from_a_task_file_skip_and_stop(pages: LoopbackServer, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES_YAML)
    rules = load_action_rules(path)
    script = [
        turn(computer_call("click", x=150, y=250)),  # stopped by rule 1 (the URL matches)
        turn(message("done")),
    ]
    async with PlaywrightComputer(start_url=pages.url("/ba-two.html")) as computer:
        result, _ = await drive(computer, script, tmp_path / "run", action_rules=rules)
        log = await computer.page.evaluate("window.log")
    assert result.status == "safety_denied"
    assert result.error is not None and "no clicks on this page" in result.error["message"]
    assert log == []

    typed = [
        turn(computer_call("type", text="hello; DROP TABLE users")),  # skipped by rule 0
        turn(computer_call("type", text="hello")),
        turn(message("done")),
    ]
    async with PlaywrightComputer(start_url=pages.url("/ba-two.html")) as computer:
        await computer.page.focus("#t")
        result, bodies = await drive(
            computer, typed, tmp_path / "run2", action_rules=[r.source for r in rules[:1]]
        )
        value = await computer.page.input_value("#t")
    assert result.status == "completed", result.error
    assert value == "hello"
    assert "typing SQL is not allowed here" in told(bodies[1])[0]


@pytest.mark.parametrize(
    "rules",
    [
        [{"match": {"type": "click"}, "then": "explode"}],
        [{"match": {"colour": "red"}, "then": "skip"}],
        [{"match": {"text": "(unclosed"}, "then": "skip"}],
        [{"match": {"type": "click"}, "then": "message"}],  # a message needs its text
        [{"match": {"url": "x" * 501}, "then": "stop"}],
        "not a list",
    ],
)
def test_bad_rules_are_configuration_errors(rules: Any, tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))
    with pytest.raises(ConfigurationError):
        load_action_rules(path)


LOGGED_IN = "document.cookie + '|' + (localStorage.getItem('token') || '')"


async def test_a_login_round_trips_through_a_storage_state_file(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    state = tmp_path / "private" / "state.json"
    run_dir = tmp_path / "run"
    login = [turn(computer_call("click", x=150, y=50)), turn(message("logged in"))]
    async with PlaywrightComputer(
        start_url=pages.url("/ba-login.html"), storage_state=state, save_storage_state=state
    ) as computer:
        result, _ = await drive(computer, login, run_dir)
        assert await computer.page.evaluate(LOGGED_IN) == "sid=s3cr3t-session|tok-123"
    assert result.status == "completed", result.error
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert "s3cr3t-session" in state.read_text()
    # the run directory never holds the state
    for path in run_dir.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".html"):
            assert "s3cr3t-session" not in path.read_text(), path

    async with PlaywrightComputer(
        start_url=pages.url("/ba-login.html"), storage_state=state
    ) as computer:
        assert await computer.page.evaluate(LOGGED_IN) == "sid=s3cr3t-session|tok-123"
    async with PlaywrightComputer(start_url=pages.url("/ba-login.html")) as computer:
        assert await computer.page.evaluate(LOGGED_IN) == "|"  # a fresh context: logged out


async def test_a_login_round_trips_through_a_profile_directory(
    pages: LoopbackServer, tmp_path: Path
) -> None:
    profile = tmp_path / "profile"
    login = [turn(computer_call("click", x=150, y=50)), turn(message("logged in"))]
    async with PlaywrightComputer(
        start_url=pages.url("/ba-login.html"), user_data_dir=profile
    ) as computer:
        result, _ = await drive(computer, login, tmp_path / "run")
        assert len(computer.context.pages) == 1  # the profile's own blank tab is gone
    assert result.status == "completed", result.error
    async with PlaywrightComputer(
        start_url=pages.url("/ba-login.html"), user_data_dir=profile
    ) as computer:
        assert await computer.page.evaluate(LOGGED_IN) == "sid=s3cr3t-session|tok-123"


def test_login_settings_that_cannot_work_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        PlaywrightComputer(storage_state=tmp_path / "s.json", user_data_dir=tmp_path / "p")
    with pytest.raises(ValueError, match="not a file"):
        PlaywrightComputer(storage_state=tmp_path / "missing.json")
    with pytest.raises(ValueError, match="cdp_url"):
        PlaywrightComputer(cdp_url="http://127.0.0.1:9", user_data_dir=tmp_path / "p")
