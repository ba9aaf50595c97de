"""Every string a request can carry has a maximum length, and it fits the column it is stored in.

A name longer than its ``String(200)`` column is refused by PostgreSQL with a 500; SQLite
stores it silently. The API must refuse it first, on both, with a message naming the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import String

from assay.api.app import create_app
from assay.api.dialects.eval_runs import schemas as eval_runs
from assay.api.dialects.projects import schemas as projects
from assay.api.v1.agents import AgentCreate
from assay.api.v1.evaluations import EvaluationCreate
from assay.api.v1.harnesses import HarnessCreate
from assay.core.text import TEXT_MAX, URL_MAX
from assay.store import tables
from tests.factories import make_settings

#: (request model, field, table, column) for every request field that is stored as it is.
STORED_FIELDS: list[tuple[type[BaseModel], str, type[tables.Base], str]] = [
    (AgentCreate, "id", tables.Agent, "id"),
    (AgentCreate, "kind", tables.Agent, "kind"),
    (AgentCreate, "name", tables.Agent, "name"),
    (HarnessCreate, "id", tables.Harness, "id"),
    (HarnessCreate, "name", tables.Harness, "name"),
    (HarnessCreate, "description", tables.Harness, "description"),
    (EvaluationCreate, "name", tables.Evaluation, "name"),
    (EvaluationCreate, "agent_id", tables.Evaluation, "agent_id"),
    (EvaluationCreate, "webhook_url", tables.Evaluation, "webhook_url"),
    (eval_runs.EvalRunInput, "name", tables.Evaluation, "name"),
    (eval_runs.EvalRunInput, "agent_id", tables.Evaluation, "agent_id"),
    (eval_runs.EvalRunInput, "team_id", tables.Evaluation, "agent_id"),
    (eval_runs.UpdateEvalRunRequest, "name", tables.Evaluation, "name"),
    (projects.ProjectBody, "name", tables.Project, "name"),
    (projects.ConnectorBody, "name", tables.Connector, "name"),
    (projects.ConnectorBody, "type", tables.Connector, "type"),
    (projects.ConnectorBody, "base_url", tables.Connector, "base_url"),
    (projects.PersonaBody, "name", tables.Persona, "name"),
    (projects.PersonaBody, "description", tables.Persona, "description"),
    (projects.ScenarioBody, "name", tables.Scenario, "name"),
    (projects.ScenarioBody, "instructions", tables.Scenario, "instructions"),
    (projects.ScenarioBody, "success_criteria", tables.Scenario, "success_criteria"),
    (projects.ScenarioBody, "failure_criteria", tables.Scenario, "failure_criteria"),
    (projects.EvalBody, "name", tables.ProjectEval, "name"),
    (projects.EvalBody, "connector_id", tables.ProjectEval, "connector_id"),
    (projects.RunsBody, "webhook_url", tables.Evaluation, "webhook_url"),
]


def _max_length(model: type[BaseModel], field: str) -> int | None:
    schema = model.model_json_schema()
    alias = model.model_fields[field].alias or field
    prop = schema["properties"][alias]
    for variant in prop.get("anyOf", [prop]):
        if variant.get("type") == "string":
            return int(variant["maxLength"]) if "maxLength" in variant else None
    raise AssertionError(f"{model.__name__}.{field} is not a string")


@pytest.mark.parametrize(
    ("model", "field", "table", "column"),
    STORED_FIELDS,
    ids=[f"{m.__name__}.{f}" for m, f, _, _ in STORED_FIELDS],
)
def test_each_stored_field_fits_its_column(
    model: type[BaseModel], field: str, table: type[tables.Base], column: str
):
    limit = _max_length(model, field)
    column_type = table.__table__.c[column].type
    assert limit is not None, f"{model.__name__}.{field} has no max length"
    if isinstance(column_type, String) and column_type.length is not None:
        assert limit <= column_type.length, (limit, column_type.length)
    else:
        assert limit <= max(TEXT_MAX, URL_MAX)


def _unbounded_strings(schema: dict[str, Any], defs: dict[str, Any], where: str) -> list[str]:
    """Places under ``schema`` where a string has no ``maxLength`` (enums are bounded)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _unbounded_strings(defs[name], defs, f"{where}<{name}>")
    found: list[str] = []
    if schema.get("type") == "string" and "maxLength" not in schema and "enum" not in schema:
        found.append(where)
    for variant in schema.get("anyOf", []) + schema.get("allOf", []):
        found += _unbounded_strings(variant, defs, where)
    for name, prop in schema.get("properties", {}).items():
        found += _unbounded_strings(prop, defs, f"{where}.{name}")
    for key in ("items", "additionalProperties", "propertyNames"):
        if isinstance(schema.get(key), dict):
            found += _unbounded_strings(schema[key], defs, f"{where}[{key}]")
    return found


def test_every_string_in_every_request_body_has_a_max_length(tmp_path: Path):
    doc = create_app(make_settings(tmp_path)).openapi()
    defs = doc["components"]["schemas"]
    unbounded = []
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                unbounded += _unbounded_strings(body["schema"], defs, f"{method} {path}")
    assert unbounded == []
