"""Trust-score evaluations (seed 003): a model or an agent, run through harnesses of probes.

:func:`create_trust_evaluation` turns the seed's request into a ``harness`` evaluation. The
target is exactly one of a registered agent (``agent_id``) or a model at a hub
(``model_hub`` + ``model_name``):

======================  ===========  ==================================================
hub                     provider     notes
======================  ===========  ==================================================
openai                  openai       the server's OPENAI_API_KEY, or ``api_key_value``
anthropic               anthropic    the server's ANTHROPIC_API_KEY, or ``api_key_value``
custom                  openai       any OpenAI-compatible server; ``base_url`` required
digitalocean            openai       ``base_url`` defaults to DigitalOcean's inference API
bedrock                 bedrock      ``pip install 'assay[bedrock]'``; ``model_params.region``
                                     (else the server's AWS region); ``api_key_value`` is
                                     a Bedrock API key, else the server's AWS credentials
vertex                  vertex       ``pip install 'assay[vertex]'``; ``model_params.project_id``
                                     and ``region`` (default us-central1); ``api_key_value``
                                     is an OAuth access token, else the server's ADC
======================  ===========  ==================================================

``api_key_value`` is stored encrypted with the evaluation, as the *target's* credential only:
the judge never receives it, so a key for a custom server is never sent to the judge's
endpoint. The server's own keys are never sent to a URL a caller chose
(``providers/credentials.py`` decides): ``custom`` and ``digitalocean`` always need
``api_key_value``, and so do
``bedrock`` and ``vertex`` when ``model_params.base_url`` replaces their endpoint (a gateway
or a private endpoint). ``model_params.base_url`` and ``webhook_url`` must be URLs the
outbound policy allows (``ASSAY_OUTBOUND_ALLOW``). Their
region and project are checked against a strict pattern before they become part of a host
name or path.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from assay.core.errors import ConfigurationError, ValidationFailed
from assay.core.evaluation import EvaluationView
from assay.core.principal import Principal
from assay.core.spec import EvaluationSpec, ModelRef, TargetSpec
from assay.core.text import URL_MAX, Bounded
from assay.providers.credentials import server_credentials
from assay.services import agents as agent_service
from assay.services import evaluations as evaluation_service
from assay.services import projects as project_service
from assay.services.compare import BASELINE_LABEL, check_baseline
from assay.services.container import Container
from assay.services.harnesses import resolve_probes

ModelHub = Literal["openai", "anthropic", "bedrock", "vertex", "digitalocean", "custom"]
DIGITALOCEAN_BASE_URL = "https://inference.do-ai.run/v1"

#: hub -> (provider, default base URL, the optional extra its provider needs).
_HUBS: dict[str, tuple[str, str | None, str | None]] = {
    "openai": ("openai", None, None),
    "anthropic": ("anthropic", None, None),
    "custom": ("openai", None, None),
    "digitalocean": ("openai", DIGITALOCEAN_BASE_URL, None),
    "bedrock": ("bedrock", None, "bedrock"),
    "vertex": ("vertex", None, "vertex"),
}
#: Hubs that always run on the caller's own key.
_OWN_KEY_HUBS = frozenset({"custom", "digitalocean"})
#: Hubs whose endpoint the caller may choose with ``model_params.base_url``.
_URL_HUBS = frozenset({"custom", "digitalocean", "bedrock", "vertex"})
VERTEX_DEFAULT_REGION = "us-central1"
#: An AWS or Google Cloud region (us-west-2, europe-west4, global): safe in a host name.
_REGION = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"
#: A Google Cloud project id or number: safe as one path segment.
_PROJECT = r"^[a-z0-9][a-z0-9-]{0,62}$"

#: The kind of every evaluation this API creates (a probe harness run).
TRUST_KIND = "harness"


class ModelParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(
        default=0.0, ge=0.0, le=2.0, description="Sampling temperature, 0.0-2.0."
    )
    max_tokens: int | None = Field(
        default=None, gt=0, le=10_000_000, description="Most tokens in one answer."
    )
    base_url: Annotated[str, Bounded(URL_MAX, min_length=1)] | None = Field(
        default=None,
        description="The API base URL: required for `custom`; replaces the endpoint of the others.",
    )
    region: str | None = Field(
        default=None,
        pattern=_REGION,
        max_length=32,
        description="The cloud region, for the `bedrock` (e.g. us-east-1) and `vertex` hubs.",
    )
    project_id: str | None = Field(
        default=None,
        pattern=_PROJECT,
        max_length=63,
        description=(
            "The Google Cloud project, for the `vertex` hub (required unless base_url is given)."
        ),
    )


def _model_target(
    container: Container,
    hub: str,
    model_name: str,
    params: ModelParams,
    api_key: SecretStr | None,
) -> tuple[TargetSpec, dict[str, Any]]:
    """The model as a target, and the target's secrets (the caller's key, if given)."""
    from assay.providers._registry import check_installed

    if hub not in _HUBS:
        raise ValidationFailed.for_field(("model_hub",), f"must be one of {', '.join(_HUBS)}")
    provider, default_url, extra = _HUBS[hub]
    if extra is not None:
        try:
            check_installed(provider)
        except ConfigurationError as exc:
            raise ConfigurationError(f"model_hub {hub}: {exc.message}") from exc
    if params.base_url is not None and hub not in _URL_HUBS:
        raise ValidationFailed.for_field(
            ("model_params", "base_url"), f"is not for model_hub {hub}"
        )
    cloud_url = _cloud_url(hub, params)
    base_url = params.base_url or cloud_url or default_url
    if hub == "custom" and base_url is None:
        raise ValidationFailed.for_field(
            ("model_params", "base_url"), "is required for model_hub custom"
        )
    container.settings.outbound_policy.check_field(("model_params", "base_url"), base_url)
    server = server_credentials(provider, base_url, container.settings)
    # A custom or DigitalOcean endpoint is the caller's own, even at the operator's URL.
    own_endpoint = hub in _OWN_KEY_HUBS or not server.operator_endpoint
    if api_key is None and (own_endpoint or (server.api_key is None and not server.ambient)):
        reason = (
            "this server's credentials never go to an endpoint a caller chose"
            if own_endpoint
            else "this server has no API key for it"
        )
        raise ValidationFailed.for_field(
            ("api_key_value",), f"is required for model_hub {hub}: {reason}"
        )
    ref = ModelRef(
        provider=provider,
        model=model_name,
        base_url=base_url,
        temperature=params.temperature,
        max_tokens=params.max_tokens,
    )
    secrets = {"api_key": api_key.get_secret_value()} if api_key is not None else {}
    return TargetSpec(kind="model", name=f"{hub}/{model_name}", model=ref), secrets


def _cloud_url(hub: str, params: ModelParams) -> str | None:
    """The endpoint that ``region``/``project_id`` name; None means the provider's default.

    Raises:
        ValidationFailed: a field is given to a hub that does not take it, a field is given
            together with ``base_url``, or vertex has no project.
    """
    cloud_fields = {"region": params.region, "project_id": params.project_id}
    takes = {"bedrock": {"region"}, "vertex": {"region", "project_id"}}.get(hub, set())
    for name, value in cloud_fields.items():
        if value is None:
            continue
        if name not in takes:
            raise ValidationFailed.for_field(("model_params", name), f"is not for model_hub {hub}")
        if params.base_url is not None:
            raise ValidationFailed.for_field(
                ("model_params", name), "give it or model_params.base_url, not both"
            )
    if params.base_url is not None:
        return None
    if hub == "bedrock":
        return f"https://bedrock-runtime.{params.region}.amazonaws.com" if params.region else None
    if hub == "vertex":
        if params.project_id is None:
            raise ValidationFailed.for_field(
                ("model_params", "project_id"), "is required for model_hub vertex"
            )
        region = params.region or VERTEX_DEFAULT_REGION
        host = (
            "aiplatform.googleapis.com"
            if region == "global"
            else f"{region}-aiplatform.googleapis.com"
        )
        return (
            f"https://{host}/v1/projects/{params.project_id}/locations/{region}/endpoints/openapi"
        )
    return None


def _check_target_fields(
    agent_id: str | None,
    model_hub: str | None,
    model_name: str | None,
    model_params: ModelParams | None,
    api_key: SecretStr | None,
) -> None:
    if agent_id is not None and (model_hub is not None or model_name is not None):
        raise ValidationFailed.for_field(
            ("agent_id",), "give either agent_id or model_hub and model_name, not both"
        )
    if agent_id is None and model_hub is None and model_name is None:
        raise ValidationFailed.for_field(
            ("model_hub",), "give agent_id, or model_hub and model_name"
        )
    if model_hub is not None and not model_name:
        raise ValidationFailed.for_field(("model_name",), "is required with model_hub")
    if model_name is not None and model_hub is None:
        raise ValidationFailed.for_field(("model_hub",), "is required with model_name")
    if agent_id is not None and (model_params is not None or api_key is not None):
        field = "model_params" if model_params is not None else "api_key_value"
        raise ValidationFailed.for_field(
            (field,), "is only for model_hub targets; a registered agent has its own settings"
        )


async def create_trust_evaluation(
    container: Container,
    principal: Principal,
    *,
    harnesses: list[str],
    agent_id: str | None = None,
    model_hub: str | None = None,
    model_name: str | None = None,
    model_params: ModelParams | None = None,
    system_prompt: str | None = None,
    transforms: list[str] | None = None,
    transform_model: str | None = None,
    attacker: str | None = None,
    api_key: SecretStr | None = None,
    webhook_url: str | None = None,
    name: str | None = None,
    baseline_evaluation_id: str | None = None,
) -> EvaluationView:
    """Create (and queue) a harness evaluation with id ``eval-{uuid}``.

    ``baseline_evaluation_id`` names a harness evaluation of the caller's that its results
    are compared with (``services/compare.py``, per dimension).

    Raises:
        ValidationFailed: a field is missing, malformed or contradicts another (named).
        ConfigurationError: the hub needs an optional extra that is not installed (the
            message gives the pip command).
        ValidationFailed: ``baseline_evaluation_id`` is not a harness evaluation of the caller's.
        AgentNotFound: ``agent_id`` is not an agent of the caller's organization.
        HarnessNotFound: a harness is neither built in nor the organization's.
        QuotaExceeded: the organization is at its evaluation quota.
    """
    _check_target_fields(agent_id, model_hub, model_name, model_params, api_key)
    if not harnesses:
        raise ValidationFailed.for_field(("harnesses",), "name at least one harness")
    container.settings.outbound_policy.check_field(("webhook_url",), webhook_url)
    if baseline_evaluation_id is not None:
        await check_baseline(
            container, principal, baseline_evaluation_id, "harness", "baseline_evaluation_id"
        )
    if agent_id is not None:
        target, target_secrets = await agent_service.resolve_target(container, principal, agent_id)
    else:
        assert model_hub is not None and model_name is not None
        target, target_secrets = _model_target(
            container, model_hub, model_name, model_params or ModelParams(), api_key
        )
    from assay.probes.catalog import CATALOG_VERSION

    probes = await resolve_probes(container, principal, harnesses)
    project_id, attacker_param, attacker_keys = await _attacker_for(container, principal, attacker)
    spec = EvaluationSpec(
        kind=TRUST_KIND,
        name=name,
        target=target,
        params={
            "harnesses": list(dict.fromkeys(harnesses)),
            "probes": [p.model_dump(mode="json") for p in probes],
            "system_prompt": system_prompt,
            "catalog_version": CATALOG_VERSION,
            "transforms": transforms or [],
            "transform_model": transform_model,
            "attacker": attacker_param,
        },
    )
    labels: dict[str, Any] = {"harnesses": list(dict.fromkeys(harnesses))}
    if model_hub is not None:
        labels |= {"model_hub": model_hub, "model_name": model_name}
    if baseline_evaluation_id is not None:
        labels[BASELINE_LABEL] = baseline_evaluation_id
    return await evaluation_service.create_evaluation(
        container,
        principal,
        spec,
        secrets={
            "target": target_secrets,
            **({"roles": attacker_keys} if attacker_keys else {}),
        },
        labels=labels,
        webhook_url=webhook_url,
        evaluation_id=f"eval-{uuid.uuid4()}",
        enforce_quotas=True,
        project_id=project_id,
    )


async def _attacker_for(
    container: Container, principal: Principal, attacker: str | None
) -> tuple[str, str | dict[str, Any] | None, dict[str, dict[str, Any]]]:
    """The project the evaluation is filed in, its attacker param, and the attacker's key.

    The evaluation's own ``attacker`` wins; without one, the project's default attacker
    (``services/projects.py``) is used, with its key as ``secrets["roles"]``.
    """
    async with container.sessions.begin() as session:
        project = await evaluation_service.project_for(session, principal, None)
        default = None if attacker is not None else project_service.attacker_of(container, project)
        project_id = project.id
    if default is None:
        return project_id, attacker, {}
    ref, keys = default
    return project_id, ref.model_dump(mode="json", include={"provider", "model", "base_url"}), keys
