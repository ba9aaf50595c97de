"""The database tables. Rows are not wire schemas: the API translates them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

from assay.core.text import ID_MAX, KIND_MAX, LONG_NAME_MAX, NAME_MAX, UUID_MAX


class JSONDocument(TypeDecorator[Any]):
    """JSON, stored as JSONB on PostgreSQL.

    What ``JSON().with_variant(JSONB(), "postgresql")`` says, without importing SQLAlchemy's
    PostgreSQL dialect (15 ms) in a process that never talks to PostgreSQL.
    """

    impl = JSON
    cache_ok = True
    # As JSON's: None is stored as JSON null, and values are not hashed (dicts are not).
    should_evaluate_none = True
    hashable = False

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


JSONType = JSONDocument()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use datetime.now(UTC)")
        return (
            value.astimezone(UTC)
            if dialect.name == "postgresql"
            else value.astimezone(UTC).replace(tzinfo=None)
        )

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONType, list[Any]: JSONType, datetime: UTCDateTime}


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The key webhook deliveries are signed with, encrypted; created on first need.
    webhook_secret_enc: Mapped[str | None] = mapped_column(Text, default=None)


class Workspace(Base):
    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("org_id", "slug"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("workspace_id", "slug"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The models that simulate users and judge conversations (seed 004); None: the server's.
    llm_settings: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    #: The API key of those models, encrypted; never shown back.
    llm_api_key_enc: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("org_id", "email"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An API key; only its SHA-256 is stored (keys are 256-bit random, so a fast hash is safe)."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    workspace_id: Mapped[str | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The person the key belongs to (a reviewer verifies as them); None: a service key.
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE", name="fk_api_keys_user_id"), default=None
    )


class Agent(Base):
    """A registered target of one workspace, or of the whole organization (``workspace_id`` None).

    Ids are chosen by clients and unique per organization, across its workspaces, so an id
    names one agent for every key that can see it and no workspace can shadow another's.
    """

    __tablename__ = "agents"
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(ID_MAX), primary_key=True)
    workspace_id: Mapped[str | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE", name="fk_agents_workspace_id"),
        default=None,
        index=True,
    )
    workspace: Mapped[Workspace | None] = relationship(lazy="joined")
    kind: Mapped[str] = mapped_column(String(KIND_MAX))
    name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secrets_enc: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Evaluation(Base):
    __tablename__ = "evaluations"
    __table_args__ = (
        Index("ix_evaluations_org_created", "org_id", "created_at"),
        Index("ix_evaluations_status", "status"),
        Index("ix_evaluations_org_status", "org_id", "status"),
    )
    #: A uuid, or ``eval-{uuid}`` for the native API.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(KIND_MAX))
    name: Mapped[str | None] = mapped_column(String(LONG_NAME_MAX))
    #: Which API created it and where it files it, e.g. "eval_runs:assay/eval_runs".
    collection: Mapped[str] = mapped_column(String(200), default="native")
    agent_id: Mapped[str | None] = mapped_column(String(ID_MAX))
    spec: Mapped[dict[str, Any]] = mapped_column()
    #: Fields a dialect must echo back that the core does not use (team_id, workflow_id, ...).
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(30))
    total_items: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    #: Why it failed, as a stable code (``invalid_api_key``, ``configuration_error``, ...).
    error_code: Mapped[str | None] = mapped_column(String(100), default=None)
    webhook_url: Mapped[str | None] = mapped_column(Text, default=None)
    secrets_enc: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)


class Item(Base):
    """One unit of work. ``attempts`` counts claims and lives outside the kind's code."""

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_state_lease", "state", "lease_expires_at"),
        Index("ix_items_evaluation_seq", "evaluation_id", "seq"),
        Index("ix_items_evaluation_state", "evaluation_id", "state"),
        Index("ix_items_state_resume", "state", "resume_after"),
        #: The claim's order: the next queued items are read off the index, never sorted.
        Index("ix_items_queue", "state", "created_at", "evaluation_id", "seq"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    evaluation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("evaluations.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    input: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    error: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    #: What a suspended item saved for its next run (the kind's own JSON).
    saved_state: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    #: What a waiting item waits for, in words ("review of checkpoint 2").
    waiting_for: Mapped[str | None] = mapped_column(String(200), default=None)
    waiting_since: Mapped[datetime | None] = mapped_column(default=None)
    #: When a waiting item is resumed without its event (its wait deadline).
    resume_after: Mapped[datetime | None] = mapped_column(default=None)
    #: ``attempts`` at the last suspension: only claims since then count against max_attempts.
    attempt_base: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Harness(Base):
    """A custom harness: a workspace's (or, ``workspace_id`` None, the organization's) probes.

    Referenced by id like a built-in name; ids and names are unique per organization, as
    agent ids are.
    """

    __tablename__ = "harnesses"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(ID_MAX), primary_key=True)
    workspace_id: Mapped[str | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE", name="fk_harnesses_workspace_id"),
        default=None,
        index=True,
    )
    workspace: Mapped[Workspace | None] = relationship(lazy="joined")
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    probes: Mapped[list[Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """The outbox: one event to POST to an evaluation's webhook URL, with its attempts."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_evaluation", "evaluation_id"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    evaluation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("evaluations.id", ondelete="CASCADE")
    )
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column()
    #: pending, delivered or failed.
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class ItemEvent(Base):
    """A step an item recorded while running (a conversation turn, ...), in order per attempt."""

    __tablename__ = "item_events"
    __table_args__ = (Index("ix_item_events_item", "item_id", "attempt", "seq"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    evaluation_id: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Connector(Base):
    """A project's agent under test (seed 004), with its credentials encrypted."""

    __tablename__ = "connectors"
    __table_args__ = (Index("ix_connectors_project", "project_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    #: ``langgraph``, ``openai-chat`` or ``http``: the target kind it becomes.
    type: Mapped[str] = mapped_column(String(KIND_MAX))
    base_url: Mapped[str] = mapped_column(Text)
    #: The type's own settings as the client gave them (camelCase keys).
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    credentials_enc: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Persona(Base):
    """A simulated user's character (seed 004)."""

    __tablename__ = "personas"
    __table_args__ = (Index("ix_personas_project", "project_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    description: Mapped[str] = mapped_column(Text)
    traits: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Scenario(Base):
    """A situation a simulated user plays out with the agent, and its personas (seed 004)."""

    __tablename__ = "scenarios"
    __table_args__ = (Index("ix_scenarios_project", "project_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    instructions: Mapped[str] = mapped_column(Text)
    max_messages: Mapped[int] = mapped_column(Integer, default=10)
    success_criteria: Mapped[str | None] = mapped_column(Text, default=None)
    failure_criteria: Mapped[str | None] = mapped_column(Text, default=None)
    #: Ids of the project's personas, in the order runs are planned.
    persona_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProjectEval(Base):
    """An eval of seed 004: a connector and scenarios; running it makes one evaluation."""

    __tablename__ = "project_evals"
    __table_args__ = (Index("ix_project_evals_project", "project_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(LONG_NAME_MAX))
    connector_id: Mapped[str] = mapped_column(String(UUID_MAX))
    scenario_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BenchDataset(Base):
    """A workspace's task dataset (seed 002), one row per name and version."""

    __tablename__ = "bench_datasets"
    __table_args__ = (UniqueConstraint("workspace_id", "name", "version"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(50))
    #: The tasks in the task format's JSON (``tasks/format.py``).
    tasks: Mapped[list[Any]] = mapped_column(default=list)
    task_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BenchRuntime(Base):
    """A workspace's named sandbox configuration: provider and limits."""

    __tablename__ = "bench_runtimes"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BenchSecret(Base):
    """A workspace's secret for sandboxes: its value only encrypted, never returned."""

    __tablename__ = "bench_secrets"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    value_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
