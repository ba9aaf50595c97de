"""The state machines: every legal move allowed, every other move refused, every state reachable."""

from __future__ import annotations

import itertools

import pytest

from assay.core.errors import InvalidTransition
from assay.core.states import (
    ACTIVE_EVALUATION_STATUSES,
    PHASES,
    TERMINAL_ITEM_STATES,
    WORKING_ITEM_STATES,
    EvaluationStatus,
    ItemState,
    check_evaluation_move,
    check_item_move,
    item_sources,
)

LEGAL_ITEM_MOVES = {
    (ItemState.QUEUED, ItemState.CLAIMING),
    (ItemState.QUEUED, ItemState.CANCELLED),
    (ItemState.WAITING, ItemState.QUEUED),
    (ItemState.WAITING, ItemState.CANCELLED),
    *((w, ItemState.QUEUED) for w in WORKING_ITEM_STATES),
    *((w, ItemState.WAITING) for w in WORKING_ITEM_STATES),
    *((w, t) for w in WORKING_ITEM_STATES for t in TERMINAL_ITEM_STATES),
    *((ItemState.CLAIMING, p) for p in PHASES),
    *((a, b) for a, b in itertools.combinations(PHASES, 2)),
}


@pytest.mark.parametrize(("current", "new"), list(itertools.product(ItemState, ItemState)))
def test_item_moves_follow_the_table(current: ItemState, new: ItemState):
    if (current, new) in LEGAL_ITEM_MOVES:
        check_item_move(current, new)
        assert current in item_sources(new)
    else:
        with pytest.raises(InvalidTransition) as caught:
            check_item_move(current, new)
        assert current.value in caught.value.message and new.value in caught.value.message
        assert current not in item_sources(new)


def test_every_item_state_is_reachable_from_queued_and_ends_terminal():
    reached, frontier = {ItemState.QUEUED}, [ItemState.QUEUED]
    while frontier:
        state = frontier.pop()
        for new in ItemState:
            if (state, new) in LEGAL_ITEM_MOVES and new not in reached:
                reached.add(new)
                frontier.append(new)
    assert reached == set(ItemState)
    for terminal in TERMINAL_ITEM_STATES:
        assert not any((terminal, new) in LEGAL_ITEM_MOVES for new in ItemState)


def test_phases_only_move_forward():
    with pytest.raises(InvalidTransition):
        check_item_move(ItemState.VERIFYING, ItemState.AGENT_RUNNING)
    check_item_move(ItemState.PROVISIONING, ItemState.VERIFYING)


def test_terminal_evaluations_cannot_move_and_the_message_says_so():
    for status in (EvaluationStatus.COMPLETED, EvaluationStatus.FAILED, EvaluationStatus.CANCELLED):
        for new in EvaluationStatus:
            with pytest.raises(InvalidTransition, match=f"already {status.value}"):
                check_evaluation_move(status, new)


def test_waiting_verification_is_active_and_returns_to_running():
    assert EvaluationStatus.WAITING_VERIFICATION in ACTIVE_EVALUATION_STATUSES
    check_evaluation_move(EvaluationStatus.RUNNING, EvaluationStatus.WAITING_VERIFICATION)
    check_evaluation_move(EvaluationStatus.WAITING_VERIFICATION, EvaluationStatus.RUNNING)
    with pytest.raises(InvalidTransition):
        check_evaluation_move(EvaluationStatus.PENDING, EvaluationStatus.WAITING_VERIFICATION)
