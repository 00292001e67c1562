"""Check JSON against the official SDK's (``tzafon``) TypedDicts and pydantic models.

`deviations(type, value)` walks `value` along the SDK type and returns every
place they disagree, as ``path: what`` strings: a missing required key, a key
the SDK type does not name (its TypedDicts allow extra items, so pydantic alone
would not notice a key screenloop invents or the SDK drops), a value outside a
``Literal``, a wrong JSON type. For a union it reports the member that fits
best (fewest deviations), so a message says where the drift is.

Paths use ``[]`` for list elements (``input[].output.type``) so a test can
compare the set of deviations with the documented ones.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel

__all__ = ["deviations"]

_LIST_ORIGINS = (
    list,
    collections.abc.Iterable,
    collections.abc.Sequence,
    collections.abc.Collection,
)


def _unwrap(tp: Any) -> Any:
    """Required[X], NotRequired[X], Annotated[X, ...] -> X."""
    while True:
        origin = get_origin(tp)
        if origin is typing.Annotated or getattr(origin, "_name", None) in (
            "Required",
            "NotRequired",
        ):
            tp = get_args(tp)[0]
            continue
        name = getattr(origin, "__qualname__", "") or getattr(tp, "__qualname__", "")
        if name in ("Required", "NotRequired") and get_args(tp):
            tp = get_args(tp)[0]
            continue
        return tp


def _marker(hint: Any) -> str:
    """``Required`` / ``NotRequired`` when `hint` is wrapped in one, else ``""``."""
    origin = get_origin(hint)
    name = getattr(origin, "_name", None) or getattr(origin, "__name__", None)
    return name if name in ("Required", "NotRequired") else ""


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def _fields(tp: Any) -> tuple[dict[str, Any], set[str]] | None:
    """The keys (with types) and required keys of a TypedDict or pydantic model."""
    if _is_typeddict(tp):
        # the SDK's modules use string annotations, so __required_keys__ is not filled in:
        # read Required[...] / NotRequired[...] from the resolved hints
        hints = get_type_hints(tp, include_extras=True)
        total = getattr(tp, "__total__", True)
        required = {k for k, h in hints.items() if _marker(h) == "Required"}
        if total:
            required |= {k for k, h in hints.items() if _marker(h) != "NotRequired"}
        return hints, required
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        hints = {name: f.annotation for name, f in tp.model_fields.items()}
        return hints, {name for name, f in tp.model_fields.items() if f.is_required()}
    return None


def deviations(tp: Any, value: Any, path: str = "") -> list[str]:
    """Where `value` (parsed JSON) departs from the SDK type `tp`; empty when it fits."""
    tp = _unwrap(tp)
    here = path or "<root>"
    if tp is Any or tp is object:
        return []
    if tp is None or tp is type(None):
        return [] if value is None else [f"{here}: expected null"]
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        best: list[str] | None = None
        for member in get_args(tp):
            found = deviations(member, value, path)
            if not found:
                return []
            if best is None or len(found) < len(best):
                best = found
        return best or [f"{here}: fits no member of {tp}"]
    if origin is Literal:
        return [] if value in get_args(tp) else [f"{here}: {value!r} not in {get_args(tp)}"]
    fields = _fields(tp)
    if fields is not None:
        if not isinstance(value, dict):
            return [f"{here}: expected an object for {tp.__name__}"]
        hints, required = fields
        out = [f"{here}.{key}: missing (required)" for key in sorted(required - set(value))]
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            if key not in hints:
                out.append(f"{sub}: not in {tp.__name__}")
            else:
                out.extend(deviations(hints[key], item, sub))
        return out
    if origin in (dict, collections.abc.Mapping) or tp is dict:
        if not isinstance(value, dict):
            return [f"{here}: expected an object"]
        args = get_args(tp)
        vt = args[1] if len(args) == 2 else Any
        return [d for k, v in value.items() for d in deviations(vt, v, f"{path}.{k}")]
    if origin in _LIST_ORIGINS or tp is list or getattr(tp, "__name__", "") == "SequenceNotStr":
        if not isinstance(value, list):
            return [f"{here}: expected an array"]
        args = get_args(tp)
        et = args[0] if args else Any
        return [d for v in value for d in deviations(et, v, f"{path}[]")]
    if tp is str:
        return [] if isinstance(value, str) else [f"{here}: expected a string"]
    if tp is bool:
        return [] if isinstance(value, bool) else [f"{here}: expected a boolean"]
    if tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{here}: expected an integer, got {value!r}"]
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{here}: expected a number"]
    return [f"{here}: no rule for {tp!r}"]
