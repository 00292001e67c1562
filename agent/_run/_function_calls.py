"""The act stage for function calls: run the tool, answer with function_call_output.

An unknown function, bad arguments or an exception in the tool become an error
string for the model (and a `WarningEvent`), never a crash. A call to ``done``
(the built-in tool, or any function of that name) ends the run with its
``result`` as the final output.
"""

from __future__ import annotations

import json

from agent._events import FunctionCalled, WarningEvent
from agent._result import StepRecord
from agent._run._context import RunContext
from agent._run._validate import ParsedFunctionCall
from agent._tools import DONE_TOOL_NAME, ToolOutcome

__all__ = ["call_function"]


async def call_function(
    ctx: RunContext, step: StepRecord, call: ParsedFunctionCall
) -> tuple[ToolOutcome, str | None]:
    """Validate and run one function call; (its outcome, the final output if it was ``done``)."""
    tools = ctx.settings.tools
    tool = next((t for t in tools if t.name == call.name), None)
    final: str | None = None
    if tool is not None:
        outcome = await tool.invoke(call.arguments)
    elif call.name == DONE_TOOL_NAME:
        outcome = ToolOutcome("ok")
    else:
        msg = f"unknown function {call.name!r}; available: {[t.name for t in tools]}"
        outcome = ToolOutcome(f"error: {msg}", error=msg)
    if call.name == DONE_TOOL_NAME and outcome.error is None:
        final = _done_result(call.arguments, outcome.output)
    entry = {
        "call_id": call.call_id,
        "name": call.name,
        "arguments": call.arguments,
        "output": outcome.output,
        "error": outcome.error,
    }
    step.function_calls.append(entry)
    await ctx.emit(FunctionCalled(step.step, **entry))  # type: ignore[arg-type]
    if outcome.error:
        await ctx.emit(WarningEvent(step.step, "function_error", outcome.error))
    return outcome, final


def _done_result(arguments: str, output: str) -> str:
    try:
        args = json.loads(arguments or "{}")
    except ValueError:
        return output
    if isinstance(args, dict):
        for key in ("result", "answer", "text", "summary"):
            if isinstance(args.get(key), str):
                return str(args[key])
    return output
