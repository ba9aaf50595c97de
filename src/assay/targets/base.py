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
"""

from __future__ import annotations

import abc
from typing import ClassVar

from assay.core.outcome import NormalizedResponse


class Target(abc.ABC):
    #: True when the agent runs inside this process, so its memory can be measured.
    in_process: ClassVar[bool] = False

    @abc.abstractmethod
    async def invoke(
        self, input: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """Run the agent once on ``input`` in a fresh session, with an optional system prompt."""

    async def aclose(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Release connections. Safe to call twice."""


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
