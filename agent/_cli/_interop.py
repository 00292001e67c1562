"""`screenloop run`'s flags for a browser it did not launch and for the dialect's wire choices.

The flags are stated here as ``Annotated`` types that `RunOptions` fields use
(agent/_cli/_options.py reads them), so the shared run module stays small.

- ``--cdp-url`` / ``--ws-endpoint``: a fresh context in a Chromium someone else
  started (DevTools URL; Playwright browser server endpoint). What run.json
  records of it is the protocol and the origin, never the path or query (a
  grid's endpoint often carries a token there).
- ``--tool-type``, ``--environment-name``, ``--output-type``: the computer
  tool's type, the name its environment gives the computer, the screenshot
  type of computer_call_output (see `agent._api._profiles.with_wire`).
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol
from urllib.parse import urlsplit

import typer

from agent._api._profiles import ENVIRONMENT_NAMES, LIGHTCONE, OUTPUT_TYPES, TOOL_TYPES, with_wire
from agent._errors import ConfigurationError

__all__ = [
    "CdpUrlOption",
    "EnvironmentNameOption",
    "OutputTypeOption",
    "ToolTypeOption",
    "WsEndpointOption",
    "check_interop",
    "check_remote_browser",
    "remote_browser_info",
]

CdpUrlOption = Annotated[
    str | None,
    typer.Option(
        "--cdp-url",
        help="Browser run on a Chromium you started with --remote-debugging-port, by its "
        "DevTools URL (http://127.0.0.1:9222); a fresh context is opened in it.",
        show_default=False,
    ),
]
WsEndpointOption = Annotated[
    str | None,
    typer.Option(
        "--ws-endpoint",
        help="Browser run on a Playwright browser server (launch_server, `playwright "
        "run-server`), by its ws:// endpoint.",
        show_default=False,
    ),
]
ToolTypeOption = Annotated[
    str | None,
    typer.Option(
        help=f"The computer tool's type: {' | '.join(TOOL_TYPES)} (default: the dialect's).",
        show_default=False,
    ),
]
EnvironmentNameOption = Annotated[
    str | None,
    typer.Option(
        help="What the computer tool's environment calls this computer: "
        f"{' | '.join(ENVIRONMENT_NAMES)} (default: the dialect's).",
        show_default=False,
    ),
]
OutputTypeOption = Annotated[
    str | None,
    typer.Option(
        help=f"The screenshot type in computer_call_output: {' | '.join(OUTPUT_TYPES)} "
        "(default: the dialect's).",
        show_default=False,
    ),
]


class InteropOptions(Protocol):
    """The `RunOptions` fields this module checks."""

    @property
    def cdp_url(self) -> str | None: ...
    @property
    def ws_endpoint(self) -> str | None: ...
    @property
    def tool_type(self) -> str | None: ...
    @property
    def environment_name(self) -> str | None: ...
    @property
    def output_type(self) -> str | None: ...
    @property
    def desktop(self) -> bool: ...
    @property
    def x_display(self) -> str | None: ...
    @property
    def host_desktop(self) -> bool: ...
    @property
    def headed(self) -> bool: ...


def check_interop(opts: InteropOptions) -> None:
    """Check the remote-browser and wire flags before anything starts (usage errors)."""
    desktop = opts.desktop or bool(opts.x_display) or opts.host_desktop
    check_remote_browser(opts.cdp_url, opts.ws_endpoint, desktop=desktop, headed=opts.headed)
    with_wire(
        LIGHTCONE,
        "desktop" if desktop else "browser",
        tool_type=opts.tool_type,
        environment_name=opts.environment_name,
        output_type=opts.output_type,
    )


def check_remote_browser(
    cdp_url: str | None, ws_endpoint: str | None, *, desktop: bool, headed: bool
) -> None:
    """Refuse ``--cdp-url`` with ``--ws-endpoint``, on a desktop run, with ``--headed``,
    or a URL of the wrong scheme."""
    if not (cdp_url or ws_endpoint):
        return
    if cdp_url and ws_endpoint:
        raise ConfigurationError("choose one of --cdp-url and --ws-endpoint")
    if desktop:
        raise ConfigurationError("--cdp-url/--ws-endpoint apply to browser runs only")
    if headed:
        raise ConfigurationError(
            "--headed does not apply to a remote browser (it was started by someone else)"
        )
    for flag, value, schemes in (
        ("--cdp-url", cdp_url, ("http", "https", "ws", "wss")),
        ("--ws-endpoint", ws_endpoint, ("ws", "wss")),
    ):
        if value is None:
            continue
        try:
            parts = urlsplit(value)
            ok = parts.scheme in schemes and bool(parts.hostname)
        except ValueError:
            ok = False
        if not ok:
            shown = value if len(value) < 80 else value[:77] + "..."
            raise ConfigurationError(
                f"{flag} must be a {'/'.join(schemes)} URL with a host, got {shown!r}"
            )


def remote_browser_info(cdp_url: str | None, ws_endpoint: str | None) -> dict[str, Any]:
    """run.json's executor fields for a remote browser: its protocol and origin only."""
    endpoint = cdp_url or ws_endpoint
    if not endpoint:
        return {}
    parts = urlsplit(endpoint)
    origin = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return {"remote": {"protocol": "cdp" if cdp_url else "ws", "endpoint": origin}}
