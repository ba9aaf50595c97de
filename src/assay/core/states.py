"""Lifecycle states of evaluations and items, with their legal moves.

Items::

    queued -> claiming -> provisioning -> agent_running -> agent_finished -> verifying
      ^  ^                 (any working state) -> passed | failed | errored | timed_out
      |  |                                        | cancelled | infra_error
      |  +-- lease lost (crash) or released on shutdown, from any working state
      +----- event (a reviewer's answer, a timer) --- waiting <- any working state
                                                      (suspended: no lease, no worker)

The working phases are reported by the kind as it goes and may be skipped (an item that needs
no sandbox never provisions). A waiting item holds no lease and no worker slot; its saved state
stays with it until an event puts it back in the queue.

Evaluations::

    pending -> running <-> waiting_verification
       |          |              |
       +----------+--------------+--> completed | failed | cancelled

An evaluation is ``waiting_verification`` while its only unfinished items wait. The store
performs every move through one transition function that checks these tables
(``store/transitions.py``); :func:`check_evaluation_move` and :func:`check_item_move` raise
:class:`~assay.core.errors.InvalidTransition` naming both states.
"""

from __future__ import annotations

from enum import StrEnum

from assay.core.errors import InvalidTransition


class EvaluationStatus(StrEnum):
    PENDING = "pending"  #: created, no item has started yet
    RUNNING = "running"  #: at least one item has been claimed
    WAITING_VERIFICATION = "waiting_verification"  #: only waiting items are left (a reviewer)
    COMPLETED = "completed"  #: every item reached a terminal state
    FAILED = "failed"  #: the evaluation could not run (bad target, rejected key, ...)
    CANCELLED = "cancelled"  #: stopped on request; finished items are kept

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL_EVALUATION

    @property
    def is_active(self) -> bool:
        return self in ACTIVE_EVALUATION_STATUSES


class ItemState(StrEnum):
    QUEUED = "queued"  #: waiting to be claimed
    CLAIMING = "claiming"  #: a worker took it and is building what it needs
    PROVISIONING = "provisioning"  #: its sandbox or session is being prepared
    AGENT_RUNNING = "agent_running"  #: the target is working on it
    AGENT_FINISHED = "agent_finished"  #: the target is done; the verdict is not decided yet
    VERIFYING = "verifying"  #: the outcome is being checked (tests, judge)
    WAITING = "waiting"  #: suspended until an event (a reviewer's answer, a timer)
    PASSED = "passed"  #: finished, and the checks passed
    FAILED = "failed"  #: finished, and a check failed (the agent's result)
    ERRORED = "errored"  #: the agent under test raised or answered garbage
    TIMED_OUT = "timed_out"  #: the item's own deadline passed
    CANCELLED = "cancelled"  #: stopped on request
    INFRA_ERROR = "infra_error"  #: our or the provider's fault, after retries; not scored

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_ITEM_STATES


_TERMINAL_EVALUATION = frozenset(
    {EvaluationStatus.COMPLETED, EvaluationStatus.FAILED, EvaluationStatus.CANCELLED}
)
#: Evaluations that still hold (or wait for) work: they count against the concurrency quota.
ACTIVE_EVALUATION_STATUSES = frozenset(
    {EvaluationStatus.PENDING, EvaluationStatus.RUNNING, EvaluationStatus.WAITING_VERIFICATION}
)

TERMINAL_ITEM_STATES = frozenset(
    {
        ItemState.PASSED,
        ItemState.FAILED,
        ItemState.ERRORED,
        ItemState.TIMED_OUT,
        ItemState.CANCELLED,
        ItemState.INFRA_ERROR,
    }
)
#: States in which a worker holds the item's lease.
WORKING_ITEM_STATES = frozenset(
    {
        ItemState.CLAIMING,
        ItemState.PROVISIONING,
        ItemState.AGENT_RUNNING,
        ItemState.AGENT_FINISHED,
        ItemState.VERIFYING,
    }
)
#: The phases a kind may report, in their usual order.
PHASES = (
    ItemState.PROVISIONING,
    ItemState.AGENT_RUNNING,
    ItemState.AGENT_FINISHED,
    ItemState.VERIFYING,
)
#: States whose outcome counts towards scores and pass rates.
SCORED_ITEM_STATES = frozenset(
    {ItemState.PASSED, ItemState.FAILED, ItemState.ERRORED, ItemState.TIMED_OUT}
)

_EVALUATION_MOVES: dict[EvaluationStatus, frozenset[EvaluationStatus]] = {
    EvaluationStatus.PENDING: frozenset({EvaluationStatus.RUNNING, *_TERMINAL_EVALUATION}),
    EvaluationStatus.RUNNING: frozenset(
        {EvaluationStatus.WAITING_VERIFICATION, *_TERMINAL_EVALUATION}
    ),
    EvaluationStatus.WAITING_VERIFICATION: frozenset(
        {EvaluationStatus.RUNNING, *_TERMINAL_EVALUATION}
    ),
}

_ITEM_MOVES: dict[ItemState, frozenset[ItemState]] = {
    # A queued item is claimed, or cancelled before it starts.
    ItemState.QUEUED: frozenset({ItemState.CLAIMING, ItemState.CANCELLED}),
    # Every working state may go to a later phase, suspend, end, or (lease lost) back to queued.
    **{
        state: frozenset(
            {
                *PHASES[PHASES.index(state) + 1 if state in PHASES else 0 :],
                ItemState.WAITING,
                ItemState.QUEUED,
                *TERMINAL_ITEM_STATES,
            }
        )
        for state in WORKING_ITEM_STATES
    },
    # A waiting item is re-queued by its event, or cancelled with its evaluation.
    ItemState.WAITING: frozenset({ItemState.QUEUED, ItemState.CANCELLED}),
}


def item_sources(new: ItemState) -> frozenset[ItemState]:
    """The states from which an item may move to ``new`` (the store's WHERE clause)."""
    return frozenset(state for state, targets in _ITEM_MOVES.items() if new in targets)


def evaluation_sources(new: EvaluationStatus) -> frozenset[EvaluationStatus]:
    """The statuses from which an evaluation may move to ``new``."""
    return frozenset(status for status, targets in _EVALUATION_MOVES.items() if new in targets)


def check_evaluation_move(current: EvaluationStatus, new: EvaluationStatus) -> None:
    """Raise InvalidTransition unless ``current -> new`` is a legal evaluation move."""
    if new not in _EVALUATION_MOVES.get(current, frozenset()):
        if current.is_terminal:
            raise InvalidTransition(
                f"evaluation is already {current.value} and cannot become {new.value}"
            )
        raise InvalidTransition(f"evaluation cannot move from {current.value} to {new.value}")


def check_item_move(current: ItemState, new: ItemState) -> None:
    """Raise InvalidTransition unless ``current -> new`` is a legal item move."""
    if new not in _ITEM_MOVES.get(current, frozenset()):
        if current.is_terminal:
            raise InvalidTransition(
                f"item is already {current.value} and cannot become {new.value}"
            )
        raise InvalidTransition(f"item cannot move from {current.value} to {new.value}")
