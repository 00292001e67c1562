"""The pytest plugin's fixtures and the test-facing agent (see agent/pytest_plugin.py).

Everything asynchronous (the browser, the desktop, the client) lives on one
event loop per test, run by a `Portal` in a background thread. Sync tests call
``agent.run(...)``, ``agent.check(...)``; async tests ``await agent.arun(...)``,
``await agent.acheck(...)``: both hop to the portal's loop, so the plugin works
with or without pytest-asyncio and whatever loop a test runs on. The computer
fixtures yield the real `PlaywrightComputer` / `DesktopComputer`; their
methods must run on the portal's loop: ``agent.call(computer.navigate, url)``.

Settings come from, in order: the test's ``@pytest.mark.screenloop(...)``
(closest marker wins), the command line, the ini file, the environment
(base URL and key, see agent/_api/_provider.py), the defaults.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import pytest

from agent._agent import Agent
from agent._api._client import AsyncResponsesClient
from agent._api._profiles import data_url
from agent._api._provider import resolve_provider
from agent._errors import CassetteError, CheckAnswerError, ConfigurationError
from agent._pytest._cassette import (
    DEFAULT_THRESHOLD,
    RECORD_MODES,
    Cassette,
    Normalizer,
    RecordMode,
)
from agent._pytest._cassette_transport import CassetteOutcome, CassetteTransport
from agent._pytest._screen_checks import (
    CheckSpec,
    build_check_request,
    check_spec,
    extract_spec,
    parse_answer,
)
from agent._result import RunResult
from agent._run._validate import dump_items
from executors._computer import Computer

__all__ = [
    "AGENT_KEY",
    "CALL_PASSED_KEY",
    "DEFAULT_MODEL",
    "Portal",
    "ScreenloopAgent",
    "ScreenloopSettings",
    "agent",
    "cassette_path_for",
    "computer",
    "default_record_mode",
    "desktop",
    "run_dir_name",
    "screenloop_portal",
    "screenloop_settings",
    "screenloop_url",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MODEL = "tzafon.northstar-cua-fast"
DEFAULT_DISPLAY = (1280, 720)
DEFAULT_RUN_ROOT = "runs/pytest"
_NO_KEY = "screenloop-replay-without-key"  # never leaves the process: live calls are refused
_MARKER_KEYS = frozenset(
    {
        "url",
        "display",
        "model",
        "max_steps",
        "launch",
        "secrets",
        "safety",
        "coordinate_space",
        "history",
        "instructions",
        "threshold",
    }
)

AGENT_KEY = pytest.StashKey["ScreenloopAgent"]()
CALL_PASSED_KEY = pytest.StashKey[bool]()


def default_record_mode(env: Mapping[str, str] | None = None) -> RecordMode:
    """``none`` when the ``CI`` variable is set (and not 0/false), else ``once``."""
    value = (os.environ if env is None else env).get("CI", "").strip().lower()
    return "none" if value not in ("", "0", "false", "no") else "once"


# -- settings --------------------------------------------------------------------------


@dataclass
class ScreenloopSettings:
    """Everything the fixtures need for one test, resolved."""

    model: str = DEFAULT_MODEL
    base_url: str | None = None
    record: RecordMode = "once"
    heal: bool = False
    headed: bool = False
    run_root: Path = Path(DEFAULT_RUN_ROOT)
    threshold: int = DEFAULT_THRESHOLD
    url: str | None = None
    display: tuple[int, int] = DEFAULT_DISPLAY
    max_steps: int = 30
    launch: list[list[str]] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    safety: str = "deny"
    coordinate_space: str | None = None
    history: str = "server"
    instructions: str | None = None


def _option(config: pytest.Config, name: str) -> Any:
    value = config.getoption(name.replace("-", "_"), default=None)
    if value not in (None, ""):
        return value
    ini = config.getini(name.replace("-", "_"))
    return ini if ini not in (None, "", []) else None


def _parse_display(value: Any) -> tuple[int, int]:
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", value)
        if not match:
            raise ConfigurationError(f"display must look like 1280x720, got {value!r}")
        return int(match.group(1)), int(match.group(2))
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise ConfigurationError(f"display must be (width, height) or 'WxH', got {value!r}")


def _parse_launch(value: Any) -> list[list[str]]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    out: list[list[str]] = []
    for cmd in value:
        argv = shlex.split(cmd) if isinstance(cmd, str) else [str(a) for a in cmd]
        if not argv:
            raise ConfigurationError("an empty launch command")
        out.append(argv)
    return out


def marker_kwargs(item: pytest.Item) -> dict[str, Any]:
    """The merged keyword arguments of the item's screenloop markers (closest wins)."""
    merged: dict[str, Any] = {}
    for mark in reversed(list(item.iter_markers("screenloop"))):
        if mark.args:
            raise ConfigurationError(
                f"{item.nodeid}: @pytest.mark.screenloop takes keyword arguments only"
            )
        unknown = set(mark.kwargs) - _MARKER_KEYS
        if unknown:
            raise ConfigurationError(
                f"{item.nodeid}: unknown screenloop marker argument(s) {sorted(unknown)}; "
                f"known: {sorted(_MARKER_KEYS)}"
            )
        merged.update(mark.kwargs)
    return merged


