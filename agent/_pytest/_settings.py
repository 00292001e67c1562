"""Settings of one screenloop test: marker, command line, ini file, environment, defaults.

The closest ``@pytest.mark.screenloop(...)`` wins over the command line, which
wins over the ini file; the base URL and key come from the environment when
not given (see agent/_api/_provider.py). Also where a test's run directory and
cassette live.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agent._errors import ConfigurationError
from agent._pytest._cassette import RECORD_MODES, RecordMode, ScreenMatch

__all__ = [
    "DEFAULT_MODEL",
    "ScreenloopSettings",
    "cassette_path_for",
    "default_record_mode",
    "marker_kwargs",
    "option",
    "resolve_settings",
    "run_dir_name",
]

DEFAULT_MODEL = "tzafon.northstar-cua-fast"
DEFAULT_DISPLAY = (1280, 720)
DEFAULT_RUN_ROOT = "runs/pytest"
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
        "check_threshold",
    }
)


def default_record_mode(env: Mapping[str, str] | None = None) -> RecordMode:
    """``none`` when the ``CI`` variable is set (and not 0/false), else ``once``."""
    value = (os.environ if env is None else env).get("CI", "").strip().lower()
    return "none" if value not in ("", "0", "false", "no") else "once"


@dataclass
class ScreenloopSettings:
    """Everything the fixtures need for one test, resolved."""

    model: str = DEFAULT_MODEL
    base_url: str | None = None
    record: RecordMode = "once"
    heal: bool = False
    headed: bool = False
    run_root: Path = Path(DEFAULT_RUN_ROOT)
    threshold: ScreenMatch = field(default_factory=ScreenMatch)
    url: str | None = None
    display: tuple[int, int] = DEFAULT_DISPLAY
    max_steps: int = 30
    launch: list[list[str]] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    safety: str = "deny"
    coordinate_space: str | None = None
    history: str = "server"
    instructions: str | None = None


def option(config: pytest.Config, name: str) -> Any:
    """The command-line value of `name`, else its ini value, else None."""
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
    record = option(config, "screenloop-record") or default_record_mode()
    if record not in RECORD_MODES:
        raise ConfigurationError(
            f"--screenloop-record must be one of {RECORD_MODES}, got {record!r}"
        )
    root = Path(option(config, "screenloop-run-dir") or DEFAULT_RUN_ROOT)
    if not root.is_absolute():
        root = Path(config.rootpath) / root
    threshold = ScreenMatch.parse(
        mark.get("threshold", option(config, "screenloop-threshold")),
        mark.get("check_threshold", option(config, "screenloop-check-threshold")),
    )
    settings = ScreenloopSettings(
        model=str(mark.get("model") or option(config, "screenloop-model") or DEFAULT_MODEL),
        base_url=option(config, "screenloop-base-url"),
        record=record,
        heal=bool(config.getoption("screenloop_heal", default=False))
        or _truthy(config.getini("screenloop_heal")),
        headed=bool(config.getoption("screenloop_headed", default=False))
        or _truthy(config.getini("screenloop_headed")),
        run_root=root,
        threshold=threshold,
        url=mark.get("url"),
        display=_parse_display(
            mark.get("display") or option(config, "screenloop-display") or DEFAULT_DISPLAY
        ),
        max_steps=int(mark.get("max_steps") or option(config, "screenloop-max-steps") or 30),
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
