"""The simulated conversation: the simulated user's protocol and the turn loop.

The simulated user gets :data:`SIMULATOR_PROMPT` (persona, scenario) and sees the agent's
replies as the other side of its chat. It ends with a line holding only ``[DONE]`` (goal
reached) or ``[GIVE_UP]`` (the agent cannot help); text before the marker is kept as its
closing message but not sent to the agent.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from assay.core.errors import AssayError, ProviderRejected, TargetError
from assay.core.llm import ChatMessage, ChatRequest
from assay.core.outcome import NormalizedResponse, Usage
from assay.core.spec import ModelRef
from assay.kinds.base import LLM, ItemContext

DONE_MARKER = "[DONE]"
GIVE_UP_MARKER = "[GIVE_UP]"
_MARKER = re.compile(r"\[\s*(DONE|GIVE[ _-]?UP)\s*\]", re.IGNORECASE)
OPENING = "(The conversation starts now. Write your first message to the agent.)"
NO_REPLY = "(the agent sent an empty reply)"

SIMULATOR_PROMPT = """\
You are playing a user in a test of an AI agent. Stay in character as the person described \
below for the whole conversation. You are the USER, never the agent: do not answer your own \
questions, do not offer help, and do not describe what the agent did or will do.

Who you are:
{persona}

Your situation and goal (the scenario):
{scenario}

Rules:
- Write only your next message to the agent, in the first person, in your own voice: your \
tone, length, language and technical knowledge follow your description and traits.
- Use only the facts given above. If the agent asks for something you were not given, say \
you do not know or do not have it; never make details up.
- Pursue your goal until it is reached. Do not stop early.
- When your goal is reached, or the agent has clearly finished, write your last message (if \
any) followed by a line containing only [DONE].
- If the agent clearly cannot help after you gave it a fair chance, write your last message \
followed by a line containing only [GIVE_UP].
- The agent's messages arrive as the other side of this chat."""

#: The event a conversation stores for each turn as it happens.
TURN_EVENT = "turn"


class Conversation(NamedTuple):
    turns: list[dict[str, Any]]
    termination: str
    agent_error: str | None
    responses: list[NormalizedResponse]
    simulator_usage: Usage


def simulator_prompt(persona: str, scenario: str, extra: str | None = None) -> str:
    """The simulated user's system prompt; ``extra`` is the simulator model's own prompt."""
    prompt = SIMULATOR_PROMPT.format(persona=persona, scenario=scenario)
    return f"{prompt}\n\nAdditional instructions:\n{extra}" if extra else prompt


def split_marker(text: str) -> tuple[str, str | None]:
    """The message without stop markers, and ``user_done``/``gave_up`` when one was given."""
    found = [m.group(1).upper().replace(" ", "_").replace("-", "_") for m in _MARKER.finditer(text)]
    message = _MARKER.sub("", text).strip()
    if not found:
        return message, None
    return message, "gave_up" if any(m.startswith("GIVE") for m in found) else "user_done"


async def hold_conversation(
    ctx: ItemContext,
    simulator: LLM,
    ref: ModelRef,
    persona: str,
    scenario: str,
    max_messages: int,
) -> Conversation:
    """Alternate simulated user and agent until a stop condition; ends the session after."""
    chat = [
        ChatMessage(role="system", content=simulator_prompt(persona, scenario, ref.system_prompt)),
        ChatMessage(role="user", content=OPENING),
    ]
    turns: list[dict[str, Any]] = []
    responses: list[NormalizedResponse] = []
    usage = Usage()
    if ctx.attempt > 1:
        await _end_session(ctx)
    try:
        while len(turns) < max_messages:
            reply = await simulator.generate(
                ChatRequest(messages=chat, temperature=ref.temperature, max_tokens=ref.max_tokens)
            )
            usage = usage + reply.usage
            message, stop = split_marker(reply.text)
            if not message and stop is None:
                raise ProviderRejected("the simulated user sent an empty message")
            if message:
                await _record(ctx, turns, "user", message, usage=reply.usage)
                chat.append(ChatMessage(role="assistant", content=message))
            if stop is not None:
                return Conversation(turns, stop, None, responses, usage)
            if len(turns) >= max_messages:
                break
            try:
                response = await ctx.target.converse(message, session_id=ctx.item_id)
            except TargetError as exc:
                await ctx.log("agent_error", {"index": len(turns) + 1, "error": exc.message})
                return Conversation(turns, "agent_error", exc.message, responses, usage)
            responses.append(response)
            await _record(ctx, turns, "assistant", response.output, response=response)
            chat.append(ChatMessage(role="user", content=response.output or NO_REPLY))
        return Conversation(turns, "max_messages", None, responses, usage)
    finally:
        await _end_session(ctx)


async def _end_session(ctx: ItemContext) -> None:
    """Forget the run's conversation; a failure to do so is logged, never the run's result."""
    try:
        await ctx.target.end_session(ctx.item_id)
    except AssayError as exc:
        await ctx.log("session_end_error", {"error": exc.message})


async def _record(
    ctx: ItemContext,
    turns: list[dict[str, Any]],
    role: str,
    content: str,
    usage: Usage | None = None,
    response: NormalizedResponse | None = None,
) -> None:
    """Append a turn to the transcript and store it at once."""
    turn: dict[str, Any] = {"index": len(turns) + 1, "role": role, "content": content}
    if response is not None:
        usage = response.usage
        turn["latency_ms"] = response.latency_ms
        turn["tool_calls"] = [call.model_dump() for call in response.tool_calls]
        turn["model"] = response.model
    turn["tokens"] = (usage or Usage()).model_dump()
    turns.append(turn)
    await ctx.log(TURN_EVENT, turn)


def describe_ending(conversation: Conversation, max_messages: int) -> str:
    """How the conversation ended, in words for the judge and the auditor."""
    match conversation.termination:
        case "user_done":
            return "The simulated user ended the conversation, saying its goal was reached."
        case "gave_up":
            return "The simulated user gave up, saying the agent could not help."
        case "agent_error":
            return f"The agent failed with an error and could not reply: {conversation.agent_error}"
        case _:
            return f"The conversation was cut off at the limit of {max_messages} messages."
