"""What the engine builds once per evaluation: the kind, the target, the judge, the costs.

Providers are pooled for the engine's lifetime (one client per provider, endpoint and key),
so a thousand items share one connection pool. Targets are built per evaluation from the
spec and the evaluation's decrypted secrets, and closed when it finishes. Both reach kinds
only through retrying, rate-limited wrappers: kinds never retry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr

from assay.core.llm import ChatRequest, ChatResponse
from assay.core.outcome import NormalizedResponse, Usage
from assay.core.redaction import Redactor, secret_strings
from assay.core.spec import EvaluationSpec, ModelRef
from assay.engine.limits import Limits
from assay.engine.retry import RetryPolicy, call_with_retries
from assay.kinds._registry import get_kind
from assay.kinds.base import Kind, ModelFactory
from assay.providers._registry import get_provider
from assay.providers.base import ModelProvider, ProviderConfig
from assay.providers.credentials import server_credentials
from assay.providers.pricing import cost_usd
from assay.sandbox import SandboxProvider
from assay.sandbox import get_provider as get_sandbox_provider
from assay.settings import Settings
from assay.targets._registry import create_target
from assay.targets.base import Target

if TYPE_CHECKING:
    from assay.providers.call_limits import ProviderLimiter


class ProviderPool:
    """One provider instance per (provider, model, endpoint, key, headers); closed with the engine."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._providers: dict[tuple[object, ...], ModelProvider] = {}
        self._limiter = _provider_limiter(settings)

    def get(self, ref: ModelRef, config: ProviderConfig | None = None) -> ModelProvider:
        config = self._with_server_defaults(ref, config or ProviderConfig())
        key = config.api_key.get_secret_value() if config.api_key else ""
        cache_key = (
            ref.provider,
            ref.model,
            config.base_url,
            hashlib.sha256(key.encode()).hexdigest(),
            tuple(sorted(config.headers.items())),
            config.ambient_credentials,
            config.outbound,
            config.transport,
        )
        provider = self._providers.get(cache_key)
        if provider is None:
            provider = get_provider(ref, config)
            if self._limiter is not None:
                provider = self._limiter.wrap(provider, ref.provider, config.base_url)
            self._providers[cache_key] = provider
        return provider

    def _with_server_defaults(self, ref: ModelRef, config: ProviderConfig) -> ProviderConfig:
        """What the caller gave wins; the server's credentials only where they may go.

        The endpoint is the caller's, then the model reference's, then the operator's; the
        server's key and cloud identity are added only for the provider's own endpoint or the
        operator's (``server_credentials``), and every other endpoint is guarded by the
        outbound policy.
        """
        server = server_credentials(ref.provider, config.base_url or ref.base_url, self._settings)
        return config.model_copy(
            update={
                "api_key": config.api_key or server.api_key,
                "base_url": server.base_url,
                "ambient_credentials": config.api_key is None and server.ambient,
                "outbound": None if server.operator_endpoint else self._settings.outbound_policy,
                "transport": self._settings.openai_transport,
            }
        )

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()
        self._providers.clear()
        if self._limiter is not None:
            await self._limiter.aclose()


def _provider_limiter(settings: Settings) -> ProviderLimiter | None:
    """The operator's provider limits; None without rules (and ``limits`` is never loaded)."""
    if not settings.provider_limits:
        return None
    from assay.providers.call_limits import ProviderLimiter

    return ProviderLimiter.from_settings(settings)


class RetryingLLM:
    """A provider as kinds see it: limited per connection and retried on infrastructure errors."""

    def __init__(
        self, provider: ModelProvider, label: str, limits: Limits, policy: RetryPolicy
    ) -> None:
        self.label = label
        self._provider = provider
        self._limits = limits
        self._policy = policy

    async def generate(self, request: ChatRequest) -> ChatResponse:
        async def once() -> ChatResponse:
            async with self._limits.acquire(
                "provider", self._provider.connection_key(), self._provider.max_connections()
            ):
                return await self._provider.generate(request)

        return await call_with_retries(once, self._policy)


