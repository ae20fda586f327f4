"""Optimization suggestions for a definition, from what its past runs measured.

Pure: the caller (``executions.optimization``) gathers the history into
:class:`StepHistory` rows and the model prices; this module decides. Suggestions:

``parallelize``
    A ``depends_on`` edge that no reference needs (the step reads nothing of the
    other): dropping it lets both run side by side. The effect is the change of
    the critical path. Applied when ``speed`` is a goal. Caveat: a step that relies
    on a side effect of the other (not on its result) must keep the edge.
``critical_path``
    The chain of dependent steps that bounds a run's duration, by measured average
    step durations (defaults by type for steps without history). Informational.
``cheaper_model``
    A cheaper model further down the step's fallback chain, priced from the model
    endpoints with the step's measured token counts. With ``max_cost``, the first
    model in chain order that brings the run under it; otherwise the first cheaper
    one. Applied when ``cost`` is a goal and ``accuracy`` is not, or when it is
    needed to meet ``max_cost``.
``add_retries``
    Steps whose attempts failed with transient errors (timeout, rate_limit,
    temporary_failure) that the error handling does not retry: an
    ``error_handlers`` rule retries them (3 attempts, 5 s apart). The effect assumes
    independent failures: a failure rate p becomes p³. Always applied.
``max_parallel_steps``
    When more steps could run at once than the runs' ``max_parallel_steps`` allows,
    a higher limit (it belongs to ``execution_config``, not the definition).

Durations of whole runs are simulated: steps start in definition order as soon
as their dependencies are done and a slot (of ``max_parallel_steps``) is free.
"""

from __future__ import annotations

import copy
import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from workflows.definition.estimate import ModelPrice, estimate_definition
from workflows.definition.graph import critical_path, referenced_steps, step_dependencies
from workflows.definition.schema import TRANSIENT_ERROR_TYPES, WorkflowDefinition

__all__ = [
    "GOALS",
    "OptimizeRequestInvalid",
    "Plan",
    "StepHistory",
    "optimize",
    "parse_request",
    "simulate_duration",
]

GOALS = ("speed", "cost", "accuracy")
CONSTRAINTS = ("max_cost", "max_duration_seconds")
RETRY_ATTEMPTS = 3
RETRY_WAIT_SECONDS = 5.0
#: A step is flaky when at least this share of its attempts failed transiently...
FLAKY_RATE = 0.05
#: ... and at least this many did.
FLAKY_MIN_FAILURES = 2


class OptimizeRequestInvalid(ValueError):
    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


def parse_request(data: Any) -> tuple[list[str], dict[str, float]]:
    """``(goals, constraints)`` from the request body; empty goals mean all three."""
    if not isinstance(data, Mapping):
        raise OptimizeRequestInvalid("non_field_errors", "A JSON object.")
    unknown = sorted(set(data) - {"optimization_goals", "constraints"})
    if unknown:
        raise OptimizeRequestInvalid(unknown[0], "Unknown field.")
    goals = data.get("optimization_goals")
    if goals is None:
        goals = []
    if not isinstance(goals, list) or not all(isinstance(g, str) for g in goals):
        raise OptimizeRequestInvalid("optimization_goals", f"A list of: {', '.join(GOALS)}.")
    bad = [g for g in goals if g not in GOALS]
    if bad:
        raise OptimizeRequestInvalid(
            "optimization_goals", f"Unknown goal {bad[0]!r}; use {', '.join(GOALS)}."
        )
    constraints = data.get("constraints")
    if constraints is None:
        constraints = {}
    if not isinstance(constraints, Mapping):
        raise OptimizeRequestInvalid(
            "constraints", "An object with max_cost, max_duration_seconds."
        )
    out: dict[str, float] = {}
    for key, value in constraints.items():
        if key not in CONSTRAINTS:
            raise OptimizeRequestInvalid(
                f"constraints.{key}", f"Unknown constraint; use {', '.join(CONSTRAINTS)}."
            )
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise OptimizeRequestInvalid(f"constraints.{key}", "A positive number.")
        if not math.isfinite(value):
            raise OptimizeRequestInvalid(f"constraints.{key}", "A finite number.")
        out[key] = float(value)
    return list(dict.fromkeys(goals)) or list(GOALS), out


