"""The ``scenario`` kind: plan one item per run, hold, judge and audit each conversation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from typing_extensions import override

from assay.core.errors import ConfigurationError
from assay.core.outcome import ItemRecord, Metrics, Outcome, RecordedEvent, Score, Usage
from assay.core.spec import EvaluationSpec, ItemPlan, ModelRef
from assay.kinds.base import LLM, ItemContext, ItemKey, Kind
from assay.kinds.scenario.conversation import (
    TURN_EVENT,
    Conversation,
    describe_ending,
    hold_conversation,
)
from assay.kinds.scenario.params import ScenarioParams, check_references
from assay.kinds.scenario.summary import summarise_runs
from assay.kinds.toolkit import require_judge, target_model_label
from assay.scoring import stats
from assay.scoring.transcripts import (
    AuditResult,
    ModelCall,
    TranscriptJudge,
    TranscriptVerdict,
    criteria_from,
    describe_persona,
    describe_scenario,
)


class ScenarioKind(Kind[ScenarioParams]):
    name = "scenario"
    Params = ScenarioParams
    needs_judge = True

    @override
    def item_view(
        self,
        outcome: dict[str, Any] | None,
        events: Sequence[RecordedEvent],
        item_input: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The run's transcript, verdict and measures; while it runs, the turns so far."""
        del item_input
        if outcome is not None:
            return dict(outcome.get("data") or {})
        latest = max((e.attempt for e in events), default=0)
        turns = [e.payload for e in events if e.attempt == latest and e.kind == TURN_EVENT]
        return {
            "transcript": turns,
            "turn_count": len(turns),
            "agent_latency_ms": [t["latency_ms"] for t in turns if t.get("latency_ms") is not None],
        }

    @override
    def validate_params(self, params: dict[str, Any]) -> ScenarioParams:
        """Parse params; ids are unique and every run names a known scenario and persona.

        Raises:
            ValidationFailed: naming the field (``runs.3.scenario_id: unknown scenario 'x'``,
                ``personas.1.id: duplicates personas.0.id 'calm'``).
        """
        parsed = super().validate_params(params)
        check_references(parsed)
        return parsed

    @override
    def plan(self, spec: EvaluationSpec) -> list[ItemPlan]:
        """One item per run pair, in order."""
        params = self.validate_params(spec.params)
        return [ItemPlan(input={"run": index}) for index in range(len(params.runs))]

    @override
    def item_keys(
        self, spec: EvaluationSpec, inputs: Sequence[dict[str, Any]]
    ) -> list[ItemKey | None]:
        """A run by its scenario and persona, grouped by scenario."""
        runs = self.validate_params(spec.params).runs
        return [
            ItemKey(f"{run.scenario_id} / {run.persona_id}", run.scenario_id)
            for run in (runs[value["run"]] for value in inputs)
        ]

    @override
    async def run_item(self, item: ItemPlan, ctx: ItemContext) -> Outcome:
        """Hold the conversation, judge it, audit the simulated user.

        Raises:
            ProviderError: the simulator's, the judge's or the target's infrastructure
                failed (after retries), or the judge twice gave no usable reply.
            ConfigurationError: no judge, no simulator model, or a target that cannot hold
                a conversation.
        """
        params = self.item_params(ctx)
        run = params.runs[item.input["run"]]
        scenario = params.scenario(run.scenario_id)
        persona = params.persona(run.persona_id)
        judge = TranscriptJudge(require_judge(ctx, "scenario"))
        simulator = _simulator(ctx, params.simulator)
        persona_text = describe_persona(persona.name, persona.description, persona.traits)
        scenario_text = describe_scenario(scenario.name, scenario.instructions)
        conversation = await hold_conversation(
            ctx, simulator, params.simulator, persona_text, scenario_text, scenario.max_messages
        )
        context = describe_ending(conversation, scenario.max_messages)
        verdict = await judge.judge(
            scenario_text,
            context,
            conversation.turns,
            criteria_from(scenario.success_criteria, scenario.failure_criteria),
        )
        audit = (
            await judge.audit(persona_text, scenario_text, context, conversation.turns)
            if params.audit
            else None
        )
        final = "simulator_error" if audit is not None and not audit.faithful else verdict.verdict
        return _outcome(ctx, params, item.input["run"], conversation, verdict, audit, final)

    @override
    def summarise(self, spec: EvaluationSpec, items: Sequence[ItemRecord]) -> dict[str, Any]:
        """Verdict counts, the agent's pass rate, the scenario x persona matrix (``summary.py``)."""
        return summarise_runs(ScenarioParams.model_validate(spec.params), items)


