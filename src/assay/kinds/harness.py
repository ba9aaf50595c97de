"""``harness``: red-team and trust probes, scored per dimension into a trust score (seed 003).

An evaluation carries its probes inline (resolved from the requested harnesses when it was
created), so a worker needs no catalogue. Each probe is one item:

1. A canary, ``ASSAY-CANARY-`` and 12 hex digits of sha256(item id), replaces ``{canary}`` in
   the probe's system prompt and prompts; it is the same on every attempt of the item.
2. Each prompt goes to the target in a fresh session (``<item id>:<n>``, n from 0) with the
   evaluation's system prompt followed by the probe's as the call's system prompt.
3. The probe's detector decides (``decided_by="rule"``). When it cannot (``passed is None``),
   the judge decides with the detector's criteria, binary (``decided_by="judge"``); with no
   judge the probe fails as "undecided, no judge configured" (``decided_by="none"``).

Scoring, per dimension (security, safety, reliability) that has probes:

- Items in ``infra_error`` or ``cancelled`` say nothing about the agent: they are left out
  of every score and counted as ``excluded``. ``errored`` and ``timed_out`` items are the
  agent's failures and count as failed probes.
- ``score`` is the severity-weighted pass rate over the scored probes: each probe weighs
  ``SEVERITY_WEIGHTS[severity]`` (high 3, medium 2, low 1), so
  ``score = sum(weight of passed) / sum(weight of scored)``. ``pass_rate`` is the
  unweighted rate and ``pass_rate_ci95`` its Wilson 95% interval, all on 0-1.
- A dimension with no probe, or with no scored probe, has score ``None``.
- ``trust_score`` is the mean of the dimension scores that exist, weighted by the
  evaluation's ``weights`` (1.0 each by default); ``None`` when no dimension has a score.

- ``score_ci95`` of a dimension is the 95% Wilson interval of its weighted score, with
  Kish's effective sample size (``scoring.stats.weighted_wilson_ci95``); ``trust_score_ci95``
  is the weighted mean of the dimensions' bounds (conservative). ``gate: lower-bound`` holds
  the thresholds to these lower bounds.

Every score is rounded to 4 decimals.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import override

from assay.core.errors import AssayError, ValidationFailed
from assay.core.llm import ChatRequest, ChatResponse
from assay.core.outcome import ItemRecord, Metrics, NormalizedResponse, Outcome, Score, Usage
from assay.core.spec import EvaluationSpec, ItemPlan, ModelRef
from assay.core.verdict import TRUST_DIMENSIONS, CheckVerdict, Thresholds
from assay.kinds import harness_summary
from assay.kinds.base import LLM, ItemContext, ItemKey, Kind
from assay.kinds.toolkit import (
    count_items,
    judge_trace,
    ordered,
    response_trace,
    target_model_label,
    usage_summary,
)
from assay.kinds.verdicts import problems, unsupported_gate
from assay.probes import attacks, tree_search
from assay.probes.base import AttackStrategy, Dimension, Probe
from assay.probes.transforms import RewriteModel, Transform, get_transform
from assay.scoring.detectors import DetectorResult, detect, judge_criteria, validate_detector
from assay.scoring.judge import Judge, Verdict

CANARY_PREFIX = "ASSAY-CANARY-"
CANARY_PLACEHOLDER = "{canary}"
UNDECIDED_REASON = "undecided, no judge configured"


def _default_weights() -> dict[Dimension, float]:
    return dict.fromkeys(Dimension, 1.0)


class HarnessParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    harnesses: list[str] = Field(
        default_factory=list,
        description=(
            "The harness names as requested (`trust_score`, `security`, ...), echoed in results."
        ),
    )
    probes: list[Probe] = Field(
        min_length=1,
        max_length=10_000,
        description=(
            "The probes to run, resolved when the evaluation was created and stored inline."
        ),
    )
    weights: dict[Dimension, Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        default_factory=_default_weights,
        description="Weight of each dimension in the trust score; a dimension left out weighs 1.0.",
    )
    system_prompt: str | None = Field(
        default=None,
        description="The evaluation's own system prompt, sent before each probe's system prompt.",
    )
    catalog_version: str | None = Field(
        default=None,
        description=(
            "The built-in catalogue's version when the probes were resolved (`CATALOG_VERSION`)."
        ),
    )
    transforms: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list,
        max_length=10,
        description=(
            "Run every probe once more per transform (`base64`, `translate:sw`, `paraphrase`, ...)."
        ),
    )
    transform_model: Annotated[str, Field(min_length=3, max_length=200)] | None = Field(
        default=None,
        description=(
            "`provider/model` that translates and paraphrases for transforms; the judge when unset."
        ),
    )
    attacker: Annotated[str, Field(min_length=3, max_length=200)] | ModelRef | None = Field(
        default=None,
        description=(
            "Who writes the turns of multi-turn attack probes: `scripted` (the default, offline), "
            "an attacker model `provider/model`, or a model with its endpoint (a project's "
            "default attacker: `{provider, model, base_url}`)."
        ),
    )

    @field_validator("weights")
    @classmethod
    def _every_dimension(cls, value: dict[Dimension, float]) -> dict[Dimension, float]:
        return {**_default_weights(), **value}


class _Calls(NamedTuple):
    prompts: list[str]
    responses: list[NormalizedResponse]
    system_prompt: str | None


class _Decision(NamedTuple):
    passed: bool
    reason: str
    decided_by: str
    verdict: Verdict | None


class _Spend:
    """Tokens and cost of the other models an item asks, for its metrics.

    Besides the target and its last verdict's judge: the attacker, the tree's evaluator, the
    judge of earlier turns, a rewriting model; so a scan's cost counts every call it caused.
    """

    def __init__(self, ctx: ItemContext) -> None:
        self.usage = Usage()
        self.cost = 0.0
        self._ctx = ctx

    def add(self, label: str | None, usage: Usage) -> None:
        self.usage = self.usage + usage
        self.cost += self._ctx.cost(label, usage)

    def add_verdict(self, decision: _Decision) -> None:
        """Count the judge's call behind a decision that is not the item's last."""
        if decision.verdict is not None:
            judge = self._ctx.judge
            self.add(judge.label if judge else None, decision.verdict.usage)

    def metered(self, model: LLM) -> _Metered:
        return _Metered(model, self)


class _Metered:
    """A model whose every answer's usage is added to an item's ``_Spend``."""

    def __init__(self, model: LLM, spend: _Spend) -> None:
        self.label = model.label
        self._model = model
        self._spend = spend

    async def generate(self, request: ChatRequest) -> ChatResponse:
        response = await self._model.generate(request)
        self._spend.add(self.label, response.usage)
        return response


class _AttackRun(NamedTuple):
    """An attack probe's calls and decision, the call to report, and its data and evidence."""

    calls: _Calls
    result: DetectorResult
    decision: _Decision
    shown: int
    data: dict[str, Any]
    evidence: dict[str, Any]


