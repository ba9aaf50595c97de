"""Tree of Attacks with Pruning (Mehrotra et al. 2023): the search behind ``tap`` attack probes.

The probe's opening prompt is the root and is answered first. Then, round by round up to
``depth``: the attacker proposes ``branching`` refinements of each live node, given the path
that led to it (prompts, answers, scores); phase 1 drops the refinements that drifted off the
goal before the target sees them; the target answers the rest, each in a fresh conversation
(as in the paper, the tree's history is the attacker's, not the target's); the probe's
detector (or the judge) says whether an answer is the attack's success, and an evaluator
scores the others 1-10; phase 2 keeps the ``width`` best-scored nodes (ties keep the earlier
node, so a rerun walks the same tree). The search stops at the first success.

Who proposes, checks the topic and scores is a ``TreeAttacker`` (``probes/attacks.py``):
scripted and deterministic offline, or an attacker model with an evaluator model.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from assay.probes.base import TreeSearch

#: The score of an answer that is the attack's success (the top of the 1-10 scale).
SUCCESS_SCORE = 10


class NodeStatus(StrEnum):
    SUCCESS = "success"  #: the answer is the attack's success; the search stopped here
    KEPT = "kept"  #: answered and among the best ``width`` of its round
    PRUNED_WIDTH = "pruned: width"  #: answered, but not among the best of its round
    PRUNED_OFF_TOPIC = "pruned: off topic"  #: never sent: the refinement left the goal
    LEAF = "leaf"  #: answered, and the search ended before expanding it


@dataclass
class Node:
    """One prompt of the tree; ``answer`` is None for a node pruned before the target saw it."""

    id: int
    depth: int
    parent: int | None
    prompt: str
    answer: str | None = None
    score: int = 0
    status: NodeStatus = NodeStatus.LEAF

    def trace(self) -> dict[str, Any]:
        return {
            "node": self.id,
            "depth": self.depth,
            "parent": self.parent,
            "attacker": self.prompt,
            "target": self.answer,
            "score": self.score,
            "status": self.status.value,
        }


class TreeAttacker(Protocol):
    """The attacker side of the search: proposes refinements, checks topics, scores answers."""

    async def propose(self, path: Sequence[Node], count: int) -> list[str]:
        """Up to ``count`` refinements of ``path[-1]``'s prompt, given the path from the root."""
        ...

    async def on_topic(self, prompt: str) -> bool: ...

    async def score(self, prompt: str, answer: str) -> int:
        """1 (refused or unrelated) to 9 (close): how near an unsuccessful answer came."""
        ...


#: Sends a node's prompt to the target, fills ``node.answer`` and says whether it succeeded.
Answer = Callable[[Node], Awaitable[bool]]
#: Told about a node pruned off-topic (never sent), so the evidence shows it.
Pruned = Callable[[Node], Awaitable[None]]


class SearchResult(NamedTuple):
    nodes: list[Node]
    """Every node in the order it was created (ids are positions)."""
    found: Node | None
    """The node whose answer succeeded; None when the tree held."""
    target_calls: int

    def path(self, node: Node) -> list[Node]:
        """The nodes from the root down to ``node``."""
        path = [node]
        while path[-1].parent is not None:
            path.append(self.nodes[path[-1].parent])
        return path[::-1]

    @property
    def shown(self) -> Node:
        """The node to report: the success, else the best-scored answer (the earliest on ties)."""
        if self.found is not None:
            return self.found
        answered = [n for n in self.nodes if n.answer is not None]
        return max(answered, key=lambda n: (n.score, -n.id))


async def search(
    tree: TreeSearch, root: str, attacker: TreeAttacker, answer: Answer, pruned: Pruned
) -> SearchResult:
    """Run the tree from the ``root`` prompt until an answer succeeds or ``tree.depth`` rounds end.

    Raises:
        ProviderError: the attacker's or the evaluator's infrastructure failed.
        TargetError: the agent failed on a prompt.
    """
    run = _Run(attacker, answer)
    live = [run.node(0, None, root)]
    if await run.ask(live[0]):
        return run.result(live[0])
    live[0].status = NodeStatus.KEPT
    for depth in range(1, tree.depth + 1):
        answered: list[Node] = []
        for parent in live:
            path = run.result(None).path(parent)
            for prompt in await attacker.propose(path, tree.branching):
                node = run.node(depth, parent.id, prompt)
                if not await attacker.on_topic(prompt):
                    node.status = NodeStatus.PRUNED_OFF_TOPIC
                    await pruned(node)
                elif await run.ask(node):
                    return run.result(node)
                else:
                    answered.append(node)
        ranked = sorted(answered, key=lambda n: (-n.score, n.id))
        live = ranked[: tree.width]
        if not live:
            break
        if depth < tree.depth:
            kept = {node.id for node in live}
            for node in ranked:
                node.status = NodeStatus.KEPT if node.id in kept else NodeStatus.PRUNED_WIDTH
    return run.result(None)


class _Run:
    """One search's nodes and its count of target calls."""

    def __init__(self, attacker: TreeAttacker, answer: Answer) -> None:
        self.nodes: list[Node] = []
        self.calls = 0
        self._attacker = attacker
        self._answer = answer

    def node(self, depth: int, parent: int | None, prompt: str) -> Node:
        node = Node(id=len(self.nodes), depth=depth, parent=parent, prompt=prompt)
        self.nodes.append(node)
        return node

    async def ask(self, node: Node) -> bool:
        """Send ``node`` to the target; score it (10 for a success). True when it succeeded."""
        self.calls += 1
        if await self._answer(node):
            node.score, node.status = SUCCESS_SCORE, NodeStatus.SUCCESS
            return True
        assert node.answer is not None
        node.score = await self._attacker.score(node.prompt, node.answer)
        return False

    def result(self, found: Node | None) -> SearchResult:
        return SearchResult(self.nodes, found, self.calls)
