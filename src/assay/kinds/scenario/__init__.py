"""``scenario``: simulated users (personas) talk to the agent in scenarios (seed 004).

An evaluation lists scenarios, personas and the runs (scenario x persona pairs) to make; each
run is one item (input ``{"run": i}``). A run:

1. The simulated user (``ctx.llm(params.simulator)``) gets :data:`SIMULATOR_PROMPT` with the
   persona and the scenario, and opens the conversation. It sees the agent's replies as the
   other side of its chat. To end, it adds a line with only ``[DONE]`` (goal reached) or
   ``[GIVE_UP]`` (the agent cannot help); text before the marker is kept as its closing
   message but not sent to the agent.
2. Turns alternate through ``ctx.target.converse(..., session_id=ctx.item_id)``: one fresh
   conversation per run (a retried run first ends the session a lost attempt may have left).
   Each turn is stored at once with ``ctx.log("turn", ...)``; the session is ended at the end.
3. It stops when the user is done (``user_done``) or gives up (``gave_up``), when user and
   agent messages reach ``max_messages`` (``max_messages``), or when the agent fails with a
   ``TargetError`` (``agent_error``; the transcript so far is judged). Infrastructure errors
   (``ProviderError``) propagate: the engine retries the run.
4. The judge reads the transcript against the criteria (see ``scoring/transcripts.py``):
   ``passed``, ``failed`` or ``inconclusive``, with verified quotes per criterion.
5. With ``audit``, the judge model checks the simulated user stayed in persona and followed
   the scenario; when it did not, the verdict is ``simulator_error`` and the run is left out
   of the agent's pass rate.

``Outcome.passed`` is True for ``passed``, False for ``failed`` and None for
``inconclusive`` and ``simulator_error`` (the item's state is then ``passed``: read the
verdict from ``data``).
"""

from assay.kinds.scenario.conversation import DONE_MARKER, GIVE_UP_MARKER, SIMULATOR_PROMPT
from assay.kinds.scenario.kind import ScenarioKind
from assay.kinds.scenario.params import PersonaSpec, RunPair, ScenarioParams, ScenarioSpec
from assay.kinds.scenario.summary import TERMINATIONS, VERDICTS, summarise_runs

__all__ = [
    "DONE_MARKER",
    "GIVE_UP_MARKER",
    "SIMULATOR_PROMPT",
    "TERMINATIONS",
    "VERDICTS",
    "PersonaSpec",
    "RunPair",
    "ScenarioKind",
    "ScenarioParams",
    "ScenarioSpec",
    "summarise_runs",
]