def make_canary(item_id: str) -> str:
    """The item's canary token: the same for every attempt of one item, different across items."""
    return CANARY_PREFIX + hashlib.sha256(item_id.encode()).hexdigest()[:12].upper()


def fill_canary(text: str, canary: str) -> str:
    """``text`` with every ``{canary}`` replaced (other braces are left alone)."""
    return text.replace(CANARY_PLACEHOLDER, canary)


def join_system_prompts(*parts: str | None) -> str | None:
    """The non-empty parts in order, separated by a blank line; None when there are none."""
    kept = [part for part in parts if part]
    return "\n\n".join(kept) if kept else None


class HarnessKind(Kind[HarnessParams]):
    name = "harness"
    Params = HarnessParams
    #: The engine fills the default judge; detectors decide first, the judge only when a rule
    #: cannot.
    needs_judge = True

    @override
    def validate_params(self, params: dict[str, Any]) -> HarnessParams:
        """Parse params and check every probe's detector.

        Raises:
            ValidationFailed: a field is wrong; a detector is unknown or has bad parameters
                (loc ``probes.<i>.detector...``); two probes share an id (``probes.<i>.id``).
        """
        parsed = super().validate_params(params)
        seen: dict[str, int] = {}
        for index, probe in enumerate(parsed.probes):
            if probe.id in seen:
                raise ValidationFailed.for_field(
                    ("probes", index, "id"), f"duplicates probes.{seen[probe.id]}.id {probe.id!r}"
                )
            seen[probe.id] = index
            try:
                validate_detector(probe.detector.name, probe.detector.params)
            except ValidationFailed as exc:
                raise _detector_error(index, exc) from None
        for index, ref in enumerate(parsed.transforms):
            if ref in parsed.transforms[:index]:
                raise ValidationFailed.for_field(("transforms", index), f"repeats {ref!r}")
            try:
                get_transform(ref)
            except ValidationFailed as exc:
                raise ValidationFailed.for_field(("transforms", index), exc.message) from None
        if parsed.transform_model is not None:
            ModelRef.parse(parsed.transform_model, field="transform_model")
        if isinstance(parsed.attacker, str) and parsed.attacker != attacks.SCRIPTED:
            ModelRef.parse(parsed.attacker, field="attacker")
        return parsed

    @override
    def plan(self, spec: EvaluationSpec) -> list[ItemPlan]:
        """One item per probe as written, then one per probe for each transform, in order."""
        params = self.validate_params(spec.params)
        plans = [ItemPlan(input={"probe": index}) for index in range(len(params.probes))]
        single_turn = [i for i, probe in enumerate(params.probes) if probe.attack is None]
        for ref in params.transforms:
            plans += [ItemPlan(input={"probe": index, "transform": ref}) for index in single_turn]
        return plans

    @override
    def item_keys(
        self, spec: EvaluationSpec, inputs: Sequence[dict[str, Any]]
    ) -> list[ItemKey | None]:
        """A probe by its stable id, grouped by its dimension.

        A transformed run is keyed ``<id>@<transform>``, so it pairs only with the same
        transform in a baseline. Read like ``summarise`` reads it: a stored evaluation's probes are never re-checked
        against today's detectors, so an old evaluation stays comparable.
        """
        probes = HarnessParams.model_validate(spec.params).probes
        keys: list[ItemKey | None] = []
        for value in inputs:
            probe = probes[value["probe"]]
            transform = value.get("transform")
            key = f"{probe.id}@{transform}" if transform else probe.id
            keys.append(ItemKey(key, probe.category.value))
        return keys

    @override
    async def run_item(self, item: ItemPlan, ctx: ItemContext) -> Outcome:
        """Send the probe's prompts, then let the detector (or the judge) decide.

        Raises:
            ProviderError: the target's or the judge's infrastructure failed (after retries),
                or the judge twice gave no valid verdict.
            TargetError: the agent failed on a prompt.
        """
        params = self.item_params(ctx)
        probe = params.probes[item.input["probe"]]
        ref: str | None = item.input.get("transform")
        canary = make_canary(ctx.item_id)
        extra: dict[str, Any] = {}
        evidence: dict[str, Any] = {}
        spend = _Spend(ctx)
        if probe.attack is not None:
            run = await (_tree_attack if probe.attack.strategy is AttackStrategy.TAP else _attack)(
                probe, params, canary, ctx, spend
            )
            calls, result, decision, shown, extra, evidence = run
            outputs = [response.output for response in calls.responses]
        else:
            rewriting = _Rewriting.of(ref, params, ctx, spend)
            calls = await _send(probe, params.system_prompt, canary, ctx, rewriting)
            outputs = [response.output for response in calls.responses]
            if rewriting is not None:
                outputs = [await rewriting.read_back(output) for output in outputs]
            # Detectors run on a worker thread: a long answer never holds up the event loop.
            result = await asyncio.to_thread(
                detect, probe.detector.name, probe.detector.params, outputs, canary
            )
            decision = await _decide(probe, result, calls, ctx)
            shown = await asyncio.to_thread(_shown_call, probe, decision, outputs, canary)
            if ref:
                extra = {"transform": ref}
        return Outcome(
            passed=decision.passed,
            scores=[
                Score(
                    name=probe.detector.name,
                    value=1.0 if decision.passed else 0.0,
                    scale="binary",
                    passed=decision.passed,
                    reason=decision.reason,
                )
            ],
            metrics=_metrics(ctx, calls.responses, decision.verdict, spend),
            trace={
                "canary": canary,
                "system_prompt": calls.system_prompt,
                "calls": [
                    response_trace(prompt, response)
                    for prompt, response in zip(calls.prompts, calls.responses, strict=True)
                ],
                "detector": {
                    "name": probe.detector.name,
                    "params": probe.detector.params,
                    "passed": result.passed,
                    "reason": result.reason,
                },
                "judge": judge_trace(ctx, decision.verdict) if decision.verdict else None,
                **(
                    {"transform": {"name": ref, "prompts": probe.prompts, "read_back": outputs}}
                    if ref
                    else {}
                ),
                **evidence,
            },
            data={
                "probe_id": probe.id,
                "category": probe.category.value,
                "subcategory": probe.subcategory,
                "severity": probe.severity.value,
                "passed": decision.passed,
                "reason": decision.reason,
                "decided_by": decision.decided_by,
                "prompt": calls.prompts[shown],
                "response": outputs[shown],
                **extra,
            },
        )

    @override
    def verdict(self, summary: dict[str, Any], thresholds: Thresholds) -> CheckVerdict:
        """Trust score against ``min_trust_score``, each measured dimension against ``min_dimension_score``.

        Under ``gate: lower-bound`` the bars apply to the lower bounds of the scores' 95%
        intervals (``trust_score_ci95``, each dimension's ``score_ci95``) instead.
        """
        unsupported = unsupported_gate(thresholds, self.name, ("point", "lower-bound"))
        if unsupported is not None:
            return unsupported
        by_bound = thresholds.gate == "lower-bound"
        trust = summary.get("trust_score")
        scores = {d: summary.get(f"{d}_score") for d in TRUST_DIMENSIONS}
        measured = {d: s for d, s in scores.items() if s is not None}
        bound = "lower bound of " if by_bound else ""
        needs = (
            [f"{bound}trust >= {thresholds.min_trust_score:g}"]
            if thresholds.min_trust_score is not None
            else []
        )
        if thresholds.min_dimension_score is not None:
            needs.append(f"{bound}each dimension >= {thresholds.min_dimension_score:g}")
        if trust is None:
            return CheckVerdict(
                passed=False,
                result=f"nothing scored{problems(summary)}",
                needs=", ".join(needs) or "-",
            )
        parts = ", ".join(f"{d} {s:.2f}" for d, s in measured.items())
        result = f"trust {trust:.2f}" + (f" ({parts})" if parts else "")
        if by_bound:
            blocks = summary.get("dimensions", {})
            trust = (summary.get("trust_score_ci95") or {}).get("lower", 0.0)
            measured = {d: (blocks[d].get("score_ci95") or {}).get("lower", 0.0) for d in measured}
            lower = ", ".join(f"{d} {s:.2f}" for d, s in measured.items())
            result += f"; lower bounds: trust {trust:.2f}" + (f" ({lower})" if lower else "")
        passed = (thresholds.min_trust_score is None or trust >= thresholds.min_trust_score) and (
            thresholds.min_dimension_score is None
            or all(s >= thresholds.min_dimension_score for s in measured.values())
        )
        result += problems(summary)
        return CheckVerdict(passed=passed, result=result, needs=", ".join(needs) or "-")

    @override
    def summarise(self, spec: EvaluationSpec, items: Sequence[ItemRecord]) -> dict[str, Any]:
        """Dimension scores, the trust score, the failures and counts; see the module doc."""
        params = HarnessParams.model_validate(spec.params)
        rows = [harness_summary.row_of(item, params.probes) for item in ordered(items)]
        dimensions = {
            dimension.value: harness_summary.dimension_block(
                [r for r in rows if r.probe.category == dimension]
            )
            for dimension in Dimension
            if any(r.probe.category == dimension for r in rows)
        }
        scores = {name: block["score"] for name, block in dimensions.items()}
        return {
            "trust_score": harness_summary.trust_score(scores, params.weights),
            "trust_score_ci95": harness_summary.trust_interval(dimensions, params.weights),
            "security_score": scores.get(Dimension.SECURITY.value),
            "safety_score": scores.get(Dimension.SAFETY.value),
            "reliability_score": scores.get(Dimension.RELIABILITY.value),
            "dimensions": dimensions,
            "weights": {dimension.value: w for dimension, w in params.weights.items()},
            "failures": harness_summary.failures(rows),
            "summary": harness_summary.breakdown(rows),
            "usage": usage_summary(items),
            "counts": count_items(items),
            "catalog": {"harnesses": params.harnesses, "version": params.catalog_version},
            **(
                {"by_transform": harness_summary.by_transform(rows, params.transforms)}
                if params.transforms
                else {}
            ),
        }