def resolve_settings(config: pytest.Config, item: pytest.Item) -> ScreenloopSettings:
    """Settings for `item`: marker, then command line, then ini, then defaults."""
    mark = marker_kwargs(item)
    record = _option(config, "screenloop-record") or default_record_mode()
    if record not in RECORD_MODES:
        raise ConfigurationError(
            f"--screenloop-record must be one of {RECORD_MODES}, got {record!r}"
        )
    root = Path(_option(config, "screenloop-run-dir") or DEFAULT_RUN_ROOT)
    if not root.is_absolute():
        root = Path(config.rootpath) / root
    threshold = mark.get("threshold", _option(config, "screenloop-threshold"))
    settings = ScreenloopSettings(
        model=str(mark.get("model") or _option(config, "screenloop-model") or DEFAULT_MODEL),
        base_url=_option(config, "screenloop-base-url"),
        record=record,
        heal=bool(config.getoption("screenloop_heal", default=False))
        or _truthy(config.getini("screenloop_heal")),
        headed=bool(config.getoption("screenloop_headed", default=False))
        or _truthy(config.getini("screenloop_headed")),
        run_root=root,
        threshold=int(threshold) if threshold not in (None, "") else DEFAULT_THRESHOLD,
        url=mark.get("url"),
        display=_parse_display(
            mark.get("display") or _option(config, "screenloop-display") or DEFAULT_DISPLAY
        ),
        max_steps=int(mark.get("max_steps") or _option(config, "screenloop-max-steps") or 30),
        launch=_parse_launch(mark.get("launch")),
        secrets=dict(mark.get("secrets") or {}),
        safety=str(mark.get("safety") or "deny"),
        coordinate_space=mark.get("coordinate_space"),
        history=str(mark.get("history") or "server"),
        instructions=mark.get("instructions"),
    )
    return settings


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def run_dir_name(nodeid: str, limit: int = 120) -> str:
    """A directory name for a test id: ``t/test_a.py::test_b[x]`` -> ``t-test_a.py--test_b-x``."""
    slug = nodeid.replace("::", "--")
    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "-", slug).strip("-.") or "test"
    if len(slug) > limit:
        digest = hashlib.blake2b(nodeid.encode(), digest_size=4).hexdigest()
        slug = f"{slug[: limit - 9]}-{digest}"
    return slug


def cassette_path_for(item: pytest.Item) -> Path:
    """``<test_dir>/cassettes/<module>/<Class.>test_name.json`` for a test item."""
    path = Path(str(item.path))
    parts = item.nodeid.split("::")[1:]
    name = ".".join(parts) if parts else item.name
    name = re.sub(r"[^A-Za-z0-9_.=-]+", "-", name).strip("-.") or "test"
    return path.parent / "cassettes" / path.stem / f"{name}.json"


# -- the portal ------------------------------------------------------------------------


