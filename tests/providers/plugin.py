"""A third-party provider, found through a test ``assay.providers`` entry point."""

from __future__ import annotations

from assay.core.llm import ChatRequest, ChatResponse
from assay.providers.base import ModelProvider, ProviderConfig


class ShoutProvider(ModelProvider):
    async def generate(self, request: ChatRequest) -> ChatResponse:
        return ChatResponse(text=request.messages[-1].content.upper(), model=self.model)


def shout(model: str, config: ProviderConfig) -> ModelProvider:
    return ShoutProvider(model, config)


def not_a_provider(model: str, config: ProviderConfig) -> str:
    return "just a string"


NOT_CALLABLE = 42
