"""The official SDK (`tzafon`) against `serve-computers`: real Chromium, real Xvfb, every action.

Each action goes official SDK → HTTP → serve-computers → PlaywrightComputer /
DesktopComputer, and is proven by its effect: the page's event log
(tests/pages/events.html) or the Tk app's (tests/apps/tk_events.py). Every
request and answer is then checked against the SDK's own types.
"""

from __future__ import annotations

import shutil
import threading
import typing
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from desktop_support import APP, TkApp, of, python_with_tkinter
from lightcone_support import REQUEST_TYPES, check_exchanges, check_typed

from agent._computers_server import ACTION_FIELDS, REQUEST_FIELDS, ComputersServer

tzafon = pytest.importorskip("tzafon")

KEY = "slc-test-key-0123"
PAGES = Path(__file__).resolve().parents[1] / "pages"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def pages_origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(PAGES)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tk-logs")


@pytest.fixture(scope="module")
def server(logs: Path) -> Iterator[ComputersServer]:
    python = python_with_tkinter() or "python3"
    launch = [f"{python} {APP} {logs}/{{session}}.jsonl"]
    with ComputersServer(api_key=KEY, launch=launch, keep_exchanges=True) as srv:
        yield srv


@pytest.fixture
def client(server: ComputersServer) -> Any:
    return tzafon.Lightcone(api_key=KEY, base_url=server.origin, max_retries=0)


def wait_for(check: Callable[[], Any], what: str, timeout_s: float = 30.0) -> Any:
    """Poll `check()` until it returns something truthy (the effect arrived)."""
    done = threading.Event()
    for _ in range(int(timeout_s / 0.02)):
        value = check()
        if value:
            return value
        done.wait(0.02)
    raise AssertionError(f"never happened: {what}")


def near(event: dict[str, Any], x: int, y: int, tol: int = 2) -> bool:
    return abs(event["x"] - x) <= tol and abs(event["y"] - y) <= tol


# -- the contract, without a computer -------------------------------------------------


def test_the_fields_the_server_reads_are_named_by_the_sdk() -> None:
    action_hints = typing.get_type_hints(tzafon.types.ComputerActionParam)
    assert set(ACTION_FIELDS) <= set(action_hints)
    for route, fields in REQUEST_FIELDS.items():
        td = REQUEST_TYPES["computers" if route == "create" else f"computers/{{id}}/{route}"]
        assert set(fields) <= set(typing.get_type_hints(td)), route


def test_the_actions_lightcone_computer_sends_are_sdk_actions() -> None:
    from executors import Point
    from executors._lightcone import _wire

    for action in (
        _wire.click("click", 1, 2, "middle"),
        _wire.click("click", 1, 2, "right"),
        _wire.click("double_click", 1, 2),
        _wire.drag([Point(1, 2), Point(3, 4), Point(5, 6)], "left"),
        _wire.mouse("mouse_down", 1, 2, "right"),
        _wire.key("key_down", "ctrl"),
        _wire.keypress(["ctrl", "shift", "t"]),
        _wire.scroll(1, 2, 0, -300),
        _wire.type_text("hi"),
        _wire.wait(100),
        _wire.navigate("https://example.com"),
        _wire.screenshot(),
    ):
        check_typed(action, tzafon.types.ComputerActionParam, action["type"])
        assert action["type"] in _wire.SUPPORTED_TYPES


# -- auth and sessions ------------------------------------------------------------------


def test_a_wrong_key_is_refused_and_never_echoed(server: ComputersServer) -> None:
    wrong = tzafon.Lightcone(api_key="not-the-key-xyz", base_url=server.origin, max_retries=0)
    with pytest.raises(tzafon.AuthenticationError) as info:
        wrong.computers.list()
    assert "not-the-key-xyz" not in str(info.value) and KEY not in str(info.value)
    with pytest.raises(tzafon.NotFoundError):
        tzafon.Lightcone(api_key=KEY, base_url=server.origin, max_retries=0).computers.retrieve(
            "cmp_nope"
        )


# -- a real Chromium -----------------------------------------------------------------------


