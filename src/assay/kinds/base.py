"""The Kind interface and the ItemContext a kind receives.

A kind is a small module that knows three things: how to plan items from a spec, how to run
one item, and how to summarise the outcomes. It never touches the store, the API or the
engine; everything an item needs arrives in :class:`ItemContext`, so an item runs the same in
the in-process runner and on a distributed worker.

Contract for implementers:

- ``validate_params`` turns the spec's ``params`` dict into the kind's ``Params`` model and
  raises ``ValidationFailed`` naming the field (``num_iterations must be between 1 and 100``).
- ``plan`` is pure and deterministic: the same spec gives the same items in the same order.
  It gets the spec as ``plan_evaluation`` normalised it: its params passed ``validate_params``
  and hold every default.
- ``run_item`` returns an ``Outcome``, or a ``Suspend`` when the item must wait for an event
  (a reviewer's answer, a timer): the engine parks it without a worker or a lease and runs it
  again when the event comes, with ``ctx.saved_state`` and ``ctx.events`` to continue from.
  It lets ``ProviderError`` (infrastructure) and ``TargetError`` (the agent's fault)
  propagate; the engine classifies them. It must not retry, sleep for backoff or catch
  ``asyncio.CancelledError``. It reports its phases through ``ctx.phase`` (kinds that set
  ``reports_phases``; for the others the engine reports ``agent_running``) and acquires
  sandboxes and other resources through ``ctx.resources``, which the engine releases however
  the run ends.
- ``summarise`` is pure: it gets every item (terminal) in ``seq`` order and returns the
  kind's summary dict. Items in ``infra_error`` or ``cancelled`` are left out of scores and
  counted apart. The engine feeds the items one at a time to ``start_summary``'s
  :class:`Summary`; by default that collects them for ``summarise``, and a kind whose
  evaluations can hold a hundred thousand items (``match``) returns one that keeps only
  its tallies.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, Protocol, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from assay.core.errors import ConfigurationError, ValidationFailed
from assay.core.llm import ChatRequest, ChatResponse
from assay.core.outcome import (
    ItemRecord,
    NormalizedResponse,
    Outcome,
    RecordedEvent,
    Suspend,
    Usage,
)
from assay.core.spec import EvaluationSpec, ItemPlan, ModelRef
from assay.core.states import ItemState
from assay.core.verdict import CheckVerdict, Thresholds

if TYPE_CHECKING:
    from assay.sandbox.base import SandboxProvider

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R")


class TargetHandle(Protocol):
    """What a kind sees of the target: the engine's retrying wrapper around a Target."""

    in_process: bool

    async def invoke(
        self, input: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """Run the target once in a fresh session; see ``targets/base.py`` for the contract.

        ``system_prompt`` is the call's own instructions, merged with the target's configured
        ones (never replacing them); ``None`` leaves the call as it would be without it.
        """
        ...

    async def converse(
        self, message: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """Send one user turn of the conversation ``session_id`` (started on first use).

        Earlier turns of the session are kept by the target; only a failed turn is retried.
        Pass the same ``system_prompt`` on every turn. Call ``end_session`` when the
        conversation is over. See ``targets/base.py`` for the contract.
        """
        ...

    async def end_session(self, session_id: str) -> None:
        """Forget the conversation ``session_id``; safe to call twice."""
        ...


class LLM(Protocol):
    """A model a kind may call (the judge, a simulated user): retrying, rate limited."""

    label: str

    async def generate(self, request: ChatRequest) -> ChatResponse: ...


class ModelFactory(Protocol):
    """Builds a model other than the judge, with the evaluation's credentials.

    ``role`` names whose credentials to use when the evaluation holds some for that role
    alone (``"attacker"``: a project's default attacker's own key), so another model of the
    same provider is never given them.
    """

    def __call__(self, ref: ModelRef, role: str | None = None) -> LLM: ...


class Resources(Protocol):
    """Where a kind puts what must be released when its run ends (a sandbox, a session)."""

    async def enter(self, resource: AbstractAsyncContextManager[R]) -> R:
        """Enter ``resource`` now; the engine exits it however the run ends.

        Exits run in reverse order, shielded from cancellation, on an outcome, an exception,
        a cancellation, a timeout or a suspension. A failing exit is logged and counted
        (``assay_resource_cleanup_failures_total``), never silent, and does not change the
        item's outcome.
        """
        ...


class _NoResources:
    async def enter(self, resource: AbstractAsyncContextManager[R]) -> R:  # noqa: ARG002
        raise ConfigurationError("resources are given by the engine; run the item through it")


async def _discard(kind: str, payload: dict[str, Any]) -> None:  # noqa: ARG001 - the default sink
    """Where events go when nothing stores them (kinds run outside the engine)."""


async def _ignore_phase(phase: ItemState) -> None:  # noqa: ARG001 - outside the engine
    """Phases reported outside the engine go nowhere."""


async def _forget_state(state: dict[str, Any]) -> None:  # noqa: ARG001 - outside the engine
    """State saved outside the engine is not kept."""


@dataclass(frozen=True)
class ItemContext:
    evaluation_id: str
    item_id: str
    seq: int
    attempt: int
    spec: EvaluationSpec
    target: TargetHandle
    #: The judge model, when the spec names one (kinds with ``needs_judge``).
    judge: LLM | None
    #: USD cost of ``usage`` on the model labelled ``provider/model`` (0.0 when unknown).
    cost: Callable[[str | None, Usage], float]
    #: The spec's params, already validated by the kind once per evaluation (not per item).
    params: BaseModel | None = None
    #: Record a step as it happens (``kind``, JSON payload), e.g. a conversation turn. It is
    #: stored at once, so a crash mid-item loses no finished step. No-op outside the engine.
    log: Callable[[str, dict[str, Any]], Awaitable[None]] = field(default=_discard)
    #: A model other than the judge (a simulated user, ...), retried and rate limited like it.
    llm: ModelFactory | None = None
    #: Report the item's phase (one of ``core.states.PHASES``), in order; the engine stores
    #: a phase once it lasted a quarter of a second, so a shorter one never shows.
    phase: Callable[[ItemState], Awaitable[None]] = field(default=_ignore_phase)
    #: Keep ``state`` for the item's next run (after a crash or a suspension) without
    #: stopping: the next run finds it in ``saved_state``.
    save: Callable[[dict[str, Any]], Awaitable[None]] = field(default=_forget_state)
    #: What an earlier run of this item saved (``Suspend.state`` or ``save``), or None.
    saved_state: dict[str, Any] | None = None
    #: The item's recorded events of earlier runs and the events that resumed it, in order;
    #: given when the item has saved state (empty on a first run).
    events: Sequence[RecordedEvent] = ()
    #: Acquire sandboxes and other resources the engine releases when the run ends.
    resources: Resources = field(default_factory=_NoResources)
    #: Secret values the evaluation was given for its tasks (never stored in outcomes).
    secrets: Mapping[str, str] = field(default_factory=dict)
    #: The sandbox provider of a name (``bwrap``, ...) under the server's sandbox policy;
    #: enter the sandboxes it opens through ``resources``. None outside the engine.
    sandbox_provider: Callable[[str], SandboxProvider] | None = None


class Summary(abc.ABC):
    """An evaluation's summary built one item at a time, the items given in ``seq`` order.

    The engine streams the stored items through ``add`` and calls ``result`` once, so a
    summary that keeps tallies holds no item: its memory does not grow with the evaluation.
    """

    @abc.abstractmethod
    def add(self, item: ItemRecord) -> None:
        """Count one (terminal) item in."""

    @abc.abstractmethod
    def result(self) -> dict[str, Any]:
        """The summary dict; called once, after the last item (may be heavy: a thread runs it)."""


class Collected(Summary):
    """The default summary: every item kept, then the kind's ``summarise`` over all of them."""

    def __init__(self, kind: Kind[Any], spec: EvaluationSpec) -> None:
        self._kind = kind
        self._spec = spec
        self._items: list[ItemRecord] = []

    def add(self, item: ItemRecord) -> None:
        self._items.append(item)

    def result(self) -> dict[str, Any]:
        return self._kind.summarise(self._spec, self._items)


class ItemKey(NamedTuple):
    """An item's identity for comparisons, and the group it is reported under."""

    key: str
    #: The dimension, category or capability it belongs to; None for none.
    group: str | None = None


class Kind(abc.ABC, Generic[P]):
    name: ClassVar[str]
    Params: type[P]
    #: The engine must give ItemContext a judge.
    needs_judge: ClassVar[bool] = False
    #: Items of one evaluation running at once; 1 runs them in ``seq`` order, one at a time.
    max_concurrency: ClassVar[int | None] = None
    #: The kind reports its own phases; otherwise the engine reports ``agent_running``.
    reports_phases: ClassVar[bool] = False
    #: Event types a client may send to a waiting item of this kind through the API
    #: (``POST /v1/evaluations/{id}/items/{item}/events``); others come from the kind's own
    #: service (a reviewer's verdict is recorded with the reviewer's identity, not sent).
    client_events: ClassVar[frozenset[str]] = frozenset()
    #: Params that ``plan`` copies onto each item's input (a data set's cases). The engine
    #: reads the spec without them (``engine_params``), so an evaluation of 100,000 cases
    #: does not hold its data set in memory while it runs and summarises.
    item_fields: ClassVar[tuple[str, ...]] = ()

    def validate_params(self, params: dict[str, Any]) -> P:
        """Parse ``params`` into ``Params``; raises ValidationFailed naming each broken field."""
        try:
            return self.Params.model_validate(params)
        except PydanticValidationError as exc:
            raise ValidationFailed.from_pydantic(exc, model=self.Params) from None

    def engine_params(self, params: dict[str, Any]) -> BaseModel:
        """The params the engine gives items (``ItemContext.params``): without ``item_fields``."""
        return self.validate_params(params)

    def item_params(self, ctx: ItemContext) -> P:
        """The validated params of the item's evaluation: the engine validated them once."""
        if isinstance(ctx.params, self.Params):
            return ctx.params
        return self.validate_params(ctx.spec.params)

    @abc.abstractmethod
    def plan(self, spec: EvaluationSpec) -> list[ItemPlan]:
        """The items of an evaluation, in order."""

    @abc.abstractmethod
    async def run_item(self, item: ItemPlan, ctx: ItemContext) -> Outcome | Suspend:
        """Run one item and return its outcome, or how it waits (see the module docstring)."""

    @abc.abstractmethod
    def summarise(self, spec: EvaluationSpec, items: Sequence[ItemRecord]) -> dict[str, Any]:
        """The evaluation's summary from all its (terminal) items."""

    def start_summary(self, spec: EvaluationSpec) -> Summary:
        """The summary the engine feeds the items to; by default it collects them all."""
        return Collected(self, spec)

    def item_view(
        self,
        outcome: dict[str, Any] | None,
        events: Sequence[RecordedEvent],
        item_input: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """What the kind shows of one item: from its outcome, else from its events so far.

        Services and UIs read an item through this, never through the outcome's inner shape,
        the item's planned input or the kind's event names. The default shows the outcome's
        ``data``.
        """
        del events, item_input
        return dict((outcome or {}).get("data") or {})

    def verdict(self, summary: dict[str, Any], thresholds: Thresholds) -> CheckVerdict:
        """Pass or fail of a completed evaluation's ``summary`` against a check's thresholds.

        The default passes whatever finished: a kind with scores overrides it.
        """
        del summary, thresholds
        return CheckVerdict(passed=True, result="finished", needs="-")

    def item_keys(
        self, spec: EvaluationSpec, inputs: Sequence[dict[str, Any]]
    ) -> list[ItemKey | None]:
        """Each item's identity across evaluations of this kind, for pairing them in a compare.

        Two evaluations are compared item by item, so an item must be recognised in the other
        evaluation by what it tests (a probe's id, a task's name), not by its position or its
        database id. Items with equal keys are repetitions, paired in ``seq`` order. None
        leaves an item out of comparisons (a warm-up run). The default keys an item by its
        planned input, which is stable for kinds whose input names what it tests.
        """
        del spec
        return [ItemKey(json.dumps(value, sort_keys=True, default=str)) for value in inputs]
