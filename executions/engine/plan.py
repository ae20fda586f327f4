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


def build_plan(definition: WorkflowDefinition) -> RunPlan:
    deps = step_dependencies(definition)
    order = topological_order(deps)
    plan = RunPlan(
        definition=definition,
        order=order,
        deps=deps,
        data_deps={s.id: referenced_steps(s) for s in definition.steps},
        steps={s.id: s for s in definition.steps},
    )
    for step_id, parents in deps.items():
        for parent in parents:
            plan.dependents.setdefault(parent, set()).add(step_id)
    return plan


def queue_for(
    requirements: ResourceRequirements | None, queues: list[QueueSpec], default: str = "default"
) -> str:
    """The first queue that offers what a step asks for (the default when it asks nothing)."""
    if requirements is None:
        return default
    for queue in queues:
        if (
            queue.cpu_cores >= requirements.cpu_cores
            and queue.ram_gb >= requirements.ram_gb
            and (queue.gpu or not requirements.gpu_required)
        ):
            return queue.name
    return default


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
