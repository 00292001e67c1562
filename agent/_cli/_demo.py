"""`screenloop demo`: the whole product on loopback, no key and no network.

It starts the bundled shop (`agent.demo.DemoApp`) and the bundled model (the
scripted Lightcone-dialect demo script on a `ScriptedResponsesServer`), runs
the default path end to end -- Lightcone dialect, 0-999 coordinates, headless
Chromium -- with the one pending safety check acknowledged by policy, builds
the report and prints where it is. It succeeds only when the run completed
*and* the shop's own state confirms the order: the screenshots are not trusted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console

from agent._cli._exit_codes import ExitCode, exit_code_for_exception, exit_code_for_status
from agent._cli._live import LiveView
from agent._cli._run import (
    annotate_run,
    print_result,
    run_cancellable,
    setup_logging,
    signal_exit_code,
)
from agent._result import RunResult

__all__ = ["demo_command", "run_demo", "verify_demo_order"]

logger = logging.getLogger(__name__)


def verify_demo_order(state: dict[str, Any]) -> str | None:
    """None when the shop's state shows the demo's order; otherwise what is wrong."""
    from agent.demo import DEMO_ORDER_NUMBER

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


@contextlib.asynccontextmanager
async def _headed_display(headed: bool) -> AsyncIterator[None]:
    """With --headed and no DISPLAY, a virtual display for the browser window."""
    if not headed or os.environ.get("DISPLAY"):
        yield
        return
    from agent.demo import DEMO_DISPLAY
    from sandbox import VirtualDisplay

    async with VirtualDisplay(*DEMO_DISPLAY) as display:
        os.environ["DISPLAY"] = display.display
        try:
            yield
        finally:
            os.environ.pop("DISPLAY", None)


async def run_demo(
    *,
    headed: bool = False,
    model: str | None = None,
    run_dir: Path | None = None,
    runs_root: Path = Path("runs"),
    live: LiveView | None = None,
    app_holder: list[Any] | None = None,
) -> tuple[RunResult, str | None]:
    """Run the demo; returns the result and what is wrong with the order (None: it is right)."""
    from agent._agent import Agent
    from agent._record._recorder import default_run_dir
    from agent._safety import SafetyPolicy
    from agent.demo import (
        DEMO_DISPLAY,
        DEMO_MODEL,
        DEMO_SAFETY_CODE,
        DEMO_SECRETS,
        DEMO_STEPS,
        DEMO_TASK,
        DemoApp,
        demo_script,
    )
    from agent.testing import ScriptedResponsesServer
    from executors import PlaywrightComputer

    target = run_dir or default_run_dir(runs_root, "demo")
    with DemoApp() as app, ScriptedResponsesServer(demo_script(), dialect="lightcone") as server:
        if app_holder is not None:
            app_holder.append(app)
        async with _headed_display(headed):
            computer = PlaywrightComputer(size=DEMO_DISPLAY, start_url=app.url, headless=not headed)
            async with computer:
                agent = Agent(
                    computer,
                    model=model or DEMO_MODEL,
                    base_url=server.base_url,
                    provider="custom",  # a loopback server: no key; the dialect follows the model
                    coordinate_space="normalized",
                    max_steps=len(DEMO_STEPS) + 5,
                    safety=SafetyPolicy.allow([DEMO_SAFETY_CODE]),
                    secrets=DEMO_SECRETS,
                    run_dir=target,
                    hooks=live,
                )
                try:
                    with live or contextlib.nullcontext():
                        result = await agent.run(DEMO_TASK)
                finally:
                    annotate_run(Path(target), {"demo": True, "demo_variant": app.variant})
        problem = verify_demo_order(app.state())
    return result, problem


def demo_command(
    *,
    headed: bool = False,
    model: str | None = None,
    record: Path | None = None,
    json_output: bool = False,
    verbose: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`screenloop demo`; returns the exit status."""
    from agent.demo import DEMO_SECRETS, DEMO_TASK

    out = out or sys.stdout
    err = err or sys.stderr
    console = Console(file=err if json_output else out, highlight=False, soft_wrap=True)
    err_console = Console(file=err, highlight=False, soft_wrap=True)
    setup_logging(verbose, secrets=dict(DEMO_SECRETS), stream=err)
    live = LiveView(
        Console(file=out, highlight=False),
        DEMO_TASK,
        enabled=out.isatty() and not json_output,
        max_steps=None,
    )
    try:
        outcome, sig = asyncio.run(
            run_cancellable(run_demo(headed=headed, model=model, run_dir=record, live=live))
        )
    except Exception as exc:
        err_console.print(f"error: {type(exc).__name__}: {exc}", markup=False)
        logger.debug("demo failed", exc_info=True)
        return exit_code_for_exception(exc)
    if sig is not None or outcome is None:
        return signal_exit_code(sig) if sig is not None else ExitCode.ERROR
    result, problem = outcome
    code = exit_code_for_status(result.status, result.error)
    if code == ExitCode.COMPLETED and problem is not None:
        code = ExitCode.ERROR
    print_result(
        result,
        code,
        json_output=json_output,
        out=out,
        console=console,
        extra={"order_confirmed": problem is None, "order_problem": problem},
    )
    if problem is not None:
        err_console.print(f"the shop does not confirm the order: {problem}", markup=False)
    elif not json_output:
        console.print("the shop's state confirms the order.")
    return code