@dataclass(frozen=True)
class StepHistory:
    """What past runs measured for one step."""

    runs: int = 0
    avg_duration_seconds: float | None = None
    avg_cost: Decimal | None = None
    attempts: int = 0
    transient_failures: dict[str, int] = field(default_factory=dict)
    avg_input_tokens: float | None = None
    avg_output_tokens: float | None = None


@dataclass
class Plan:
    suggestions: list[dict[str, Any]]
    optimized_document: dict[str, Any]
    recommended_execution_config: dict[str, Any]
    projected: dict[str, Any]
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "suggestions": self.suggestions,
            "optimized_definition": self.optimized_document,
            "recommended_execution_config": self.recommended_execution_config,
            "projected": self.projected,
            "warnings": self.warnings,
        }


def simulate_duration(
    deps: Mapping[str, set[str]], durations: Mapping[str, float], slots: int | None
) -> float:
    """How long the steps take with at most ``slots`` running at once (None: no limit)."""
    order = {node: i for i, node in enumerate(deps)}
    waiting = {n: {d for d in targets if d in order} for n, targets in deps.items()}
    users: dict[str, list[str]] = {n: [] for n in deps}
    for node, targets in waiting.items():
        for target in targets:
            users[target].append(node)
    ready = [order[n] for n, t in waiting.items() if not t]
    heapq.heapify(ready)
    names = list(deps)
    running: list[tuple[float, int]] = []
    now = 0.0
    done = 0
    while ready or running:
        while ready and (slots is None or len(running) < slots):
            node = names[heapq.heappop(ready)]
            heapq.heappush(running, (now + float(durations.get(node, 0.0)), order[node]))
        if not running:
            break  # a cycle: nothing can start
        now, index = heapq.heappop(running)
        done += 1
        for user in users[names[index]]:
            waiting[user].discard(names[index])
            if not waiting[user]:
                heapq.heappush(ready, order[user])
    return now


def _max_concurrency(deps: Mapping[str, set[str]], durations: Mapping[str, float]) -> int:
    """The most steps running at the same moment with no limit (earliest starts)."""
    finish: dict[str, float] = {}
    events: list[tuple[float, int]] = []
    order = list(deps)
    pending = dict(deps)
    while pending:  # a topological sweep; deps are known acyclic by the caller
        progressed = False
        for node in order:
            if node in pending and all(d in finish or d not in deps for d in pending[node]):
                start = max((finish[d] for d in pending[node] if d in finish), default=0.0)
                finish[node] = start + max(float(durations.get(node, 0.0)), 1e-6)
                events += [(start, 1), (finish[node], -1)]
                del pending[node]
                progressed = True
        if not progressed:
            return 1
    width = best = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        width += delta
        best = max(best, width)
    return best


def _step_cost(
    model: str | None,
    hist: StepHistory | None,
    tokens: tuple[int, int],
    prices: Mapping[str, ModelPrice],
) -> Decimal | None:
    if not model or model not in prices:
        return None
    inp = hist.avg_input_tokens if hist and hist.avg_input_tokens else tokens[0]
    out = hist.avg_output_tokens if hist and hist.avg_output_tokens else tokens[1]
    price = prices[model]
    return (Decimal(str(inp)) * price.input_per_1k + Decimal(str(out)) * price.output_per_1k) / 1000


def _retried(definition: WorkflowDefinition, step_id: str, error_type: str) -> bool:
    """Whether the error handling already retries (or otherwise handles) this error."""
    handling = definition.error_handling
    if handling is None:
        return False
    for rule in handling.error_handlers:
        if rule.on == error_type and (rule.steps is None or step_id in rule.steps):
            return True
    policy = handling.retry_policy
    if policy is not None and policy.max_retries > 0 and error_type in policy.retry_on_errors:
        return True
    return handling.retry_failed_steps and handling.max_retries > 0


def _f(value: Decimal | float) -> float:
    return round(float(value), 6)


