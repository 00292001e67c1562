"""`screenloop run` flags for runs that finish and saved logins: checks and `Agent` arguments.

`RunOptions` (agent/_cli/_run.py) holds the flags; this module checks them
(`check_finishing`), maps them to `Agent` keyword arguments (`finishing_kwargs`)
and to the browser's login settings (`browser_logins`). `load_action_rules`
reads a rules file (JSON or YAML, a list of rules or ``{"rules": [...]}``),
for ``--action-rules`` and for task files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from agent._api._json_schema import MAX_SCHEMA_BYTES, json_schema_output
from agent._api._output import OutputSpec
from agent._errors import ConfigurationError
from agent._run._before_action import ActionRule, action_rules

__all__ = [
    "FinishingOptions",
    "browser_logins",
    "check_finishing",
    "finishing_kwargs",
    "load_action_rules",
    "load_output_schema",
    "run_kwargs",
]

_MAX_RULES_FILE_BYTES = 1 << 20


@dataclass(frozen=True, kw_only=True)
class FinishingOptions:
    """The flags of runs that finish and saved logins (`RunOptions` derives from this)."""

    stuck_after: Annotated[
        int,
        typer.Option(
            help="Nudge the model after the same action on an unchanged screen (or a cycle "
            "between two screens) this many times; 0: no stuck detection."
        ),
    ] = 3
    stuck_stop_after: Annotated[
        int, typer.Option(help="Stop with status stuck (exit 4) after this many more repeats.")
    ] = 2
    budget_notice: Annotated[
        float,
        typer.Option(help="Tell the model once at this share of --max-steps; 0: never."),
    ] = 0.8
    text_only: Annotated[
        str | None,
        typer.Option(
            help="complete|nudge: an answer without actions ends the run, or is answered "
            "with 'continue' (default: the provider's).",
            show_default=False,
        ),
    ] = None
    text_only_nudges: Annotated[
        int, typer.Option(help="With --text-only nudge: at most this many 'continue's.")
    ] = 2
    action_rules: Annotated[
        Path | None,
        typer.Option(
            help="A JSON or YAML list of safety rules asked before each action: "
            '[{"match": {"type", "text", "url"}, "then": "skip|stop|message", "text"}].',
            show_default=False,
        ),
    ] = None
    storage_state: Annotated[
        Path | None,
        typer.Option(
            help="Browser run: start with the cookies and local storage of this Playwright "
            "storage-state file (it holds logins: keep it private).",
            show_default=False,
        ),
    ] = None
    save_storage_state: Annotated[
        bool,
        typer.Option(
            "--save-storage-state",
            help="With --storage-state: write the browser's state back to that file at the "
            "end (created if missing, mode 0600).",
        ),
    ] = False
    user_data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Browser run: a persistent Chromium profile directory (kept across runs).",
            show_default=False,
        ),
    ] = None
    output_schema: Annotated[
        Path | None,
        typer.Option(
            help="A JSON Schema file (an object schema): the final answer is asked for as "
            "JSON of it (text.format json_schema), validated and recorded as the output.",
            show_default=False,
        ),
    ] = None


def check_finishing(opts: FinishingOptions, *, browser: bool) -> None:
    """Raise `ConfigurationError` for flags that cannot work together (`browser`: a
    browser run)."""
    if opts.stuck_after == 1 or opts.stuck_after < 0:
        raise ConfigurationError("--stuck-after must be 0 (off) or at least 2")
    if opts.stuck_stop_after < 0 or opts.text_only_nudges < 0:
        raise ConfigurationError("--stuck-stop-after and --text-only-nudges must be >= 0")
    if not 0 <= opts.budget_notice <= 1:
        raise ConfigurationError(f"--budget-notice must be in 0..1, got {opts.budget_notice}")
    if opts.text_only not in (None, "complete", "nudge"):
        raise ConfigurationError(f"--text-only must be complete or nudge, got {opts.text_only!r}")
    browser_only = (opts.storage_state, opts.user_data_dir, opts.save_storage_state)
    if any(browser_only) and not browser:
        raise ConfigurationError(
            "--storage-state/--save-storage-state/--user-data-dir apply to browser runs only"
        )
    if opts.storage_state is not None and opts.user_data_dir is not None:
        raise ConfigurationError("choose --storage-state or --user-data-dir, not both")
    if opts.save_storage_state and opts.storage_state is None:
        raise ConfigurationError("--save-storage-state needs --storage-state FILE to write to")
    state = opts.storage_state
    if state is not None and not opts.save_storage_state and not state.is_file():
        raise ConfigurationError(f"--storage-state {state} is not a file")
    if opts.user_data_dir is not None and opts.user_data_dir.is_file():
        raise ConfigurationError(f"--user-data-dir {opts.user_data_dir} is a file")
    if opts.action_rules is not None:
        load_action_rules(opts.action_rules)
    if opts.output_schema is not None:
        load_output_schema(opts.output_schema)


def load_output_schema(path: Path) -> OutputSpec:
    """The structured-output spec of a JSON Schema file (untrusted: bounded, an object
    schema); `ConfigurationError` otherwise."""
    where = f"--output-schema {path}"
    try:
        with path.open("rb") as f:
            data = f.read(MAX_SCHEMA_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(f"{where}: cannot read it: {exc.strerror}") from None
    if len(data) > MAX_SCHEMA_BYTES:
        raise ConfigurationError(f"{where}: larger than {MAX_SCHEMA_BYTES} bytes")
    try:
        schema = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigurationError(f"{where}: not JSON: {exc}") from None
    return json_schema_output(schema, path.stem, where=where)


def run_kwargs(opts: FinishingOptions) -> dict[str, Any]:
    """The keyword arguments of ``Agent.run`` for these flags (``output_schema``)."""
    if opts.output_schema is None:
        return {}
    return {"output_schema": load_output_schema(opts.output_schema)}


def finishing_kwargs(opts: FinishingOptions) -> dict[str, Any]:
    """The `Agent` keyword arguments of these flags."""
    kwargs: dict[str, Any] = {
        "stuck_after": opts.stuck_after or None,
        "stuck_stop_after": opts.stuck_stop_after,
        "budget_notice_at": opts.budget_notice or None,
        "text_only_nudges": opts.text_only_nudges,
    }
    if opts.text_only is not None:
        kwargs["text_only"] = opts.text_only
    if opts.action_rules is not None:
        kwargs["action_rules"] = load_action_rules(opts.action_rules)
    return kwargs


def browser_logins(opts: FinishingOptions) -> dict[str, Any]:
    """`PlaywrightComputer` keyword arguments for saved logins (paths only, never content)."""
    logins: dict[str, Any] = {}
    if opts.storage_state is not None:
        logins["storage_state"] = opts.storage_state
        if opts.save_storage_state:
            logins["save_storage_state"] = opts.storage_state
    if opts.user_data_dir is not None:
        logins["user_data_dir"] = opts.user_data_dir
    return logins


def load_action_rules(path: Path) -> tuple[ActionRule, ...]:
    """The rules in a JSON or YAML file: a list, or an object with a ``rules`` list."""
    try:
        if path.stat().st_size > _MAX_RULES_FILE_BYTES:
            raise ConfigurationError(f"--action-rules {path} is over 1 MiB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the action rules {path}: {exc}") from None
    data: Any
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path} is not valid YAML: {exc}") from None
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigurationError(f"{path} is not valid JSON: {exc}") from None
    if isinstance(data, dict) and set(data) == {"rules"}:
        data = data["rules"]
    if not isinstance(data, list):
        raise ConfigurationError(f"{path}: the action rules are a list of rules")
    return action_rules(data)