@pytest.mark.browser
def test_sdk_session_drives_chromium_through_every_action(
    server: ComputersServer, client: Any, pages_origin: str
) -> None:
    with client.computer.create(kind="browser", display={"width": 1280, "height": 720}) as comp:
        assert comp.id in server.pool.ids()
        page = server.session(comp.id).computer.page  # type: ignore[attr-defined]

        def events() -> list[dict[str, Any]]:
            return server.call(lambda: page.evaluate("window.__events"))

        def seen(kind: str, pred: Callable[[dict[str, Any]], bool] = lambda e: True) -> Any:
            return wait_for(
                lambda: [e for e in events() if e["type"] == kind and pred(e)], f"a {kind}"
            )

        assert comp.navigate(f"{pages_origin}/events.html").status == "success"
        wait_for(lambda: server.call(lambda: page.evaluate("document.readyState")) == "complete",
                 "the page loaded")  # fmt: skip
        comp.click(100, 100)
        seen("click", lambda e: near(e, 100, 100) and e["detail"] == 1)
        comp.drag(100, 400, 300, 450)
        seen("mousedown", lambda e: near(e, 100, 400))
        seen("mouseup", lambda e: near(e, 300, 450))
        comp.mouse_down(600, 100)
        comp.mouse_up(650, 120)
        seen("mousedown", lambda e: near(e, 600, 100))
        seen("mouseup", lambda e: near(e, 650, 120))
        comp.double_click(200, 150)
        seen("dblclick", lambda e: near(e, 200, 150))
        comp.right_click(400, 150)
        seen("contextmenu", lambda e: near(e, 400, 150))
        comp.key_down("Shift")
        comp.click(150, 150)
        comp.key_up("Shift")
        seen("click", lambda e: near(e, 150, 150) and e["shift"])
        comp.click(900, 34)
        comp.type("héllo wörld")
        seen("input", lambda e: e.get("value") == "héllo wörld")
        comp.hotkey("Control", "a")
        comp.type("x")
        seen("input", lambda e: e.get("value") == "x")  # ctrl+a selected all of it
        comp.scroll(dx=0, dy=150, x=900, y=300)
        seen("wheel", lambda e: e["deltaY"] > 0)
        comp.wait(0.01)
        shot = comp.screenshot(base64=True)
        url = comp.get_screenshot_url(shot)
        assert shot.result and shot.result["base64"] and url
        import httpx

        assert httpx.get(url).content[:8] == b"\x89PNG\r\n\x1a\n"  # the hosted URL serves it
        # a batch: a middle click, a drag along a path, a triple click, a screenshot with context
        answer = comp.batch(
            [
                {"type": "click", "x": 500, "y": 300, "button": "middle"},
                {
                    "type": "drag",
                    "path": [{"x": 50, "y": 50}, {"x": 60, "y": 200}, {"x": 250, "y": 210}],
                },
                {"type": "double_click", "x": 700, "y": 450},
                {"type": "click", "x": 700, "y": 450},
                {"type": "screenshot", "include_context": True},
            ]
        )
        assert answer["status"] == "success"
        results = typing.cast(list[dict[str, Any]], answer["results"])
        assert results[-1]["page_context"]["url"] == f"{pages_origin}/events.html"
        seen("auxclick", lambda e: near(e, 500, 300) and e["button"] == 1)
        seen("mousemove", lambda e: near(e, 60, 200))  # the middle of the path
        seen("click", lambda e: near(e, 700, 450) and e["detail"] == 3)
        # a failing action stops the batch and says which
        bad = comp.batch([{"type": "keypress", "keys": ["NoSuchKey"]}, {"type": "wait", "ms": 1}])
        assert bad["status"] == "error" and len(typing.cast(list[Any], bad["results"])) == 1
        assert comp.keep_alive()["status"] == "ok"
        assert comp.retrieve().kind == "browser"
    assert comp.id not in server.pool.ids()  # the context manager deleted it
    routes = check_exchanges(server.exchanges)
    assert {"POST /computers", "DELETE /computers/{id}", "POST /computers/{id}/batch"} <= routes


# -- a real Xvfb app ------------------------------------------------------------------------


@pytest.mark.desktop
@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed")
def test_sdk_session_drives_an_x_app_through_every_action(
    server: ComputersServer, client: Any, logs: Path
) -> None:
    if python_with_tkinter() is None:
        pytest.skip("no Python with tkinter")
    with client.computer.create(kind="desktop", display={"width": 800, "height": 600}) as comp:
        app = TkApp(logs / f"{comp.id}.jsonl")
        wait_for(lambda: app.log.exists() and of(app.events(), "ready"), "the Tk app is up")

        def seen(kind: str, pred: Callable[[dict[str, Any]], bool] = lambda e: True) -> Any:
            return wait_for(lambda: [e for e in of(app.events(), kind) if pred(e)], kind)

        def at(x: int, y: int) -> Callable[[dict[str, Any]], bool]:
            return lambda e: abs(e["x_root"] - x) <= 1 and abs(e["y_root"] - y) <= 1

        comp.click(100, 400)
        seen("ButtonPress", lambda e: at(100, 400)(e) and e["num"] == 1)
        comp.right_click(120, 410)
        seen("ButtonPress", lambda e: at(120, 410)(e) and e["num"] == 3)
        comp.double_click(140, 420)
        seen("Double", at(140, 420))
        comp.mouse_down(200, 450)
        comp.mouse_up(220, 460)
        seen("ButtonRelease", at(220, 460))
        comp.drag(300, 400, 400, 450)
        seen("Motion", lambda e: abs(e["x_root"] - 400) <= 1)
        seen("ButtonRelease", at(400, 450))
        comp.scroll(dx=0, dy=200, x=300, y=300)
        seen("ButtonPress", lambda e: at(300, 300)(e) and e["num"] == 5)  # a notch down
        comp.click(100, 50)  # the Text widget
        comp.type("hello")
        seen("text", lambda e: "hello" in e.get("text", ""))
        comp.key_down("Control")
        comp.key_up("Control")
        seen("KeyRelease", lambda e: e["keysym"].startswith("Control"))
        comp.hotkey("Shift", "a")
        seen("text", lambda e: "helloA" in e.get("text", ""))
        shot = comp.screenshot(base64=True)
        assert shot.result and shot.result["base64"]
        comp_id = comp.id
    assert comp_id not in server.pool.ids()
    check_exchanges(server.exchanges)


def test_a_session_times_out_when_idle(server: ComputersServer, client: Any) -> None:
    pytest.importorskip("playwright")
    created = client.computers.create(kind="browser", inactivity_timeout_seconds=1)
    assert created.id and created.inactivity_timeout_seconds == 1
    assert server.pool.wait_until(lambda ids: created.id not in ids, timeout=60)
    assert (created.id, "idle") in server.pool.ended
    with pytest.raises(tzafon.NotFoundError):
        client.computers.retrieve(created.id)
    check_exchanges(server.exchanges)
