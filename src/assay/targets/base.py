r"""The Target interface.

Contract for implementers:

- ``invoke`` gives the agent one input and returns a ``NormalizedResponse`` (output, tool
  calls, messages, usage, latency). ``session_id`` is new for every item, so a target with
  sessions or threads must start a fresh one for it: iterations never share state.
- ``system_prompt`` (optional, default ``None``) is instructions or context for this one
  call, set by the evaluation (a harness probe plants a system prompt with a canary, for
  instance). It never replaces what the target was configured with; each target merges it
  in its own way:

  - model targets (``model``, ``openai-chat``) send one system message: the configured
    system prompt first, then the call's, separated by a blank line;
  - ``http`` substitutes ``{{system_prompt}}`` when the request template has that
    placeholder, and otherwise prepends it to the input as
    ``"[Context]\n<system_prompt>\n\n[User]\n<input>"`` (see :func:`with_context`);
  - ``python`` passes ``system_prompt=`` when the function accepts it, and otherwise
    prepends it to the input like ``http``.

  ``None`` or an empty string means no per-call system prompt: the call is exactly what it
  would be without the argument.
- Failures are classified at the boundary:
  ``ProviderRateLimited`` for HTTP 429 and ``ProviderUnavailable`` for connection errors,
  timeouts and 502/503/504 (infrastructure: retried, then ``infra_error``);
  ``TargetError`` for everything that is the agent's own fault: HTTP 500 and other error
  statuses, unparseable bodies, exceptions raised by a Python agent (``errored``).
- ``invoke`` does not retry; the engine does.

Conversations (multi-turn; the ``scenario`` kind drives them):

- ``converse(message, session_id=...)`` sends one user turn of the conversation
  ``session_id``. The first turn starts it; later turns continue it, so the agent sees every
  earlier turn. ``invoke`` stays single-turn: it never joins or starts a conversation.
- ``end_session(session_id)`` forgets the conversation. It is safe to call twice, or for a
  session that never started; a forgotten id used again starts a new conversation.
- Turns of one session are sequential (the caller awaits each before sending the next);
  different sessions may run concurrently on one target.
- A turn that raises is not part of the conversation: retrying it (the engine's
  ``RetryingTarget`` does) sends the same history again, never a duplicated user message.
- ``system_prompt`` belongs to the conversation: pass the same one on every turn. Targets
  that hold the conversation themselves (``model``, ``openai-chat``, ``langgraph``) use the
  one given on the first turn; ``http`` and ``python`` receive it with each turn, exactly
  as ``invoke`` passes it.
- How each target keeps the conversation:

  - ``model`` and ``openai-chat`` (stateless endpoints) keep the messages in this target
    instance, per session, and send the system message and the whole history every turn
    (the default implementation below, through :meth:`Target.respond`);
  - ``langgraph`` keeps one server-side thread per session;
  - ``http`` sends each turn like ``invoke`` with ``{{session_id}}`` substituted: the agent
    keeps the conversation and must key its memory by that id;
  - ``python`` passes the earlier messages as ``history=`` when the function accepts it,
    and otherwise calls it with the message (and ``session_id=`` when accepted), leaving
    the function to key its own state.

- The response's ``output``, ``tool_calls`` and ``usage`` are this turn's. ``messages`` ends
  with this turn's user message and reply; what comes before them is as much of the
  conversation as the target sees (the whole history for ``model`` and ``langgraph``, this
  turn alone for ``http``). Build a transcript from the outputs, not from ``messages``.
- Failures are classified exactly as for ``invoke``. A target that cannot hold a
  conversation raises ``ConfigurationError`` from ``converse``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import ClassVar

from assay.core.errors import ConfigurationError
from assay.core.llm import ChatMessage
from assay.core.outcome import NormalizedResponse


class Target(abc.ABC):
    #: True when the agent runs inside this process, so its memory can be measured.
    in_process: ClassVar[bool] = False

    @abc.abstractmethod
    async def invoke(
        self, input: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """Run the agent once on ``input`` in a fresh session, with an optional system prompt."""

    async def converse(
        self, message: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """Send one user turn of the conversation ``session_id`` (started on first use).

        Earlier turns are kept. This default keeps the messages in this instance and answers
        each turn with :meth:`respond` on the whole history; a turn that raises is not kept.

        Raises:
            ConfigurationError: the target cannot hold a conversation.
            ProviderError, TargetError: as for ``invoke``.
        """
        conversation = self.conversation(session_id, system_prompt)
        sent = [*conversation.messages, ChatMessage(role="user", content=message)]
        response = await self.respond(sent, system_prompt=conversation.system_prompt)
        conversation.add_turn(message, response)
        return response

    async def respond(
        self,
        messages: list[ChatMessage],  # noqa: ARG002 - the default refuses; overrides use it
        *,
        system_prompt: str | None = None,  # noqa: ARG002
    ) -> NormalizedResponse:
        """Answer a whole conversation at once: the hook of the default ``converse``.

        ``messages`` are the turns so far (user, assistant, ...), ending with a user
        message; ``system_prompt`` is the call's, merged with the target's own as for
        ``invoke``. Targets that answer from a full message list (a chat endpoint) override
        this; targets with their own session state override ``converse`` instead.

        Raises:
            ConfigurationError: by default, as the target cannot hold a conversation.
        """
        raise ConfigurationError(
            f"target {type(self).__name__} does not support multi-turn conversations"
        )

    async def end_session(self, session_id: str) -> None:
        """Forget the conversation ``session_id``. Safe to call twice, or for an unknown id."""
        self._conversations.pop(session_id, None)

    def conversation(self, session_id: str, system_prompt: str | None = None) -> Conversation:
        """The conversation ``session_id`` kept in this instance, started when new.

        ``system_prompt`` is recorded only when the conversation starts.
        """
        conversation = self._conversations.get(session_id)
        if conversation is None:
            conversation = self._conversations[session_id] = Conversation(system_prompt)
        return conversation

    @property
    def _conversations(self) -> dict[str, Conversation]:
        # Created on first use, so subclasses need not call a base ``__init__``.
        conversations: dict[str, Conversation] = vars(self).setdefault("_conversation_store", {})
        return conversations

    async def check(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Ask the agent's platform whether the target's settings are right, running nothing.

        Called when a connector is created, updated or tested, so a wrong key or assistant
        is refused then rather than failing every run. By default there is nothing to ask.

        Raises:
            ProviderRejected: the credentials were refused.
            ConfigurationError: a setting names something the platform does not have.
            ProviderError, TargetError: the platform could not be asked, or answered oddly.
        """

    async def aclose(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Release connections. Safe to call twice."""


@dataclass
class Conversation:
    """One session's turns as a target keeps them in memory."""

    system_prompt: str | None
    """The call's system prompt given when the conversation started."""
    messages: list[ChatMessage] = field(default_factory=list)
    """Completed turns: each user message followed by the agent's reply."""

    def add_turn(self, message: str, response: NormalizedResponse) -> None:
        """Record a completed turn: the user's message and the agent's reply."""
        self.messages.append(ChatMessage(role="user", content=message))
        self.messages.append(
            ChatMessage(role="assistant", content=response.output, tool_calls=response.tool_calls)
        )


def with_context(input: str, system_prompt: str | None) -> str:
    """``input`` with ``system_prompt`` prepended as a context block.

    For targets without a system slot. ``input`` comes back unchanged when there is no
    system prompt.
    """
    if not system_prompt:
        return input
    return f"[Context]\n{system_prompt}\n\n[User]\n{input}"


def merge_system_prompts(configured: str | None, call: str | None) -> str | None:
    """The configured system prompt, then the call's, separated by a blank line."""
    parts = [part for part in (configured, call) if part]
    return "\n\n".join(parts) if parts else None
