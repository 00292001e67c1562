"""Support for the serve-computers tests: their traffic checked against the SDK's types.

The official SDK (``tzafon``) is the oracle: every request body must be the
SDK's param TypedDict for its route (no field it does not name), every answer
its response model (no field it does not name, recursively).
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any

import pydantic
from tzafon import types as t
from tzafon._models import BaseModel as SDKModel

from agent._computers_server import Exchange

# route (as the server records it) -> the SDK's request TypedDict
REQUEST_TYPES: dict[str, Any] = {
    "computers": t.ComputerCreateParams,
    "computers/{id}/batch": t.ComputerBatchParams,
    "computers/{id}/execute": t.ComputerExecuteParams,
    "computers/{id}/click": t.ComputerClickParams,
    "computers/{id}/double-click": t.ComputerDoubleClickParams,
    "computers/{id}/right-click": t.ComputerRightClickParams,
    "computers/{id}/drag": t.ComputerDragParams,
    "computers/{id}/mouse-down": t.ComputerMouseDownParams,
    "computers/{id}/mouse-up": t.ComputerMouseUpParams,
    "computers/{id}/type": t.ComputerTypeParams,
    "computers/{id}/hotkey": t.ComputerHotkeyParams,
    "computers/{id}/key-down": t.ComputerKeyDownParams,
    "computers/{id}/key-up": t.ComputerKeyUpParams,
    "computers/{id}/scroll": t.ComputerScrollParams,
    "computers/{id}/navigate": t.ComputerNavigateParams,
    "computers/{id}/screenshot": t.ComputerScreenshotParams,
}


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and typing.is_typeddict(tp)


def _item_type(tp: Any) -> Any:
    """The element type of Iterable[X] / SequenceNotStr[X] / list[X], else None."""
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        for arg in typing.get_args(tp):
            found = _item_type(arg)
            if found is not None:
                return found
        return None
    if origin is not None and isinstance(origin, type) and issubclass(origin, Iterable):
        args = typing.get_args(tp)
        return args[0] if args else None
    return None


def check_typed(value: Any, td: Any, where: str) -> None:
    """`value` is the TypedDict `td`: only its keys, each of its type (recursively)."""
    assert isinstance(value, dict), f"{where}: not an object: {value!r}"
    hints = typing.get_type_hints(td)
    extra = set(value) - set(hints)
    assert not extra, f"{where}: fields the SDK does not name: {sorted(extra)}"
    for name, field_value in value.items():
        hint = hints[name]
        inner = _item_type(hint)
        if _is_typeddict(hint):
            check_typed(field_value, hint, f"{where}.{name}")
        elif inner is not None and _is_typeddict(inner):
            assert isinstance(field_value, list), f"{where}.{name}: not a list"
            for i, item in enumerate(field_value):
                check_typed(item, inner, f"{where}.{name}[{i}]")
        else:
            pydantic.TypeAdapter(hint).validate_python(field_value, strict=False)


def check_model(value: Any, model: type[SDKModel], where: str) -> None:
    """`value` is the SDK model `model`: only its fields, valid (recursively for models)."""
    assert isinstance(value, dict), f"{where}: not an object: {value!r}"
    extra = set(value) - set(model.model_fields)
    assert not extra, f"{where}: fields the SDK does not name: {sorted(extra)}"
    model.model_validate(value)
    for name, info in model.model_fields.items():
        sub = [a for a in typing.get_args(info.annotation) if isinstance(a, type)]
        for candidate in sub:
            if issubclass(candidate, SDKModel) and isinstance(value.get(name), dict):
                check_model(value[name], candidate, f"{where}.{name}")


def check_exchange(ex: Exchange) -> None:
    """One request and its answer, against the SDK's types."""
    where = f"{ex.method} /{ex.route} -> {ex.status}"
    if ex.status >= 400:
        assert set(ex.response) == {"error"}, where
        return
    if ex.method == "POST":
        if ex.route == "computers/{id}/keepalive":
            assert ex.request == {}, where
        else:
            check_typed(ex.request, REQUEST_TYPES[ex.route], where)
    if ex.route == "computers":
        if ex.method == "GET":
            pydantic.TypeAdapter(t.ComputerListResponse).validate_python(ex.response)
            for item in ex.response:
                check_model(item, t.ComputerResponse, where)
        else:
            check_model(ex.response, t.ComputerResponse, where)
    elif ex.route == "computers/{id}":
        if ex.method == "DELETE":
            assert ex.status == 204 and ex.response is None, where
        else:
            check_model(ex.response, t.ComputerResponse, where)
    elif ex.route == "computers/{id}/keepalive":
        pydantic.TypeAdapter(t.ComputerKeepaliveResponse).validate_python(ex.response)
    elif ex.route == "computers/{id}/batch":
        pydantic.TypeAdapter(t.ComputerBatchResponse).validate_python(ex.response)
        for i, result in enumerate(ex.response["results"]):
            check_model(result, t.ActionResult, f"{where} results[{i}]")
    else:
        check_model(ex.response, t.ActionResult, where)


def check_exchanges(exchanges: list[Exchange]) -> set[str]:
    """Check every exchange; returns the routes seen."""
    assert exchanges
    for ex in exchanges:
        check_exchange(ex)
    return {f"{ex.method} /{ex.route}" for ex in exchanges}