class Portal:
    """An event loop in a background thread that async work of one test runs on."""

    def __init__(self, name: str = "screenloop-portal") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the portal's loop and wait for its result (from sync code)."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except (KeyboardInterrupt, concurrent.futures.TimeoutError):
            future.cancel()
            raise

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the portal's loop and await it from another loop."""
        if asyncio.get_running_loop() is self.loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def close(self) -> None:
        """Cancel what is left, stop the loop and join the thread."""
        if self.loop.is_closed():
            return

        async def _cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(_cancel_rest(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()


# -- the test-facing agent -------------------------------------------------------------


@dataclass
class CheckRecord:
    """One check or extraction, as written to ``checks.jsonl``."""

    kind: str
    question: str
    answer: Any
    reply: Any
    screenshot: str | None
    run_dir: str
    error: str | None = None


class ScreenloopAgent:
    """The `agent` fixture: an `Agent` bound to the test's computer, cassette and run dir.

    Sync: `run`, `check`, `extract`, `call`; async: `arun`, `acheck`, `aextract`,
    `acall`. Runs record into the test's run directory (``<root>/<test-slug>``; a
    second run in the same test into ``<root>/<test-slug>/run-2``, ...).
    """

    def __init__(
        self,
        *,
        computer: Computer,
        portal: Portal,
        settings: ScreenloopSettings,
        run_dir: Path,
        cassette: Cassette,
        origin: str | None,
    ) -> None:
        self.computer = computer
        self.settings = settings
        self.run_dir = run_dir
        self._portal = portal
        self.results: list[RunResult] = []
        self.checks: list[CheckRecord] = []
        self._current_dir = run_dir
        self.api_key, live_problem, base_url = _resolve_key(settings.base_url)
        self.normalizer = Normalizer(origin=origin, secrets=settings.secrets, api_key=self.api_key)
        self.transport = CassetteTransport(
            cassette,
            settings.record,
            self.normalizer,
            heal=settings.heal,
            threshold=settings.threshold,
            live_problem=live_problem,
        )
        self.client = AsyncResponsesClient(
            api_key=self.api_key if live_problem is None else _NO_KEY,
            base_url=base_url,
            transport=self.transport,
            max_retries=2,
        )
        self.outcome: CassetteOutcome | None = None

    def __repr__(self) -> str:
        return f"ScreenloopAgent(model={self.settings.model!r}, run_dir={str(self.run_dir)!r})"

    @property
    def last_result(self) -> RunResult | None:
        """The result of the latest `run`, if any."""
        return self.results[-1] if self.results else None

    # -- running tasks ---------------------------------------------------------------
    def run(self, task: str, **agent_kwargs: Any) -> RunResult:
        """Run `task`; raise AssertionError (run dir, last screenshot) unless it completes.

        `agent_kwargs` override the `Agent` arguments for this run (max_steps, safety...).
        """
        __tracebackhide__ = True
        result = self._portal.run(self._run(task, agent_kwargs))
        self._assert_completed(task, result)
        return result

    async def arun(self, task: str, **agent_kwargs: Any) -> RunResult:
        """`run` for async tests."""
        __tracebackhide__ = True
        result = await self._portal.arun(self._run(task, agent_kwargs))
        self._assert_completed(task, result)
        return result

    def _next_run_dir(self) -> Path:
        n = len(self.results) + 1
        return self.run_dir if n == 1 else self.run_dir / f"run-{n}"

    async def _run(self, task: str, overrides: dict[str, Any]) -> RunResult:
        s = self.settings
        kwargs: dict[str, Any] = {
            "client": self.client,
            "base_url": self.client.base_url,
            "max_steps": s.max_steps,
            "secrets": s.secrets,
            "safety": s.safety,
            "history": s.history,
            "instructions": s.instructions,
            "coordinate_space": s.coordinate_space,
            "run_dir": self._next_run_dir(),
        }
        kwargs.update(overrides)
        runner = Agent(self.computer, s.model, **kwargs)
        self._current_dir = Path(kwargs["run_dir"])
        try:
            result = await runner.run(task)
        finally:
            if runner.last_result is not None:
                self.results.append(runner.last_result)
        return result

    def _assert_completed(self, task: str, result: RunResult) -> None:
        __tracebackhide__ = True
        if result.ok:
            return
        lines = [
            f"screenloop: the task did not complete (status {result.status!r} after "
            f"{len(result.steps)} step(s)).",
            f"  task: {task}",
        ]
        if result.error:
            lines.append(f"  error: {result.error.get('type')}: {result.error.get('message')}")
        if result.final_output:
            lines.append(f"  final output: {result.final_output}")
        lines += self.location_lines()
        raise AssertionError("\n".join(lines))

    # -- checks ----------------------------------------------------------------------
    def check(self, question: str) -> bool:
        """Ask the model a yes/no question about the current screen."""
        __tracebackhide__ = True
        return bool(self._portal.run(self._ask("check", question, check_spec())))

    async def acheck(self, question: str) -> bool:
        """`check` for async tests."""
        __tracebackhide__ = True
        return bool(await self._portal.arun(self._ask("check", question, check_spec())))

    def extract(self, question: str, schema: Any, *, name: str | None = None) -> Any:
        """Ask the model for a value of `schema` (a type, pydantic model or JSON schema)."""
        __tracebackhide__ = True
        return self._portal.run(self._ask("extract", question, extract_spec(schema, name)))

    async def aextract(self, question: str, schema: Any, *, name: str | None = None) -> Any:
        """`extract` for async tests."""
        __tracebackhide__ = True
        return await self._portal.arun(self._ask("extract", question, extract_spec(schema, name)))

    async def _ask(self, kind: str, question: str, spec: CheckSpec) -> Any:
        computer = self.computer
        with contextlib.suppress(Exception):
            await computer.settle(2.0)
        shot = await computer.screenshot()
        body = build_check_request(self.settings.model, question, data_url(shot), spec)
        index = len(self.checks) + 1
        shots = self._current_dir / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        ext = "jpg" if shot.format == "jpeg" else shot.format
        shot_path = shots / f"check-{index:02d}.{ext}"
        shot_path.write_bytes(shot.data)
        record = CheckRecord(kind, question, None, None, str(shot_path), str(self._current_dir))
        self.checks.append(record)
        try:
            response = await self.client.create(body)
            output = dump_items(response.output)
            value, reply = parse_answer(output, spec)
        except (CassetteError, CheckAnswerError) as exc:
            record.error = f"{type(exc).__name__}: {exc}"
            self._write_check(record, index, spec)
            raise AssertionError(
                f"screenloop {kind} failed: {question!r}\n  {record.error}\n"
                + "\n".join(self.location_lines())
            ) from exc
        record.answer, record.reply = _jsonable(value), reply
        self._write_check(record, index, spec)
        return value

    def _write_check(self, record: CheckRecord, index: int, spec: CheckSpec) -> None:
        line = {
            "index": index,
            "kind": record.kind,
            "question": record.question,
            "schema_name": spec.name,
            "answer": record.answer,
            "reply": record.reply,
            "screenshot": os.path.relpath(record.screenshot, record.run_dir)
            if record.screenshot
            else None,
            "error": record.error,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        redacted = self.normalizer.redact(line)
        with open(Path(record.run_dir) / "checks.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(redacted, ensure_ascii=False) + "\n")

    # -- the computer ----------------------------------------------------------------
    def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run ``await fn(*args, **kwargs)`` on the loop the computer lives on (sync tests)."""

        async def _go() -> T:
            return await fn(*args, **kwargs)

        return self._portal.run(_go())

    async def acall(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """`call` for async tests."""

        async def _go() -> T:
            return await fn(*args, **kwargs)

        return await self._portal.arun(_go())

    # -- reporting -------------------------------------------------------------------
    def last_screenshot(self) -> Path | None:
        """The newest screenshot of the test: the last run's last step, or the last check."""
        candidates: list[Path] = []
        result = self.last_result
        if result is not None and result.run_dir is not None:
            shots = sorted((Path(result.run_dir) / "screenshots").glob("[0-9]*.*"))
            if shots:
                candidates.append(shots[-1])
        if self.checks and self.checks[-1].screenshot:
            candidates.append(Path(self.checks[-1].screenshot))
        existing = [c for c in candidates if c.exists()]
        return max(existing, key=lambda p: p.stat().st_mtime) if existing else None

    def report_path(self) -> Path | None:
        """The last run's report.html (built now if the run did not build it)."""
        result = self.last_result
        if result is None or result.run_dir is None:
            return None
        target = Path(result.run_dir) / "report.html"
        if not target.exists():
            with contextlib.suppress(Exception):
                from agent._record._report import build_report

                build_report(result.run_dir)
        return target if target.exists() else None

    def location_lines(self) -> list[str]:
        """Where to look: run dir, report, last screenshot, cassette."""
        lines = [f"  run dir: {self._current_dir}"]
        report = self.report_path()
        if report is not None:
            lines.append(f"  report: {report}")
        shot = self.last_screenshot()
        if shot is not None:
            lines.append(f"  last screenshot: {shot}")
        lines.append(f"  cassette: {self.transport.cassette.path} (record={self.settings.record})")
        return lines

    def properties(self) -> list[tuple[str, str]]:
        """Name/value pairs for JUnit XML (``record_property``)."""
        props = [("screenloop_run_dir", str(self._current_dir))]
        report = self.report_path()
        if report is not None:
            props.append(("screenloop_report", str(report)))
        shot = self.last_screenshot()
        if shot is not None:
            props.append(("screenloop_last_screenshot", str(shot)))
        props.append(("screenloop_cassette_path", str(self.transport.cassette.path)))
        return props

    async def aclose(self) -> None:
        """Close the client (and its live transport)."""
        await self.client.aclose()


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _resolve_key(base_url: str | None) -> tuple[str | None, str | None, str | None]:
    """(api key, why live calls are impossible or None, base URL) from arguments and env."""
    try:
        resolved = resolve_provider(base_url=base_url)
    except ConfigurationError as exc:
        return None, f"no API key is set: {exc}", base_url
    return resolved.api_key, None, resolved.base_url


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture
def screenloop_settings(request: pytest.FixtureRequest) -> ScreenloopSettings:
    """The resolved screenloop settings of this test (marker, options, ini, defaults)."""
    try:
        return resolve_settings(request.config, request.node)
    except ConfigurationError as exc:
        pytest.fail(f"screenloop: {exc}", pytrace=False)


@pytest.fixture
def screenloop_url(request: pytest.FixtureRequest) -> str | None:
    """The base URL of the app under test (``--screenloop-url`` / ini ``screenloop_url``).

    Override this fixture in a conftest to start your app per test and return
    its URL; a marker ``url`` is joined to it (``url="/products"``).
    """
    value = _option(request.config, "screenloop-url")
    return str(value) if value else None


@pytest.fixture
def screenloop_portal() -> Iterator[Portal]:
    """The event loop (in a background thread) this test's computer and agent run on."""
    portal = Portal()
    yield portal
    portal.close()


def _start_url(settings: ScreenloopSettings, base: str | None) -> str | None:
    if settings.url and base:
        return urljoin(base, settings.url)
    return settings.url or base


@pytest.fixture
def computer(
    screenloop_settings: ScreenloopSettings,
    screenloop_url: str | None,
    screenloop_portal: Portal,
) -> Iterator[Computer]:
    """A started `PlaywrightComputer` (headless Chromium unless --screenloop-headed)."""
    from executors import PlaywrightComputer

    s = screenloop_settings
    if s.headed and not os.environ.get("DISPLAY"):
        pytest.fail(
            "screenloop: --screenloop-headed needs an X display (set DISPLAY, or run under "
            "xvfb-run)",
            pytrace=False,
        )
    comp = PlaywrightComputer(
        size=s.display, start_url=_start_url(s, screenloop_url), headless=not s.headed
    )

    async def _start() -> None:
        await comp.start()
        await comp.settle(3.0)

    screenloop_portal.run(_start())
    try:
        yield comp
    finally:
        screenloop_portal.run(comp.close())


@pytest.fixture
def desktop(
    screenloop_settings: ScreenloopSettings, screenloop_portal: Portal
) -> Iterator[Computer]:
    """A started `DesktopComputer` on a fresh Xvfb display running the marker's ``launch``."""
    from executors import DesktopComputer
    from sandbox._display import VirtualDisplay

    s = screenloop_settings
    display = VirtualDisplay(*s.display).start()
    try:
        for argv in s.launch:
            display.launch(argv)
        comp = DesktopComputer(display)
        screenloop_portal.run(comp.start())
        try:
            yield comp
        finally:
            screenloop_portal.run(comp.close())
    finally:
        display.close()


@pytest.fixture
def agent(
    request: pytest.FixtureRequest,
    screenloop_settings: ScreenloopSettings,
    screenloop_url: str | None,
    screenloop_portal: Portal,
) -> Iterator[ScreenloopAgent]:
    """The test-facing agent, bound to ``desktop`` if the test uses it, else ``computer``."""
    name = "desktop" if "desktop" in request.fixturenames else "computer"
    comp: Computer = request.getfixturevalue(name)
    s = screenloop_settings
    run_dir = s.run_root / run_dir_name(request.node.nodeid)
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    start = _start_url(s, screenloop_url) if name == "computer" else None
    cassette = Cassette.load(cassette_path_for(request.node))
    wrapper = ScreenloopAgent(
        computer=comp,
        portal=screenloop_portal,
        settings=s,
        run_dir=run_dir,
        cassette=cassette,
        origin=_origin(start),
    )
    request.node.stash[AGENT_KEY] = wrapper
    try:
        yield wrapper
    finally:
        with contextlib.suppress(Exception):
            screenloop_portal.run(wrapper.aclose())
        passed = request.node.stash.get(CALL_PASSED_KEY, False)
        outcome = wrapper.transport.finish(test_passed=passed)
        wrapper.outcome = outcome
        logger.info("screenloop cassette: %s", outcome.message)
        for prop in wrapper.properties():
            request.node.user_properties.append(prop)
        request.node.user_properties.append(("screenloop_cassette", outcome.status))
        request.node.user_properties.append(("screenloop_cassette_message", outcome.message))
