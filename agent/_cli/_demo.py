"""`screenloop demo`: the whole product on loopback, no key and no network.

It starts the bundled shop (`agent.demo.DemoApp`) and the bundled model (the
scripted Lightcone-dialect demo script on a `ScriptedResponsesServer`), runs
the default path end to end -- Lightcone dialect, 0-999 coordinates, headless
Chromium -- with the one pending safety check acknowledged by policy, builds
the report and prints where it is. It succeeds only when the run completed
*and* the shop's own state confirms the order: the screenshots are not trusted.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console

from agent._agent import Agent
from agent._cli._computers import open_browser
from agent._cli._exit_codes import ExitCode, exit_code_for_status
from agent._cli._live import LiveView
from agent._cli._session import CommandSession
from agent._cli._watch import WATCH_HELP, TerminalAsk, linger, start_watch
from agent._errors import ConfigurationError
from agent._record._recorder import default_run_dir
from agent._result import RunResult
from agent._safety import AskCallback, SafetyPolicy
from agent._watch._run import page_only
from agent._watch._server import WatchServer
from agent.demo import (
    DEMO_DISPLAY,
    DEMO_MODEL,
    DEMO_ORDER_NUMBER,
    DEMO_SAFETY_CODE,
    DEMO_SECRETS,
    DEMO_STEPS,
    DEMO_TASK,
    DemoApp,
    demo_script,
)
from agent.testing import ScriptedResponsesServer

__all__ = ["DemoOptions", "demo_command", "run_demo", "verify_demo_order"]


@dataclass(frozen=True)
class DemoOptions:
    """Everything `screenloop demo` is given; the fields are its flags, in `--help` order."""

    headed: Annotated[
        bool, typer.Option("--headed", help="Show the browser (starts Xvfb if DISPLAY is unset).")
    ] = False
    model: Annotated[str, typer.Option(help="Model name sent to the bundled model.")] = (
        "tzafon.northstar-cua-fast"
    )
    record: Annotated[
        Path | None,
        typer.Option(help="Run directory (default runs/<timestamp>-demo).", show_default=False),
    ] = None
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the result as one JSON object on stdout.")
    ] = False
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs on stderr.")] = False
    watch: Annotated[
        str | None, typer.Option("--watch", metavar="[PORT]", help=WATCH_HELP, show_default=False)
    ] = None
    pace: Annotated[
        float | None,
        typer.Option(
            help="Seconds the bundled model takes per turn (default: 1 with --watch, else 0).",
            show_default=False,
        ),
    ] = None
    safety: Annotated[
        str,
        typer.Option(
            help="allow | ask: the checkout's safety check is acknowledged by policy, or asked "
            "(on the watch page, and the terminal when there is one)."
        ),
    ] = "allow"


def verify_demo_order(state: dict[str, Any]) -> str | None:
    """None when the shop's state shows the demo's order; otherwise what is wrong."""
    order = state.get("order")
    if not state.get("order_placed") or not isinstance(order, dict):
        return "the shop has no order"
    if order.get("number") != DEMO_ORDER_NUMBER:
        return f"order number {order.get('number')!r}, expected {DEMO_ORDER_NUMBER!r}"
    items = order.get("items") or []
    if [(i.get("product"), i.get("quantity")) for i in items] != [("desk-lamp", 3)]:
        return f"order items {items!r}, expected 3 x desk-lamp"
    if order.get("name") != "Ada Lovelace" or "Analytical Way" not in str(order.get("address")):
        return f"order shipped to {order.get('name')!r}, {order.get('address')!r}"
    return None


async def run_demo(
    *,
    headed: bool = False,
    model: str | None = None,
    run_dir: Path | None = None,
    runs_root: Path = Path("runs"),
    live: LiveView | None = None,
    watch: WatchServer | None = None,
    pace: float = 0.0,
    ask: AskCallback | None = None,
) -> tuple[RunResult, str | None]:
    """Run the demo; returns the result and what is wrong with the order (None: it is right).

    `watch` serves the run's watch page; `pace` slows the bundled model (seconds
    per turn) so a person can follow; `ask` asks the checkout's safety check
    (`page_only`: only the watch page answers) instead of acknowledging it.
    """
    target = run_dir or default_run_dir(runs_root, "demo")
    script = [dict(t, delay=pace) if pace > 0 else t for t in demo_script()]
    safety = SafetyPolicy.ask(ask) if ask is not None else SafetyPolicy.allow([DEMO_SAFETY_CODE])
    with DemoApp() as app, ScriptedResponsesServer(script, dialect="lightcone") as server:
        async with open_browser(DEMO_DISPLAY, start_url=app.url, headed=headed) as computer:
            agent = Agent(
                computer,
                model=model or DEMO_MODEL,
                base_url=server.base_url,
                provider="custom",  # a loopback server: no key; the dialect follows the model
                coordinate_space="normalized",
                max_steps=len(DEMO_STEPS) + 5,
                safety=safety,
                secrets=DEMO_SECRETS,
                run_dir=target,
                hooks=live,
                # replay starts a fresh shop of this variant
                run_info={"executor": {"demo": True, "demo_variant": app.variant}},
                watch=watch,
            )
            with live or contextlib.nullcontext():
                result = await agent.run(DEMO_TASK)
        problem = verify_demo_order(app.state())
    return result, problem


def demo_command(opts: DemoOptions, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """`screenloop demo`; returns the exit status."""
    session = CommandSession(json_output=opts.json_output, out=out, err=err)
    session.start_logging(opts.verbose, secrets=DEMO_SECRETS)
    tty = session.out.isatty() and sys.stdin.isatty()
    live = LiveView(
        Console(file=session.out, highlight=False),
        DEMO_TASK,
        enabled=session.out.isatty() and not opts.json_output,
        max_steps=None,
    )
    try:
        if opts.safety not in ("allow", "ask"):
            raise ConfigurationError(f"--safety must be allow or ask, got {opts.safety!r}")
        if opts.pace is not None and not 0 <= opts.pace <= 60:
            raise ConfigurationError("--pace must be 0..60 seconds")
        if opts.safety == "ask" and opts.watch is None and not tty:
            raise ConfigurationError("--safety ask needs --watch or a terminal to ask on")
        watch = start_watch(opts.watch, session.err_console) if opts.watch is not None else None
    except ConfigurationError as exc:
        return session.usage_error(exc)
    ask: AskCallback | None = None
    if opts.safety == "ask":
        ask = TerminalAsk(session.console, live) if tty else page_only
    pace = opts.pace if opts.pace is not None else (1.0 if watch is not None else 0.0)
    outcome = session.run(
        run_demo(
            headed=opts.headed,
            model=opts.model,
            run_dir=opts.record,
            live=live,
            watch=watch,
            pace=pace,
            ask=ask,
        )
    )
    if watch is not None:
        if tty:
            linger(watch, session.err_console)
        watch.close()
    if outcome.value is None:
        return outcome.failed or ExitCode.ERROR
    result, problem = outcome.value
    code = exit_code_for_status(result.status, result.error)
    if code == ExitCode.COMPLETED and problem is not None:
        code = ExitCode.ERROR
    session.print_result(
        result, code, extra={"order_confirmed": problem is None, "order_problem": problem}
    )
    if problem is not None:
        session.err_console.print(f"the shop does not confirm the order: {problem}", markup=False)
    elif not opts.json_output:
        session.console.print("the shop's state confirms the order.")
    return code
