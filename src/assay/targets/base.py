"""The Target interface.

Contract for implementers:

- ``invoke`` gives the agent one input and returns a ``NormalizedResponse`` (output, tool
  calls, messages, usage, latency). ``session_id`` is new for every item, so a target with
  sessions or threads must start a fresh one for it: iterations never share state.
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
    async def invoke(self, input: str, *, session_id: str) -> NormalizedResponse:
        """Run the agent once on ``input`` in a fresh session."""

    async def aclose(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Release connections. Safe to call twice."""