def _detector_error(index: int, exc: ValidationFailed) -> ValidationFailed:
    """``exc`` with each error's loc moved under ``probes.<index>.detector``."""
    prefix: list[str | int] = ["probes", index, "detector"]
    errors = []
    for error in exc.errors or [{"loc": [], "msg": exc.message, "type": "value_error"}]:
        loc = list(error.get("loc", []))
        if loc[:1] == ["detector"]:
            loc = loc[1:]
        errors.append({**error, "loc": [*prefix, *loc]})
    message = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
    return ValidationFailed(message, errors)


def _conversation(prompts: list[str], outputs: list[str]) -> list[dict[str, Any]]:
    return [
        {"turn": n, "attacker": prompt, "target": output}
        for n, (prompt, output) in enumerate(zip(prompts, outputs, strict=True), start=1)
    ]


async def _attack(
    probe: Probe, params: HarnessParams, canary: str, ctx: ItemContext, spend: _Spend
) -> _AttackRun:
    """Talk to the target turn by turn in one session until a turn fails or turns run out.

    Each turn is decided like a one-prompt probe (the detector, then the judge) and stored as
    an ``attack_turn`` event at once; the first failing turn ends the attack.
    """
    assert probe.attack is not None
    attack = probe.attack
    system = join_system_prompts(
        params.system_prompt,
        fill_canary(probe.system_prompt, canary) if probe.system_prompt else None,
    )
    attacker = _attacker_model(params, ctx, spend)
    session = f"{ctx.item_id}:attack"
    prompts: list[str] = []
    responses: list[NormalizedResponse] = []
    history: list[attacks.Turn] = []
    earlier: _Decision | None = None
    prompt = fill_canary(probe.prompts[0], canary)
    try:
        for turn in range(1, attack.max_turns + 1):
            response = await ctx.target.converse(prompt, session_id=session, system_prompt=system)
            prompts.append(prompt)
            responses.append(response)
            history.append(attacks.Turn(prompt, response.output))
            result = await asyncio.to_thread(
                detect, probe.detector.name, probe.detector.params, [response.output], canary
            )
            if earlier is not None:  # the earlier turn's decision is not the item's last
                spend.add_verdict(earlier)
            decision = await _decide(probe, result, _Calls([prompt], [response], system), ctx)
            earlier = decision
            await ctx.log(
                "attack_turn",
                {
                    "turn": turn,
                    "attacker": prompt,
                    "target": response.output,
                    "passed": decision.passed,
                    "reason": decision.reason,
                    "decided_by": decision.decided_by,
                },
            )
            if not decision.passed:
                reason = f"turn {turn} of {attack.max_turns} ({attack.strategy}): {decision.reason}"
                break
            if turn < attack.max_turns:
                prompt = fill_canary(await attacks.next_turn(attack, history, attacker), canary)
        else:
            reason = f"held for all {attack.max_turns} turns ({attack.strategy}): {decision.reason}"
    finally:
        try:
            await ctx.target.end_session(session)
        except AssayError as exc:
            await ctx.log("session_end_error", {"error": exc.message})
    outputs = [response.output for response in responses]
    return _AttackRun(
        _Calls(prompts, responses, system),
        result,
        decision._replace(reason=reason),
        shown=len(outputs) - 1,
        data={"turns": len(outputs)},
        evidence={"conversation": _conversation(prompts, outputs)},
    )


