"""An agent behind an OpenAI-compatible chat endpoint (registry name ``openai-chat``).

The call is the same as a bare model's, but the endpoint *is* the agent under test, so the
provider's errors are reclassified by the Target contract: an HTTP 500, an unusual 5xx or a
rejected request is the agent failing (``TargetError``), while 429, 502/503/504 and
connection errors stay infrastructure and are retried.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from typing_extensions import override

from assay.core.errors import ProviderRejected, ProviderUnavailable, TargetError
from assay.core.llm import ChatRequest, ChatResponse
from assay.targets.model import ModelTarget

#: Statuses that mean a proxy or load balancer in front of the agent is failing.
INFRASTRUCTURE_STATUSES = frozenset({502, 503, 504})


class OpenAIChatConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(
        min_length=1, description="The endpoint's API base URL, e.g. `http://localhost:8000/v1`."
    )
    model: str = Field(min_length=1, description="The model (or agent) name sent in each request.")
    system_prompt: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra non-secret headers sent with every request."
    )


class OpenAIChatSecrets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr | None = None


class OpenAIChatTarget(ModelTarget):
    @override
    async def _generate(self, request: ChatRequest) -> ChatResponse:
        """Call the endpoint; the agent's own failures become ``TargetError``.

        Raises:
            TargetError: the endpoint answered 500, another non-gateway 5xx, or a 4xx other
                than 429.
            ProviderRateLimited: 429.
            ProviderUnavailable: 502/503/504, connection errors and timeouts.
        """
        try:
            return await super()._generate(request)
        except ProviderUnavailable as exc:
            if exc.status_code is None or exc.status_code in INFRASTRUCTURE_STATUSES:
                raise
            raise TargetError(f"the agent failed: {exc.message}") from exc
        except ProviderRejected as exc:
            raise TargetError(f"the agent rejected the request: {exc.message}") from exc
