"""Command-line options stated once: a dataclass whose fields carry typer's parameter info.

A command's options are a dataclass; each field that is a command-line
parameter is ``Annotated[type, typer.Option(...)]`` (or ``typer.Argument``)
with its default. `typer_command` turns the dataclass and a handler
``handler(options) -> exit status`` into the function typer registers, so
the flags, their help and defaults, and the options the handler reads are one
list. Fields without typer info (``runs_root``) are settings the CLI does not
expose.

Allowed values come from the `Literal` types of the library (`choices`), so
the CLI's help and checks cannot drift from what the library accepts.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

import typer
from typer.models import ParameterInfo

from agent._errors import ConfigurationError

__all__ = ["choice_list", "choices", "one_of", "parse_secrets", "typer_command"]

Opts = TypeVar("Opts")


def choices(literal: Any) -> tuple[str, ...]:
    """The values of a ``Literal[...]`` type: ``("deny", "ask", "allow")``."""
    return tuple(str(v) for v in get_args(literal))


def choice_list(literal: Any, sep: str = " | ") -> str:
    """The values of a ``Literal[...]`` type for a help text: ``deny | ask | allow``."""
    return sep.join(choices(literal))


def one_of(literal: Any) -> str:
    """The values of a ``Literal[...]`` type in words: ``deny, ask or allow``."""
    *head, last = choices(literal)
    return f"{', '.join(head)} or {last}" if head else last


def _typer_info(hint: Any) -> ParameterInfo | None:
    if get_origin(hint) is not None and hasattr(hint, "__metadata__"):
        return next((m for m in hint.__metadata__ if isinstance(m, ParameterInfo)), None)
    return None


def typer_command(options_type: type[Opts], handler: Callable[[Opts], int]) -> Callable[..., None]:
    """The typer command function for `options_type`: it builds the options and runs `handler`.

    Its signature holds the dataclass's typer-annotated fields in order, so
    typer derives the flags, help and defaults from the dataclass alone.
    """
    hints = get_type_hints(options_type, include_extras=True)
    parameters = []
    own = vars(options_type).get("__annotations__", {})
    # the class's own fields first, then those it inherits (groups of flags kept elsewhere)
    fields = sorted(dataclasses.fields(options_type), key=lambda f: f.name not in own)  # type: ignore[arg-type]
    for field in fields:
        hint = hints[field.name]
        if _typer_info(hint) is None:
            continue
        if field.default is not dataclasses.MISSING:
            default: Any = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = inspect.Parameter.empty
        parameters.append(
            inspect.Parameter(
                field.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hint
            )
        )

    def command(**values: Any) -> None:
        raise typer.Exit(handler(options_type(**values)))

    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return command


def parse_secrets(items: Sequence[str], env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``NAME=VALUE`` or ``NAME`` (the value of environment variable NAME) -> a dict."""
    environ = os.environ if env is None else env
    secrets: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not name:
            raise ConfigurationError(f"--secret needs NAME=VALUE or NAME, got {item!r}")
        if not sep:
            if name not in environ:
                raise ConfigurationError(
                    f"--secret {name}: no environment variable {name} (or pass {name}=VALUE)"
                )
            value = environ[name]
        secrets[name] = value
    return secrets