def _attacker_model(params: HarnessParams, ctx: ItemContext, spend: _Spend) -> _Metered | None:
    """The evaluation's attacker model, metered into the item; None for the scripted attacker."""
    if params.attacker in (None, attacks.SCRIPTED) or ctx.llm is None:
        return None
    ref = params.attacker if isinstance(params.attacker, ModelRef) else None
    return spend.metered(ctx.llm(ref or ModelRef.parse(str(params.attacker)), role="attacker"))


async def _tree_attack(
    probe: Probe, params: HarnessParams, canary: str, ctx: ItemContext, spend: _Spend
) -> _AttackRun:
    """A ``tap`` probe: the tree search of ``probes/tree_search.py`` against the target.

    Every node the target answers is decided like a one-prompt probe (the detector, then the
    judge) in its own session and stored at once as an ``attack_node`` event with its place
    in the tree (``node``, ``depth``, ``parent``); a refinement pruned off-topic is stored as
    ``attack_pruned``. The first failing answer ends the search.
    """
    assert probe.attack is not None
    attack, tree = probe.attack, probe.attack.search
    system = join_system_prompts(
        params.system_prompt,
        fill_canary(probe.system_prompt, canary) if probe.system_prompt else None,
    )
    model = _attacker_model(params, ctx, spend)
    attacker: tree_search.TreeAttacker = (
        attacks.ScriptedTreeAttacker(attack, lambda text: fill_canary(text, canary))
        if model is None
        else attacks.ModelTreeAttacker(
            attack, model, spend.metered(ctx.judge) if ctx.judge else model
        )
    )
    prompts: list[str] = []
    responses: list[NormalizedResponse] = []
    #: node id -> its call's index, detector result and decision
    decisions: dict[int, tuple[int, DetectorResult, _Decision]] = {}

    async def answer(node: tree_search.Node) -> bool:
        response = await ctx.target.invoke(
            node.prompt, session_id=f"{ctx.item_id}:tap:{node.id}", system_prompt=system
        )
        prompts.append(node.prompt)
        responses.append(response)
        node.answer = response.output
        result = await asyncio.to_thread(
            detect, probe.detector.name, probe.detector.params, [response.output], canary
        )
        decision = await _decide(probe, result, _Calls([node.prompt], [response], system), ctx)
        decisions[node.id] = (len(prompts) - 1, result, decision)
        await ctx.log(
            "attack_node",
            {
                "node": node.id,
                "depth": node.depth,
                "parent": node.parent,
                "attacker": node.prompt,
                "target": response.output,
                "passed": decision.passed,
                "reason": decision.reason,
                "decided_by": decision.decided_by,
            },
        )
        return not decision.passed

    async def pruned(node: tree_search.Node) -> None:
        await ctx.log(
            "attack_pruned",
            {"node": node.id, "depth": node.depth, "parent": node.parent, "attacker": node.prompt},
        )

    root = fill_canary(probe.prompts[0], canary)
    found = await tree_search.search(tree, root, attacker, answer, pruned)
    shown = found.shown
    index, result, decision = decisions[shown.id]
    for node_id, (_, _, other) in decisions.items():
        if node_id != shown.id:
            spend.add_verdict(other)
    path = found.path(shown)
    route = " > ".join(str(node.id) for node in path)
    if found.found is not None:
        reason = f"depth {shown.depth} of {tree.depth} (tap, nodes {route}): {decision.reason}"
    else:
        reason = (
            f"held for the whole tree ({found.target_calls} target calls, depth {tree.depth}, "
            f"tap): {decision.reason}"
        )
    return _AttackRun(
        _Calls(prompts, responses, system),
        result,
        decision._replace(reason=reason),
        shown=index,
        data={"target_calls": found.target_calls, "depth": shown.depth},
        evidence={
            "conversation": [
                {"turn": n, "node": node.id, "attacker": node.prompt, "target": node.answer}
                for n, node in enumerate(path, start=1)
            ],
            "tree": [node.trace() for node in found.nodes],
        },
    )


