"""The evaluation as services hand it to APIs, the CLI and the UI (never an ORM row)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from assay.core.outcome import Outcome, RecordedEvent
from assay.core.spec import EvaluationSpec
from assay.core.states import TERMINAL_ITEM_STATES, EvaluationStatus, ItemState


class ReasonCount(BaseModel):
    """One reason items ended as they did, and how many did."""

    reason: str
    count: int


def describe_infra_errors(reasons: list[ReasonCount]) -> str | None:
    """``66 infra errors: 66 x no answer from ...``: the one wording every surface shows."""
    total = sum(r.count for r in reasons)
    if not total:
        return None
    noun = "infra error" if total == 1 else "infra errors"
    return f"{total} {noun}: " + "; ".join(f"{r.count} x {r.reason}" for r in reasons)


class EvaluationProgress(BaseModel):
    """What a status poll shows: read from a few columns, never the spec or the summary.

    Status routes are polled hard (clients poll every second, dashboards more), and an
    evaluation's spec holds every probe or case it runs: decoding it per poll cost most of a
    status read.
    """

    id: str
    workspace_id: str
    kind: str
    name: str | None
    status: EvaluationStatus
    total_items: int
    error: str | None = None
    #: Why it failed as a stable code (``invalid_api_key``, ``configuration_error``, ...).
    error_code: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    #: Items per state; filled by services that report progress.
    item_counts: dict[str, int] = Field(default_factory=dict)
    #: Why items ended in ``infra_error``, grouped; filled with ``item_counts``.
    infra_errors: list[ReasonCount] = Field(default_factory=list)

    @property
    def infra_error_text(self) -> str | None:
        """The infra errors in words (``2 infra errors: 2 x ...``), None when there are none."""
        return describe_infra_errors(self.infra_errors)

    @property
    def finished_items(self) -> int:
        return sum(n for state, n in self.item_counts.items() if state in TERMINAL_ITEM_STATES)

    @property
    def completed_items(self) -> int:
        """Items that ran to an outcome: finished, but not cancelled before they could."""
        return self.finished_items - self.item_counts.get(ItemState.CANCELLED.value, 0)


class EvaluationView(EvaluationProgress):
    org_id: str
    project_id: str
    collection: str
    agent_id: str | None
    spec: EvaluationSpec
    labels: dict[str, Any] = Field(default_factory=dict)
    summary: dict[str, Any] | None = None
    webhook_url: str | None = None
    updated_at: datetime


class EvaluationPage(BaseModel):
    items: list[EvaluationView]
    total: int


class ItemView(BaseModel):
    """One item of an evaluation as APIs show it: where it is, and what it waits for."""

    id: str
    seq: int
    state: ItemState
    attempts: int
    #: What a waiting item waits for ("review of checkpoint 2"), since when, and until when.
    waiting_for: str | None = None
    waiting_since: datetime | None = None
    resume_after: datetime | None = None
    error: dict[str, Any] | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ItemPage(BaseModel):
    items: list[ItemView]
    total: int


class ItemDetail(ItemView):
    """An item with what it was given and what it produced, for result pages and traces.

    Outcome, error and events are stored redacted: the evaluation's secrets are blanked.
    """

    input: dict[str, Any] = Field(default_factory=dict)
    outcome: Outcome | None = None
    #: What the item logged as it ran (turns, checkpoints) and the events that resumed it.
    events: list[RecordedEvent] = Field(default_factory=list)
    #: What the evaluation's kind shows of the item (``Kind.item_view``), where filled.
    view: dict[str, Any] = Field(default_factory=dict)


class ItemDetailPage(BaseModel):
    items: list[ItemDetail]
    total: int
