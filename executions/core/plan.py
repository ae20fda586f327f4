"""A definition compiled for running: keys, edges, queues, and the final result.

Built once per execution (definitions of executions never change) and cached by
the services. Keys: a top-level step's key is its id; a conditional's branches
are ``"<id>.if_true"`` / ``"<id>.if_false"``; a loop's iterations ``"<id>[i]"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.definition.graph import referenced_steps, sinks, step_dependencies, topological_order
from workflows.definition.references import Reference, get_path, render
from workflows.definition.schema import (
    InlineStep,
    ResourceRequirements,
    Step,
    WorkflowDefinition,
)

COMPOSITE_TYPES = frozenset({"loop", "conditional"})
BRANCHES = ("if_true", "if_false")


@dataclass(frozen=True)
class QueueSpec:
    name: str
    cpu_cores: float
    ram_gb: float
    gpu: bool = False


@dataclass
class RunPlan:
    definition: WorkflowDefinition
    order: list[str]
    deps: dict[str, set[str]]
    data_deps: dict[str, set[str]]
    dependents: dict[str, set[str]] = field(default_factory=dict)
    # Steps that wait for COUNTED_FROM or more others: their run rows count the open
    # dependencies down (``StepRun.deps_open``), so each finishing dependency costs
    # the join one row, not a read of every dependency still open.
    counted: frozenset[str] = frozenset()
    steps: dict[str, Step] = field(default_factory=dict)
    _inline_reads: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]

    def reads(self, step_id: str, part: str, spec: Step | InlineStep) -> set[str]:
        """The steps whose results a run of ``spec`` reads: the step's own data
        dependencies, or those of its loop body or branch (``part``), which may
        read less than the step (a loop iterating over one step's big result)."""
        if spec is self.steps[step_id]:
            return self.data_deps[step_id]
        found = self._inline_reads.get((step_id, part))
        if found is None:
            found = self._inline_reads[(step_id, part)] = referenced_steps(spec)
        return found

    def branch_key(self, step_id: str, branch: str) -> str:
        return f"{step_id}.{branch}"

    def branch_spec(self, step_id: str, branch: str) -> InlineStep | None:
        spec: InlineStep | None = getattr(self.steps[step_id], branch)
        return spec

    @staticmethod
    def iteration_key(step_id: str, index: int) -> str:
        return f"{step_id}[{index}]"


#: How many dependencies make a step a counted join (see ``RunPlan.counted``).
COUNTED_FROM = 3


def build_plan(definition: WorkflowDefinition) -> RunPlan:
    deps = step_dependencies(definition)
    order = topological_order(deps)
    plan = RunPlan(
        definition=definition,
        order=order,
        deps=deps,
        data_deps={s.id: referenced_steps(s) for s in definition.steps},
        steps={s.id: s for s in definition.steps},
        counted=frozenset(k for k, v in deps.items() if len(v) >= COUNTED_FROM),
    )
    for step_id, parents in deps.items():
        for parent in parents:
            plan.dependents.setdefault(parent, set()).add(step_id)
    return plan


class NoQueueFits(ValueError):
    """No declared queue offers what a step asks for; the message says what is missing
    and which queues are declared."""


def queue_for(
    requirements: ResourceRequirements | None, queues: list[QueueSpec], default: str = "default"
) -> str:
    """The first declared queue that offers what a step asks for (``default`` when it
    asks nothing). Never a queue that does not: raises ``NoQueueFits``."""
    if requirements is None:
        return default
    for queue in queues:
        if (
            queue.cpu_cores >= requirements.cpu_cores
            and queue.ram_gb >= requirements.ram_gb
            and (queue.gpu or not requirements.gpu_required)
        ):
            return queue.name
    raise NoQueueFits(_shortfall(requirements, queues))


def _shortfall(needs: ResourceRequirements, queues: list[QueueSpec]) -> str:
    """ "gpu_required; no declared queue offers a GPU (declared: default: …)"."""
    asks, missing = [], []
    if needs.gpu_required and not any(q.gpu for q in queues):
        asks.append("gpu_required")
        missing.append("a GPU")
    most_ram = max((q.ram_gb for q in queues), default=0)
    if needs.ram_gb > most_ram:
        asks.append(f"ram_gb: {needs.ram_gb:g}")
        missing.append(f"{needs.ram_gb:g} GB RAM (the most is {most_ram:g})")
    most_cpu = max((q.cpu_cores for q in queues), default=0)
    if needs.cpu_cores > most_cpu:
        asks.append(f"cpu_cores: {needs.cpu_cores:g}")
        missing.append(f"{needs.cpu_cores:g} CPU cores (the most is {most_cpu:g})")
    if not asks:  # each is offered somewhere, but not all by one queue
        gpu = ", gpu_required" if needs.gpu_required else ""
        asks.append(f"cpu_cores: {needs.cpu_cores:g}, ram_gb: {needs.ram_gb:g}{gpu}")
        missing.append("all of that at once")
    declared = "; ".join(
        f"{q.name}: {q.cpu_cores:g} CPU cores, {q.ram_gb:g} GB RAM{', GPU' if q.gpu else ''}"
        for q in queues
    )
    return (
        f"{' and '.join(asks)}; no declared queue offers {', nor '.join(missing)} "
        f"(declared: {declared or 'none'})"
    )


def final_result(plan: RunPlan, results: Mapping[str, Any], skipped: set[str]) -> Any:
    """The execution's result: the explicit mapping, else the single sink's result,
    else ``{sink: result}`` for every sink that ran."""
    explicit = plan.definition.final_result
    if explicit is not None:

        def lookup(ref: Reference) -> Any:
            if ref.kind != "step" or ref.name not in results:
                return None
            return get_path(results[ref.name], ref.path, reference=ref.raw)

        return render(explicit, lookup)
    ends = [s for s in sinks(plan.deps) if s not in skipped]
    if len(ends) == 1:
        return results.get(ends[0])
    return {s: results.get(s) for s in ends}