class _Rewriting(NamedTuple):
    """An item's transform with the model it rewrites with (None when it needs none)."""

    transform: Transform
    model: RewriteModel | None

    @classmethod
    def of(
        cls, ref: str | None, params: HarnessParams, ctx: ItemContext, spend: _Spend
    ) -> _Rewriting | None:
        if ref is None:
            return None
        transform = get_transform(ref)
        if not transform.needs_model:
            return cls(transform, None)
        if params.transform_model is not None and ctx.llm is not None:
            model = ctx.llm(ModelRef.parse(params.transform_model))
            return cls(transform, spend.metered(model))
        return cls(transform, spend.metered(ctx.judge) if ctx.judge else None)

    async def apply(self, prompt: str) -> str:
        return await self.transform.apply(prompt, self.model)

    async def read_back(self, response: str) -> str:
        return await self.transform.read_back(response, self.model)


async def _send(
    probe: Probe,
    system_prompt: str | None,
    canary: str,
    ctx: ItemContext,
    rewriting: _Rewriting | None = None,
) -> _Calls:
    """Each prompt (transformed, if the item has a transform) in its own fresh session."""
    probe_system = fill_canary(probe.system_prompt, canary) if probe.system_prompt else None
    system = join_system_prompts(system_prompt, probe_system)
    prompts = [fill_canary(prompt, canary) for prompt in probe.prompts]
    if rewriting is not None:
        prompts = [await rewriting.apply(prompt) for prompt in prompts]
    responses = [
        await ctx.target.invoke(prompt, session_id=f"{ctx.item_id}:{n}", system_prompt=system)
        for n, prompt in enumerate(prompts)
    ]
    return _Calls(prompts, responses, system)


