"""Seed 004's converters and error renderer against golden JSON copied from the seed."""

from __future__ import annotations

from datetime import UTC, datetime

from assay.api.dialects.projects import errors, translate
from assay.api.dialects.projects.schemas import EvalBody
from assay.core.errors import Conflict, NotFound, ValidationFailed
from assay.services.connectors import ConnectorView
from assay.services.evals import EvalView
from assay.services.simulations import ScenarioView

CREATED = datetime(2026, 1, 28, 10, 0, tzinfo=UTC)

GOLDEN_EXPANDED = {
    "id": "987fcdeb-51a2-3bc4-d567-890123456789",
    "name": "Booking Cancellation Test",
    "connectorId": "connector-uuid",
    "scenarioIds": ["scenario-uuid-1", "scenario-uuid-2"],
    "scenarios": [
        {
            "id": "scenario-uuid-1",
            "name": "Booking Cancellation",
            "instructions": "Customer needs to cancel",
            "maxMessages": 10,
            "successCriteria": "Agent confirms cancellation",
            "failureCriteria": "Agent fails to process",
        },
        {
            "id": "scenario-uuid-2",
            "name": "Booking Modification",
            "instructions": "Customer needs to change date",
            "maxMessages": 10,
        },
    ],
    "connector": {
        "id": "connector-uuid",
        "name": "My Agent",
        "type": "langgraph",
        "baseUrl": "https://api.example.com",
    },
    "createdAt": "2026-01-28T10:00:00.000Z",
    "updatedAt": "2026-01-28T10:00:00.000Z",
}


def _scenario(id_: str, name: str, instructions: str, **criteria: str) -> ScenarioView:
    return ScenarioView(
        id=id_,
        name=name,
        instructions=instructions,
        max_messages=10,
        success_criteria=criteria.get("success"),
        failure_criteria=criteria.get("failure"),
        persona_ids=["p"],
        created_at=CREATED,
        updated_at=CREATED,
    )


def test_expanded_eval_matches_the_seed():
    view = EvalView(
        id="987fcdeb-51a2-3bc4-d567-890123456789",
        project_id="project",
        name="Booking Cancellation Test",
        connector_id="connector-uuid",
        scenario_ids=["scenario-uuid-1", "scenario-uuid-2"],
        created_at=CREATED,
        updated_at=CREATED,
        scenarios=[
            _scenario(
                "scenario-uuid-1",
                "Booking Cancellation",
                "Customer needs to cancel",
                success="Agent confirms cancellation",
                failure="Agent fails to process",
            ),
            _scenario("scenario-uuid-2", "Booking Modification", "Customer needs to change date"),
        ],
        connector=ConnectorView(
            id="connector-uuid",
            project_id="project",
            name="My Agent",
            type="langgraph",
            base_url="https://api.example.com",
            config={"assistant_id": "a"},
            headers={},
            has_credentials=True,
            created_at=CREATED,
            updated_at=CREATED,
        ),
    )
    wire = translate.eval_response_from_view(view)
    assert wire.model_dump(mode="json", by_alias=True, exclude_none=True) == GOLDEN_EXPANDED
    plain = translate.eval_response_from_view(
        view.model_copy(update={"scenarios": None, "connector": None})
    )
    assert plain.model_dump(mode="json", by_alias=True, exclude_none=True) == {
        k: v for k, v in GOLDEN_EXPANDED.items() if k not in ("scenarios", "connector")
    }


def test_an_update_body_keeps_only_the_fields_sent():
    body = EvalBody.model_validate({"name": "Updated Eval Name", "scenarioIds": ["a", "b"]})
    fields = translate.eval_fields_from_request(body)
    assert fields.model_fields_set == {"name", "scenario_ids"}
    assert fields.scenario_ids == ["a", "b"]


def test_kind_records_are_camel_cased_but_ids_are_kept():
    data = {
        "latency_ms": 1,
        "tool_calls": [{"name": "x"}],
        "cells": {"a_b": 1, "5f0c-uuid": {"pass_rate": 1}},
    }
    assert translate.camel_keys(data) == {
        "latencyMs": 1,
        "toolCalls": [{"name": "x"}],
        "cells": {"aB": 1, "5f0c-uuid": {"passRate": 1}},
    }
    assert translate.snake_keys({"assistantId": "a", "requestTemplate": {"user_input": 1}}) == {
        "assistant_id": "a",
        "request_template": {"user_input": 1},
    }


def test_tool_call_arguments_are_the_agents_and_keep_their_keys():
    turn = {
        "tool_calls": [
            {"name": "cancel", "arguments": {"booking_id": "B1", "opts": {"dry_run": True}}}
        ]
    }
    assert translate.camel_keys([turn]) == [
        {
            "toolCalls": [
                {"name": "cancel", "arguments": {"booking_id": "B1", "opts": {"dry_run": True}}}
            ]
        }
    ]


def test_errors_render_in_the_seeds_envelope():
    required = ValidationFailed.for_field(("scenario_ids",), "is required", "missing")
    assert errors.render(required) == (400, {"error": "At least one Scenario ID is required"})
    empty = ValidationFailed.for_field(("scenario_ids",), "cannot be empty", "empty")
    assert errors.render(empty) == (400, {"error": "scenarioIds cannot be empty"})
    connector = ValidationFailed.for_field(("connector_id",), "is required", "missing")
    assert errors.render(connector) == (400, {"error": "Connector ID is required"})
    nested = ValidationFailed.for_field(
        ("body", "config", "assistant_id"), "is required", "missing"
    )
    assert errors.render(nested) == (400, {"error": "config.assistantId is required"})
    assert errors.render(NotFound("Eval not found")) == (404, {"error": "Eval not found"})
    assert errors.render(Conflict("in use")) == (409, {"error": "in use"})
    assert errors.render(ValidationFailed("Scenario 'x' has no personas")) == (
        400,
        {"error": "Scenario 'x' has no personas"},
    )
