"""Configuration. This is the only module that reads the environment.

Everything else receives a ``Settings`` (or a part of it) as an argument, so tests and
workers can build their own without touching ``os.environ``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from assay.core.outbound import OutboundPolicy
from assay.sandbox.base import SandboxPolicy

#: Brokers the Celery backend is tested on.
_BROKER_SCHEMES = frozenset({"redis", "rediss", "amqp", "amqps"})


def _parse_rate(value: str) -> None:
    """Raise a ValueError naming the bad part of a rate (a clear start-up error).

    ``limits`` is imported here, not above: a process that sets no rate (``assay run``, the
    common case) never loads it.
    """
    from limits import parse

    parse(value)


class ProviderLimit(BaseModel):
    """The operator's limit on one account at one provider endpoint (``provider_limits``)."""

    model_config = ConfigDict(extra="forbid")

    rate: str | None = Field(default=None, max_length=100)
    """Calls per window, e.g. `500/minute` or `10 per 2 seconds`; over it a call waits."""
    concurrency: int | None = Field(default=None, ge=1, le=100_000)
    """Calls in flight at once; one more waits for a free slot."""

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: str | None) -> str | None:
        if value is not None:
            _parse_rate(value)
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSAY_", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///./assay.db",
        description="SQLAlchemy async URL; `postgresql+asyncpg://...` needs the `postgres` extra.",
    )
    data_dir: Path = Field(
        default=Path(".assay"),
        description="Where Assay keeps local state, such as the generated secret key.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Fernet key that encrypts stored secrets; generated into data_dir on first start if "
            "unset."
        ),
    )
    secret_key_previous: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description=(
            "Old Fernet keys, comma-separated, that still decrypt (never encrypt) stored secrets "
            "while `assay secrets rotate-key` re-encrypts them under `secret_key`; remove them "
            "once it is done."
        ),
    )
    judge_model: str = Field(
        default="mock/judge",
        description="Default judge as `provider/model`, e.g. `openai/gpt-4o-mini`.",
    )
    openai_transport: Literal["aiohttp", "sdk"] = Field(
        default="aiohttp",
        description=(
            "How Chat Completions calls are sent: `aiohttp` posts prebuilt requests through one "
            "pooled session (the fast path, same errors and retries as the SDK), `sdk` through "
            "the official openai SDK."
        ),
    )

    workers: int = Field(
        default=100, ge=1, le=10_000, description="Items the in-process engine runs at once."
    )
    engine: Literal["process", "thread"] = Field(
        default="process",
        description=(
            "Where `assay serve` runs items: `process`, a child process of its own, so API "
            "requests never wait behind item work; or `thread`, a thread of the server's process "
            "(one process and less memory, but the engine and the API share one interpreter lock, "
            "so a busy engine slows every request)."
        ),
    )
    lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "How long a claimed item stays owned without renewal before another worker may take it."
        ),
    )
    poll_interval: float = Field(
        default=0.2, gt=0, description="How often an idle engine looks for queued work, in seconds."
    )
    broker_url: str | None = Field(
        default=None,
        description=(
            "A Celery broker (`redis://host:6379/0` or `amqp://user:pass@host:5672//`, needs the "
            "`celery` extra): the server enqueues item ids there and `assay worker` processes run "
            "them. Unset, the server (or `assay worker` on a shared database) claims items by "
            "polling."
        ),
    )
    broker_queue: str = Field(
        default="assay",
        min_length=1,
        max_length=200,
        description=(
            "The broker queue item ids go to; every server and worker of one deployment shares it."
        ),
    )
    broker_visibility_timeout: float = Field(
        default=3600.0,
        gt=0,
        description=(
            "Redis only: seconds a delivered, unacknowledged message stays invisible before Redis "
            "gives it to another worker. It must exceed `broker_task_time_limit`."
        ),
    )
    broker_task_time_limit: float = Field(
        default=3000.0,
        gt=0,
        description=(
            "Longest one item may hold a Celery worker slot, in seconds (below the visibility "
            "timeout, so Redis never redelivers a message whose item still runs); past it the "
            "item ends `timed_out`."
        ),
    )
    broker_batch_size: int = Field(
        default=10,
        ge=1,
        le=1000,
        description=(
            "Item ids per broker message: a worker claims, runs and acknowledges them together, "
            "so a message's cost is shared by that many items. A worker runs `workers` items at "
            "once as `workers / broker_batch_size` (rounded up) messages."
        ),
    )
    broker_sweep_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "How often each worker re-publishes items that stayed queued that long (a lost "
            "message, items queued before any worker started); duplicates are harmless, claims "
            "are by id."
        ),
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description=(
            "Where `assay worker` serves its Prometheus metrics (`/metrics` on "
            "`worker_metrics_host`); unset, it serves none."
        ),
    )
    worker_metrics_host: str = Field(
        default="127.0.0.1", description="The interface of the worker's metrics endpoint."
    )
    item_timeout: float = Field(
        default=300.0, gt=0, description="Default deadline of one item, in seconds."
    )
    max_retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description=(
            "Default retries of a call that failed for infrastructure reasons (429, 5xx, connect)."
        ),
    )
    retry_base_delay: float = Field(
        default=0.5,
        ge=0,
        description="First backoff delay in seconds; it doubles per retry, with jitter.",
    )

    python_agent_modules: list[str] = Field(
        default_factory=lambda: ["assay.examples"],
        description=(
            "Module prefixes whose functions API clients may register as `python` agents (they "
            "run inside the server); `*` allows any, for a trusted single-user server."
        ),
    )
    eval_run_wait_seconds: float = Field(
        default=3600.0,
        gt=0,
        description=(
            "How long `POST /eval-runs` waits for the result before answering 202 with the run's "
            "id."
        ),
    )
    check_connectors: bool = Field(
        default=True,
        description=(
            "Ask a seed-004 connector's deployment whether its key and assistant are right when "
            "the connector is created or updated; off, only `POST .../connectors/{id}/test` asks."
        ),
    )
    eval_run_stores: dict[str, list[str]] = Field(
        default_factory=lambda: {"assay": ["eval_runs"]},
        description="Stores (`db_id`) and their tables that `/eval-runs` accepts, as JSON.",
    )
    agent_model: str | None = Field(
        default=None,
        description=(
            "The checkpointed task agent's planner as `provider/model` (any provider); unset, the "
            "offline mock planner that splits the task into steps and picks tools by keyword."
        ),
    )
    verification_timeout: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Seconds a checkpoint waits for its reviewer before it ends `expired` and the run "
            "fails; unset, it waits until answered. A task's `verificationTimeoutSeconds` "
            "overrides it."
        ),
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description=(
            "The server's address as its users reach it: links such as a run's `chatUrl` use it."
        ),
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description=(
            "Largest request body accepted, in bytes; a bigger one is refused with 413 before it "
            "is read or authenticated (1 MiB by default)."
        ),
    )
    provider_limits: dict[str, ProviderLimit] = Field(
        default_factory=dict,
        description=(
            "Limits on calls to model providers, as JSON keyed by provider name or base URL, e.g. "
            '`{"openai": {"rate": "500/minute", "concurrency": 20}}`; a base URL\'s rule wins over '
            "its provider's. Each account (API key) at the endpoint gets the limit."
        ),
    )
    provider_limits_storage: str = Field(
        default="memory://",
        description=(
            "Where provider limits are counted: `memory://` (per process) or "
            "`redis://host:port/db` (shared by every server and worker using it, needs the "
            "`redis` extra)."
        ),
    )
    # The default is not validated (it parses): ``limits`` is imported only for a set value.
    rate_limit: str | None = Field(
        default="6000/minute",
        validate_default=False,
        description=(
            "Requests one API key may make, as `N/second`, `N/minute`, `N/hour` or `N/day`, "
            "counted in a sliding window; over it the answer is 429 with Retry-After. `off` "
            "counts nothing. The default (100 a second on average) only stops a runaway client; "
            "set your own for tenants."
        ),
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description=(
            "Where request counts live: `memory://` (per process) or `redis://host:port` (shared "
            "by every server process, needs the `redis` extra)."
        ),
    )
    price_overrides: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description=(
            'Per-model USD prices per million input and output tokens, e.g. {"openai/gpt-4o": '
            "[2.5, 10]}."
        ),
    )

    quota_concurrent_evaluations: int = Field(
        default=10,
        ge=0,
        description=(
            "Evaluations one organization may have pending or running at once; 0 means no limit."
        ),
    )
    quota_daily_evaluations: int = Field(
        default=1000,
        ge=0,
        description="Evaluations one organization may create per UTC day; 0 means no limit.",
    )
    webhook_max_attempts: int = Field(
        default=5,
        ge=1,
        le=20,
        description="Deliveries of one webhook event tried before it is marked failed.",
    )
    webhook_backoff_seconds: float = Field(
        default=2.0,
        ge=0,
        description=(
            "Wait before the second delivery attempt; it doubles for each attempt after that."
        ),
    )
    webhook_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a webhook receiver has to answer one delivery."
    )

    ui_session_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 30,
        description="How long a web UI sign-in lasts, in hours; revoking the key ends it sooner.",
    )
    ui_secure_cookies: bool = Field(
        default=False,
        description=(
            "Mark the UI's session cookie Secure (sent over HTTPS only): set it behind TLS."
        ),
    )
    min_client_version: str | None = Field(
        default=None,
        pattern=r"^\d+(\.\d+){0,3}$",
        description=(
            "The oldest client the seed-002 API serves, e.g. `2.1`: a request whose "
            "`X-Assay-Client-Version` is older gets 426; unset, or without the header, every "
            "client is served."
        ),
    )
    sandbox_local_enabled: bool = Field(
        default=False,
        description=(
            "Allow the `local` sandbox provider: a plain subprocess that isolates NOTHING (it "
            "sees the whole filesystem, the server's data directory and the network). Development "
            "only."
        ),
    )
    sandbox_network_enabled: bool = Field(
        default=False,
        description=(
            "Allow runtimes whose sandboxes reach the network; off, every sandbox has only its "
            "own empty loopback."
        ),
    )
    sandbox_root: Path | None = Field(
        default=None,
        description=(
            "Where sandboxes' work directories are made; unset: `<temp dir>/assay-sandboxes`."
        ),
    )
    sandbox_cgroup_root: Path | None = Field(
        default=Path("/sys/fs/cgroup"),
        description=(
            "The cgroup filesystem where each sandbox gets its own group (memory, processes, "
            "CPU); where it is not writable the limits fall back to prlimit. Empty disables "
            "cgroups."
        ),
    )

    outbound_allow: str | None = Field(
        default=None,
        description=(
            "Networks Assay may reach on a tenant's behalf beyond the public internet: CIDRs such "
            "as `127.0.0.0/8,10.1.0.0/16`, or `*` for everything. Unset, `assay serve` and `assay "
            "worker` allow only public addresses, and the one-user commands (`assay run`, `scan`, "
            "`quickstart`) allow everything."
        ),
    )

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "ASSAY_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "ASSAY_OPENAI_BASE_URL")
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("ANTHROPIC_API_KEY", "ASSAY_ANTHROPIC_API_KEY"),
    )
    anthropic_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ANTHROPIC_BASE_URL", "ASSAY_ANTHROPIC_BASE_URL"),
    )

    @field_validator("secret_key_previous", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("sandbox_cgroup_root", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("broker_url")
    @classmethod
    def _broker_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in _BROKER_SCHEMES:
            listed = ", ".join(f"{s}://" for s in sorted(_BROKER_SCHEMES))
            raise ValueError(f"broker_url must start with one of {listed}")
        return value.strip()

    @model_validator(mode="after")
    def _task_limit_below_visibility(self) -> Settings:
        if self.broker_task_time_limit >= self.broker_visibility_timeout:
            raise ValueError(
                "broker_task_time_limit must be below broker_visibility_timeout: Redis would "
                "give a message to a second worker while its item still runs"
            )
        return self

    @field_validator("provider_limits_storage", "rate_limit_storage")
    @classmethod
    def _limits_storage(cls, value: str, info: ValidationInfo) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError(f"{info.field_name} must start with memory://, redis:// or rediss://")
        return value

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() in ("", "off"):
            return None
        _parse_rate(value)
        return value.strip()

    @field_validator("outbound_allow")
    @classmethod
    def _outbound_allow(cls, value: str | None) -> str | None:
        OutboundPolicy.parse(value)
        return value

    @property
    def sandbox_policy(self) -> SandboxPolicy:
        """What sandbox providers may do on this server."""
        return SandboxPolicy(
            local_enabled=self.sandbox_local_enabled,
            network_enabled=self.sandbox_network_enabled,
            root_dir=self.sandbox_root,
            cgroup_root=self.sandbox_cgroup_root,
        )

    @property
    def outbound_policy(self) -> OutboundPolicy:
        """Where tenant-supplied URLs may lead (unset: public addresses only)."""
        return OutboundPolicy.parse(self.outbound_allow)


@lru_cache
def get_settings() -> Settings:
    return Settings()