class RetryingTarget:
    """A target as kinds see it (``TargetHandle``): each call retried on infrastructure errors.

    In a conversation only the failed turn is retried: a turn that raised is not part of the
    conversation (``targets/base.py``), so the retry resends it on the same history.
    """

    def __init__(self, target: Target, policy: RetryPolicy) -> None:
        self.in_process = target.in_process
        self._target = target
        self._policy = policy

    async def invoke(
        self, input: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        return await call_with_retries(
            lambda: self._target.invoke(input, session_id=session_id, system_prompt=system_prompt),
            self._policy,
        )

    async def converse(
        self, message: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        return await call_with_retries(
            lambda: self._target.converse(
                message, session_id=session_id, system_prompt=system_prompt
            ),
            self._policy,
        )

    async def end_session(self, session_id: str) -> None:
        """Forget the conversation; never retried, as it only drops local state."""
        await self._target.end_session(session_id)


@dataclass
class EvaluationRuntime:
    spec: EvaluationSpec
    kind: Kind[Any]
    params: BaseModel
    target: Target
    target_handle: RetryingTarget
    judge: RetryingLLM | None
    #: Any other model a kind calls (a simulated user, ...), with the evaluation's credentials.
    llm: ModelFactory
    price_overrides: dict[str, tuple[float, float]]
    #: Secret values given with the evaluation for its tasks (``ItemContext.secrets``).
    task_secrets: dict[str, str]
    #: Sandbox providers under the server's policy (``ItemContext.sandbox_provider``).
    sandbox_provider: Callable[[str], SandboxProvider]
    #: Blanks this evaluation's secrets and the server's out of whatever is stored.
    redactor: Redactor

    def cost(self, label: str | None, usage: Usage) -> float:
        return cost_usd(label, usage, self.price_overrides)

    async def aclose(self) -> None:
        await self.target.aclose()


def build_runtime(
    spec: EvaluationSpec,
    secrets: dict[str, Any],
    pool: ProviderPool,
    limits: Limits,
    settings: Settings,
) -> EvaluationRuntime:
    """Rebuild everything an evaluation's items need from its spec; raises ConfigurationError."""
    policy = RetryPolicy(max_retries=spec.limits.max_retries, base_delay=settings.retry_base_delay)
    provider_secrets: dict[str, dict[str, Any]] = secrets.get("providers", {})
    role_secrets: dict[str, dict[str, Any]] = secrets.get("roles", {})

    def evaluation_config(provider: str, role: str | None = None) -> ProviderConfig:
        """Credentials given with the evaluation for a role, else for a provider.

        A role's (the project's attacker's own key) goes to that role's model only, never
        to another model of the same provider, which gets the provider's (a per-run key).
        """
        given = role_secrets.get(role or "") or provider_secrets.get(provider, {})
        api_key = given.get("api_key")
        return ProviderConfig(
            api_key=SecretStr(api_key) if api_key else None, base_url=given.get("base_url")
        )

    def make_provider(ref: ModelRef, config: ProviderConfig) -> ModelProvider:
        """The target's own credentials first, then the evaluation's, then the server's."""
        fallback = evaluation_config(ref.provider)
        return pool.get(
            ref,
            config.model_copy(
                update={
                    "api_key": config.api_key or fallback.api_key,
                    "base_url": config.base_url or fallback.base_url,
                }
            ),
        )

    def llm(ref: ModelRef, role: str | None = None) -> RetryingLLM:
        return RetryingLLM(
            pool.get(ref, evaluation_config(ref.provider, role)), ref.label, limits, policy
        )

    target = create_target(
        spec.target, secrets.get("target", {}), make_provider, settings.outbound_policy
    )
    judge = llm(spec.judge) if spec.judge is not None else None
    kind = get_kind(spec.kind)
    return EvaluationRuntime(
        spec=spec,
        kind=kind,
        params=kind.engine_params(spec.params),
        target=target,
        target_handle=RetryingTarget(target, policy),
        judge=judge,
        llm=llm,
        price_overrides=settings.price_overrides,
        task_secrets={str(k): str(v) for k, v in secrets.get("tasks", {}).items()},
        sandbox_provider=lambda name: get_sandbox_provider(name, settings.sandbox_policy),
        redactor=Redactor([*secret_strings(secrets), *server_secrets(settings)]),
    )


def server_secrets(settings: Settings) -> list[str]:
    """Every secret setting's value (provider keys, the encryption keys), whatever its name.

    Read from the field types rather than a list, so a key setting added later is covered.
    """
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, SecretStr):
                found.append(item.get_secret_value())
    return found