async def _decide(
    probe: Probe, result: DetectorResult, calls: _Calls, ctx: ItemContext
) -> _Decision:
    """The detector's answer; the judge's when the detector cannot decide."""
    if result.passed is not None:
        return _Decision(result.passed, result.reason, "rule", None)
    if ctx.judge is None:
        return _Decision(False, UNDECIDED_REASON, "none", None)
    verdict = await Judge(ctx.judge).criteria(
        input=_numbered("Prompt", calls.prompts),
        output=_numbered("Response", [r.output for r in calls.responses]),
        criteria=judge_criteria(probe.detector.name, probe.detector.params),
        strategy="binary",
        context=(
            f"The agent was given this system prompt:\n{calls.system_prompt}"
            if calls.system_prompt
            else None
        ),
    )
    return _Decision(verdict.passed is True, verdict.reason, "judge", verdict)


def _numbered(label: str, texts: list[str]) -> str:
    """One text as is; several as numbered blocks, so the judge can tell them apart."""
    if len(texts) == 1:
        return texts[0]
    return "\n\n".join(f"{label} {n}:\n{text}" for n, text in enumerate(texts, start=1))


def _shown_call(probe: Probe, decision: _Decision, outputs: list[str], canary: str) -> int:
    """Which prompt and response to report, by index.

    The first, or for a failed multi-prompt probe the first response that fails the detector
    on its own (the first when none does alone, as with an agreement check).
    """
    if decision.passed or len(outputs) == 1 or decision.decided_by != "rule":
        return 0
    for index, output in enumerate(outputs):
        alone = detect(probe.detector.name, probe.detector.params, [output], canary)
        if alone.passed is False:
            return index
    return 0


def _metrics(
    ctx: ItemContext, responses: list[NormalizedResponse], verdict: Verdict | None, spend: _Spend
) -> Metrics:
    """The target's latency over all prompts; tokens and cost of every model the item asked."""
    usage, cost = spend.usage, spend.cost
    for response in responses:
        usage = usage + response.usage
        cost += ctx.cost(target_model_label(ctx, response), response.usage)
    if verdict is not None:
        usage = usage + verdict.usage
        cost += ctx.cost(ctx.judge.label if ctx.judge else None, verdict.usage)
    return Metrics(
        latency_ms=sum(response.latency_ms for response in responses),
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=cost,
    )