def _simulator(ctx: ItemContext, ref: ModelRef) -> LLM:
    if ctx.llm is None:
        raise ConfigurationError("scenario evaluations need a simulator model (ctx.llm)")
    return ctx.llm(ref)


def _outcome(
    ctx: ItemContext,
    params: ScenarioParams,
    run_index: int,
    conversation: Conversation,
    verdict: TranscriptVerdict,
    audit: AuditResult | None,
    final: str,
) -> Outcome:
    run = params.runs[run_index]
    passed = {"passed": True, "failed": False}.get(final)
    reasoning = verdict.reasoning
    if final == "simulator_error" and audit is not None:
        reasoning = f"The simulated user was unfaithful: {audit.reasoning}"
    usage, metrics = _usage(ctx, params.simulator, conversation, verdict, audit)
    latencies = [r.latency_ms for r in conversation.responses]
    metrics.latency_ms = stats.mean(latencies) if latencies else 0.0
    return Outcome(
        passed=passed,
        scores=[
            Score(
                name="scenario",
                value=None if passed is None else float(passed),
                scale="binary",
                passed=passed,
                reason=reasoning,
            )
        ],
        metrics=metrics,
        trace={
            "judge": _call_trace(ctx, verdict.call),
            "audit": _call_trace(ctx, audit.call) if audit else None,
        },
        data={
            "run": run_index,
            "scenario_id": run.scenario_id,
            "persona_id": run.persona_id,
            "verdict": final,
            "judge_verdict": verdict.verdict,
            "termination": conversation.termination,
            "agent_error": conversation.agent_error,
            "turn_count": len(conversation.turns),
            "transcript": conversation.turns,
            "criteria": verdict.criteria,
            "reasoning": reasoning,
            "judge_reasoning": verdict.reasoning,
            "judge_notes": verdict.notes,
            "audit": _audit_data(audit),
            "agent_latency_ms": latencies,
            "usage": usage,
        },
    )


def _audit_data(audit: AuditResult | None) -> dict[str, Any]:
    if audit is None:
        return {"performed": False, "faithful": None, "issues": [], "reasoning": None}
    return {
        "performed": True,
        "faithful": audit.faithful,
        "issues": audit.issues,
        "reasoning": audit.reasoning,
        "notes": audit.notes,
    }


def _usage(
    ctx: ItemContext,
    simulator: ModelRef,
    conversation: Conversation,
    verdict: TranscriptVerdict,
    audit: AuditResult | None,
) -> tuple[dict[str, Any], Metrics]:
    """Tokens and cost per role (agent, simulator, judge, audit), and their totals."""
    judge_label = ctx.judge.label if ctx.judge else None
    agent = Usage()
    agent_cost = 0.0
    for response in conversation.responses:
        agent = agent + response.usage
        agent_cost += ctx.cost(target_model_label(ctx, response), response.usage)
    audit_usage = audit.call.usage if audit else Usage()
    roles = {
        "agent": (agent, agent_cost),
        "simulator": (
            conversation.simulator_usage,
            ctx.cost(simulator.label, conversation.simulator_usage),
        ),
        "judge": (verdict.call.usage, ctx.cost(judge_label, verdict.call.usage)),
        "audit": (audit_usage, ctx.cost(judge_label, audit_usage)),
    }
    total = Usage()
    for usage, _ in roles.values():
        total = total + usage
    cost = sum(c for _, c in roles.values())
    by_role = {name: {**u.model_dump(), "cost_usd": c} for name, (u, c) in roles.items()}
    metrics = Metrics(
        input_tokens=total.input_tokens, output_tokens=total.output_tokens, cost_usd=cost
    )
    return {**by_role, "total": {**total.model_dump(), "cost_usd": cost}}, metrics


def _call_trace(ctx: ItemContext, call: ModelCall) -> dict[str, Any]:
    return {
        "model": ctx.judge.label if ctx.judge else None,
        "messages": [{"role": m.role, "content": m.content} for m in call.messages],
        "raw": call.raw,
        "attempts": call.attempts,
        "usage": call.usage.model_dump(),
        "latency_ms": call.latency_ms,
    }
