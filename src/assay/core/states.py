"""Lifecycle states of evaluations and items, with their legal transitions.

An evaluation moves ``pending -> running -> completed | failed | cancelled`` (and through
``waiting_verification`` for checkpointed kinds). An item moves from ``queued`` through its
working states to exactly one terminal state; a lost lease returns a working item to
``queued``. Every illegal move raises :class:`~assay.core.errors.InvalidTransition` with a
message that names both states.
"""

from __future__ import annotations

from enum import StrEnum

from assay.core.errors import InvalidTransition


class EvaluationStatus(StrEnum):
    PENDING = "pending"  #: created, no item has started yet
    RUNNING = "running"  #: at least one item has been claimed
    WAITING_VERIFICATION = "waiting_verification"  #: paused for a human reviewer
    COMPLETED = "completed"  #: every item reached a terminal state
    FAILED = "failed"  #: the evaluation could not run (bad target, rejected key, ...)
    CANCELLED = "cancelled"  #: stopped on request; finished items are kept

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL_EVALUATION


class ItemState(StrEnum):
    QUEUED = "queued"  #: waiting to be claimed
    CLAIMING = "claiming"  #: a worker is taking it
    PROVISIONING = "provisioning"  #: its sandbox or session is being prepared
    AGENT_RUNNING = "agent_running"  #: the target is working on it
    VERIFYING = "verifying"  #: the outcome is being scored
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
WORKING_ITEM_STATES = frozenset(
    {ItemState.CLAIMING, ItemState.PROVISIONING, ItemState.AGENT_RUNNING, ItemState.VERIFYING}
)
#: States whose outcome counts towards scores and pass rates.
SCORED_ITEM_STATES = frozenset(
    {ItemState.PASSED, ItemState.FAILED, ItemState.ERRORED, ItemState.TIMED_OUT}
)

_EVALUATION_MOVES: dict[EvaluationStatus, frozenset[EvaluationStatus]] = {
    EvaluationStatus.PENDING: frozenset(
        {
            EvaluationStatus.RUNNING,
            EvaluationStatus.COMPLETED,
            EvaluationStatus.FAILED,
            EvaluationStatus.CANCELLED,
        }
    ),
    EvaluationStatus.RUNNING: frozenset(
        {
            EvaluationStatus.WAITING_VERIFICATION,
            EvaluationStatus.COMPLETED,
            EvaluationStatus.FAILED,
            EvaluationStatus.CANCELLED,
        }
    ),
    EvaluationStatus.WAITING_VERIFICATION: frozenset(
        {
            EvaluationStatus.RUNNING,
            EvaluationStatus.COMPLETED,
            EvaluationStatus.FAILED,
            EvaluationStatus.CANCELLED,
        }
    ),
}


def check_evaluation_move(current: EvaluationStatus, new: EvaluationStatus) -> None:
    """Raise InvalidTransition unless ``current -> new`` is a legal evaluation move."""
    if new not in _EVALUATION_MOVES.get(current, frozenset()):
        if current.is_terminal:
            raise InvalidTransition(
                f"evaluation is already {current.value} and cannot become {new.value}"
            )
        raise InvalidTransition(f"evaluation cannot move from {current.value} to {new.value}")