def optimize(
    definition: WorkflowDefinition,
    document: Mapping[str, Any],
    *,
    history: Mapping[str, StepHistory],
    prices: Mapping[str, ModelPrice],
    goals: list[str],
    constraints: Mapping[str, float],
    max_parallel_steps: int,
) -> Plan:
    """Suggestions and the optimized document (see the module docstring)."""
    goal_set = set(goals)
    base = estimate_definition(
        definition,
        prices=prices,
        step_durations={
            k: h.avg_duration_seconds
            for k, h in history.items()
            if h.avg_duration_seconds is not None
        },
    )
    durations = {k: e.duration_seconds for k, e in base.steps.items()}
    step_cost: dict[str, Decimal] = {}
    for k, e in base.steps.items():
        measured = history[k].avg_cost if k in history else None
        step_cost[k] = measured if measured is not None else e.cost
    deps = step_dependencies(definition)
    doc = copy.deepcopy(dict(document))
    doc_steps = {s.get("id"): s for s in doc.get("steps", []) if isinstance(s, dict)}
    suggestions: list[dict[str, Any]] = []
    warnings: list[str] = []

    # --- dependencies no reference needs -----------------------------------------
    _, before_path = critical_path(deps, durations)
    new_deps = {k: set(v) for k, v in deps.items()}
    for step in definition.steps:
        needed = referenced_steps(step)
        for dep in step.depends_on:
            if dep in needed or dep not in deps:
                continue
            trial = {k: set(v) for k, v in new_deps.items()}
            trial[step.id].discard(dep)
            gain = critical_path(trial, durations)[0] - critical_path(new_deps, durations)[0]
            apply = "speed" in goal_set
            suggestions.append(
                {
                    "kind": "parallelize",
                    "steps": [dep, step.id],
                    "reason": f"'{step.id}' lists '{dep}' in depends_on but reads none of its "
                    f"results, so they can run side by side (keep the edge only if "
                    f"'{step.id}' relies on a side effect of '{dep}').",
                    "estimated_effect": {"duration_seconds": round(gain, 3)},
                    "applied": apply,
                }
            )
            if apply:
                new_deps = trial
                raw = doc_steps.get(step.id)
                if raw is not None and isinstance(raw.get("depends_on"), list):
                    raw["depends_on"] = [d for d in raw["depends_on"] if d != dep]
                    if not raw["depends_on"]:
                        del raw["depends_on"]

    # --- the critical path ------------------------------------------------------
    after_cp, after_path = critical_path(new_deps, durations)
    if after_path:
        slowest = max(after_path, key=lambda k: durations.get(k, 0.0))
        suggestions.append(
            {
                "kind": "critical_path",
                "steps": after_path,
                "reason": f"A run takes at least {after_cp:.1f} s: the chain "
                f"{' → '.join(after_path)}. Speeding up its steps shortens every run; "
                f"the slowest is '{slowest}' ({durations.get(slowest, 0.0):.1f} s on average).",
                "estimated_effect": {"duration_seconds": 0.0},
                "applied": False,
            }
        )

    # --- cheaper models in the fallback chain -------------------------------------
    run_cost = sum(step_cost.values(), Decimal(0))
    max_cost = constraints.get("max_cost")
    handling = definition.error_handling
    for step in definition.steps:
        if step.type != "inference" or not step.model or handling is None:
            continue
        hist = history.get(step.id)
        est = base.steps[step.id]
        tokens = (est.input_tokens, est.output_tokens)
        current = _step_cost(step.model, hist, tokens, prices)
        if current is None:
            continue
        cheaper = [
            (model, cost)
            for model in handling.fallback_chain(step.model)
            if (cost := _step_cost(model, hist, tokens, prices)) is not None and cost < current
        ]
        if not cheaper:
            continue
        over = max_cost is not None and run_cost > Decimal(str(max_cost))
        choice = cheaper[0]
        if over:
            need = run_cost - Decimal(str(max_cost))
            fitting = [c for c in cheaper if current - c[1] >= need]
            choice = fitting[0] if fitting else min(cheaper, key=lambda c: c[1])
        apply = over or ("cost" in goal_set and "accuracy" not in goal_set)
        saving = choice[1] - current
        reason = (
            f"'{step.id}' uses {step.model} (about ${_f(current)} a run); {choice[0]} from its "
            f"fallback chain costs about ${_f(choice[1])} for the same tokens."
        )
        if over:
            reason += f" Needed to bring the run under max_cost ${max_cost}."
        elif not apply:
            reason += " Not applied: accuracy is also a goal; compare the two on a test run."
        suggestions.append(
            {
                "kind": "cheaper_model",
                "steps": [step.id],
                "model": choice[0],
                "replaces": step.model,
                "reason": reason,
                "estimated_effect": {"cost": _f(saving)},
                "applied": apply,
            }
        )
        if apply:
            run_cost += saving
            raw = doc_steps.get(step.id)
            if raw is not None:
                raw["model"] = choice[0]

    # --- retries for flaky steps ------------------------------------------------
    new_rules: list[dict[str, Any]] = []
    extra_duration = 0.0
    extra_cost = Decimal(0)
    for step in definition.steps:
        hist = history.get(step.id)
        if hist is None or not hist.attempts:
            continue
        types = {
            t: n
            for t, n in hist.transient_failures.items()
            if t in TRANSIENT_ERROR_TYPES and not _retried(definition, step.id, t)
        }
        failures = sum(types.values())
        rate = failures / hist.attempts
        if failures < FLAKY_MIN_FAILURES or rate < FLAKY_RATE:
            continue
        for error_type in sorted(types):
            new_rules.append(
                {
                    "on": error_type,
                    "action": "wait_and_retry",
                    "wait_seconds": RETRY_WAIT_SECONDS,
                    "max_attempts": RETRY_ATTEMPTS,
                    "steps": [step.id],
                }
            )
        after_rate = rate**RETRY_ATTEMPTS
        extra_duration += rate * RETRY_WAIT_SECONDS
        extra_cost += Decimal(str(rate)) * (step_cost.get(step.id) or Decimal(0))
        suggestions.append(
            {
                "kind": "add_retries",
                "steps": [step.id],
                "error_types": sorted(types),
                "reason": f"{failures} of {hist.attempts} attempts of '{step.id}' failed with "
                f"{', '.join(sorted(types))}, which nothing retries: retry them up to "
                f"{RETRY_ATTEMPTS} times, {RETRY_WAIT_SECONDS:g} s apart.",
                "estimated_effect": {
                    "failure_rate_percent": {
                        "before": round(100 * rate, 2),
                        "after": round(100 * after_rate, 2),
                    },
                    "duration_seconds": round(rate * RETRY_WAIT_SECONDS, 3),
                    "cost": _f(Decimal(str(rate)) * (step_cost.get(step.id) or Decimal(0))),
                },
                "applied": True,
            }
        )
    if new_rules:
        handling_doc = doc.setdefault("error_handling", {})
        handling_doc.setdefault("error_handlers", []).extend(new_rules)

    # --- max_parallel_steps -----------------------------------------------------
    width = _max_concurrency(new_deps, durations)
    limit = max_parallel_steps
    recommended: dict[str, Any] = {}
    if width > limit:
        gain = simulate_duration(new_deps, durations, width) - simulate_duration(
            new_deps, durations, limit
        )
        recommended["max_parallel_steps"] = width
        suggestions.append(
            {
                "kind": "max_parallel_steps",
                "steps": [],
                "reason": f"Up to {width} steps can run at once but runs allow "
                f"{limit} (execution_config.max_parallel_steps).",
                "estimated_effect": {"duration_seconds": round(gain, 3)},
                "execution_config": {"max_parallel_steps": width},
                "applied": False,
            }
        )
        limit = width

    before_duration = simulate_duration(deps, durations, max_parallel_steps)
    after_duration = simulate_duration(new_deps, durations, limit) + extra_duration
    after_cost = run_cost + extra_cost
    projected: dict[str, Any] = {
        "before": {
            "cost": _f(sum(step_cost.values(), Decimal(0))),
            "duration_seconds": round(before_duration, 3),
            "critical_path": before_path,
        },
        "after": {"cost": _f(after_cost), "duration_seconds": round(after_duration, 3)},
        "constraints_met": {
            "max_cost": None if max_cost is None else after_cost <= Decimal(str(max_cost)),
            "max_duration_seconds": None
            if "max_duration_seconds" not in constraints
            else after_duration <= constraints["max_duration_seconds"],
        },
    }
    if projected["constraints_met"]["max_cost"] is False:
        warnings.append(
            f"Even optimized, a run is expected to cost ${_f(after_cost)}, over max_cost "
            f"${max_cost}."
        )
    if projected["constraints_met"]["max_duration_seconds"] is False:
        warnings.append(
            f"Even optimized, a run is expected to take {after_duration:.1f} s, over "
            f"max_duration_seconds {constraints['max_duration_seconds']:g}."
        )
    return Plan(suggestions, doc, recommended, projected, warnings)
