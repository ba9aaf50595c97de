"""A bare model as the thing under test: one chat call per input, no agent around it.

In a conversation (``converse``) the target keeps each session's messages and sends the
system message and the whole history with every turn, as a chat endpoint expects.

The provider is built and owned by the caller (the engine pools providers across
evaluations), so this target never closes it. Provider errors propagate unchanged: when the
model itself is under test, a failing provider is infrastructure, not a wrong answer.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import override

from assay.core.llm import ChatMessage, ChatRequest, ChatResponse
from assay.core.outcome import NormalizedResponse
from assay.providers.base import ModelProvider
from assay.targets.base import Target, merge_system_prompts


class ModelTarget(Target):
    def __init__(
        self,
        provider: ModelProvider,
        system_prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> None:
        self.provider = provider
        self.system_prompt = system_prompt
        self.temperature = temperature
        self.max_tokens = max_tokens

    @override
    async def invoke(
        self, input: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """Send ``[system?, user]`` as a new conversation; a model keeps no session state.

        The system message is the configured system prompt followed by the call's
        ``system_prompt`` (a blank line between them); there is none when neither is set.

        Raises:
            ProviderError: whatever the provider raised, unchanged.
        """
        return await self.respond(
            [ChatMessage(role="user", content=input)], system_prompt=system_prompt
        )

    @override
    async def respond(
        self, messages: list[ChatMessage], *, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """Send ``[system?, *messages]`` in one request; ``converse`` resends the history.

        Raises:
            ProviderError: whatever the provider raised, unchanged.
        """
        sent = list(messages)
        system = merge_system_prompts(self.system_prompt, system_prompt)
        if system:
            sent.insert(0, ChatMessage(role="system", content=system))
        response = await self._generate(
            ChatRequest(messages=sent, temperature=self.temperature, max_tokens=self.max_tokens)
        )
        reply = ChatMessage(role="assistant", content=response.text, tool_calls=response.tool_calls)
        return NormalizedResponse(
            output=response.text,
            tool_calls=response.tool_calls,
            messages=[message_dict(m) for m in [*sent, reply]],
            usage=response.usage,
            latency_ms=response.latency_ms,
            model=response.model or self.provider.model,
        )

    async def _generate(self, request: ChatRequest) -> ChatResponse:
        """The one provider call; subclasses override it to reclassify errors."""
        return await self.provider.generate(request)


def message_dict(message: ChatMessage) -> dict[str, Any]:
    """A chat message as stored in a trace: empty tool calls and ids left out."""
    return message.model_dump(exclude_defaults=True)
