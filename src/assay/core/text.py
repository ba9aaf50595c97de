r"""Strings and JSON a tenant sends that every database can store and every answer can encode.

Wire schemas type their fields with these instead of bare ``str`` and ``dict``, so one rule
holds everywhere: a string fits its column, and contains neither NUL (PostgreSQL refuses it
in text and JSONB) nor a lone UTF-16 surrogate such as ``"\ud800"`` (JSON lets a client
send one; no database can store it as UTF-8 and no answer can encode it). Breaking the rule
is a validation error that names the field, never a 500 from the driver.

The length tiers match the columns of ``store/tables.py`` (which imports them), and the long
text tier is the documented limit of free text such as descriptions and instructions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

#: Ids clients choose (agents, harnesses) and references to them.
ID_MAX = 200
#: Names of agents, harnesses, projects, connectors, personas and scenarios.
NAME_MAX = 200
#: Organization and workspace slugs.
SLUG_MAX = 100
#: Names of evaluations and seed 004 evals.
LONG_NAME_MAX = 500
#: Kinds and types (`openai-chat`, `langgraph`, ...).
KIND_MAX = 50
#: Generated uuid ids (connectors, personas, scenarios, evals).
UUID_MAX = 36
#: URLs (base URLs, webhook URLs).
URL_MAX = 2048
#: Free text: descriptions, instructions, criteria, prompts, inputs and expected outputs.
TEXT_MAX = 100_000
#: Short free text: model and provider names, header names, tool names.
SHORT_TEXT_MAX = 500
#: The language trait of a persona (`English`, `de`).
LANGUAGE_MAX = 100
#: Credentials (API keys, tokens) given inline.
SECRET_MAX = 10_000
#: Probes in one custom harness.
PROBES_MAX = 1000

#: The largest ``offset`` a list accepts; beyond it a list is empty anyway, and 2**63 breaks
#: every database's integer binding.
OFFSET_MAX = 1_000_000_000
#: The largest ``page`` of a paged list (``page * limit`` stays within ``OFFSET_MAX``).
PAGE_MAX = 1_000_000


def unstorable_reason(value: str) -> str | None:
    """Why ``value`` cannot be stored and sent back as UTF-8, or None when it can."""
    if "\x00" in value:
        return "must not contain NUL characters (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it contains a lone surrogate such as \\ud800)"
    return None


def check_text(value: str) -> str:
    reason = unstorable_reason(value)
    if reason is not None:
        raise ValueError(reason)
    return value


def _json_problem(value: Any, path: str) -> str | None:
    """The first string, key or number inside ``value`` that cannot be stored, described."""
    if isinstance(value, str):
        reason = unstorable_reason(value)
        return f"{path}: {reason}" if reason else None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{path}: must be a finite number"
    if isinstance(value, dict):
        for key, item in value.items():
            key_reason = unstorable_reason(str(key))
            if key_reason:
                return f"{path}: key {key_reason}"
            problem = _json_problem(item, f"{path}.{key}")
            if problem:
                return problem
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = _json_problem(item, f"{path}.{index}")
            if problem:
                return problem
    return None


def check_json(value: Any) -> Any:
    problem = _json_problem(value, "value")
    if problem is not None:
        raise ValueError(problem)
    return value


@dataclass(frozen=True)
class Bounded:
    """``Annotated[str, Bounded(200)]``: a storable string of at most 200 characters.

    The length is checked by pydantic's own string schema (so its messages and the OpenAPI
    ``maxLength`` are the usual ones), then the text itself.
    """

    max_length: int
    min_length: int = 0

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(
            check_text,
            core_schema.str_schema(max_length=self.max_length, min_length=self.min_length or None),
        )


Id = Annotated[str, Bounded(ID_MAX)]
Name = Annotated[str, Bounded(NAME_MAX)]
LongName = Annotated[str, Bounded(LONG_NAME_MAX)]
Kind = Annotated[str, Bounded(KIND_MAX)]
Url = Annotated[str, Bounded(URL_MAX)]
ShortText = Annotated[str, Bounded(SHORT_TEXT_MAX)]
LongText = Annotated[str, Bounded(TEXT_MAX)]
#: A JSON object whose strings (keys too) and numbers every database can store.
JsonObject = Annotated[dict[str, Any], AfterValidator(check_json)]
#: A JSON value (a probe, a list item) with the same guarantee.
JsonValue = Annotated[Any, AfterValidator(check_json)]
