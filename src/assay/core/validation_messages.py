"""Pydantic's validation errors in Assay's own words.

Users see these messages in the CLI and in every API's error body, so they name the field and
say what to do, without the library's wording (``Value error, ...``, ``Input should be a valid
dictionary or instance of RunFile``). An unknown key, usually a typo, gets a "did you mean"
from the keys the model accepts at that place, so ``num_iteratons: 3`` cannot silently run once.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel

#: pydantic error types whose message is replaced, and the replacement.
_PLAIN_MESSAGES = {
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "list_type": "must be a list",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "missing": "is required",
}


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or a list of the known names."""
    choices = sorted(set(known))
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if choices:
        return f" (expected one of: {', '.join(choices)})"
    return ""


def friendly_message(error: Any, model: type[BaseModel] | None = None) -> str:
    """One pydantic error's message in plain words; ``model`` enables key suggestions."""
    kind = str(error.get("type", ""))
    msg = str(error.get("msg", ""))
    if kind == "extra_forbidden":
        loc: Sequence[Any] = error.get("loc", ())
        known = _fields_at(model, list(loc)[:-1]) if model is not None else []
        return "unknown key" + did_you_mean(str(loc[-1]) if loc else "", known)
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "assertion_error":
        return msg.removeprefix("Assertion failed, ")
    return _PLAIN_MESSAGES.get(kind, msg)


def _fields_at(model: type[BaseModel], path: list[Any]) -> list[str]:
    """The field names (and aliases) a model accepts at ``path`` (list indices skipped)."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        nested = _model_in(current)
        if nested is None or str(part) not in nested.model_fields:
            field = next(
                (f for f in (nested.model_fields.values() if nested else ()) if f.alias == part),
                None,
            )
            if field is None:
                return []
            current = field.annotation
        else:
            current = nested.model_fields[str(part)].annotation
    nested = _model_in(current)
    if nested is None:
        return []
    return [f.alias or name for name, f in nested.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (directly, in a list, or in an Optional)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
