"""The step graph: which step waits for which, in what order they can run.

Edges come from two places: ``depends_on`` (ordering only) and references
(``${summarize.result}`` anywhere in a step makes ``summarize`` a dependency).
The graph is a plain ``dict[step_id, set[dependency_id]]`` whose key order is
the definition order; every function here that breaks ties does so by that
order, so results are stable.

Dependencies that are not keys of the mapping (unknown steps) are ignored by the
algorithms below; validation reports them.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from workflows.definition.references import ReferenceMatch, format_path, iter_strings, scan_text
from workflows.definition.schema import InlineStep, Step, WorkflowDefinition

__all__ = [
    "CycleError",
    "Deps",
    "StepReference",
    "critical_path",
    "find_all_cycles",
    "find_cycle",
    "iter_step_references",
    "referenced_steps",
    "sinks",
    "step_dependencies",
    "topological_order",
]

Deps = Mapping[str, set[str]]

#: Fields of a step whose strings may hold references, in the order they are read.
REFERENCE_FIELDS = (
    "model",
    "function",
    "input",
    "inputs",
    "parameters",
    "condition",
    "iterate_over",
)


class CycleError(ValueError):
    """The graph has a cycle; ``cycle`` is one, as a path that returns to its start."""

    def __init__(self, cycle: list[str]):
        super().__init__("cycle: " + " → ".join(cycle))
        self.cycle = cycle


@dataclass(frozen=True)
class StepReference:
    """A ``${...}`` found in a step: where it is and whether it sits in a loop body."""

    field: str
    match: ReferenceMatch
    in_loop_body: bool


def iter_step_references(
    step: Step | InlineStep, base: str = "", *, in_loop_body: bool = False
) -> Iterator[StepReference]:
    """Every reference in ``step``, nested inline steps included.

    ``base`` prefixes the field paths (e.g. ``steps[2]``). A loop's ``step`` body
    is marked ``in_loop_body``; its ``iterate_over`` is not (it is read before the
    loop starts).
    """
    for name in REFERENCE_FIELDS:
        for field, text in iter_strings(getattr(step, name), format_path(base, name)):
            for match in scan_text(text):
                yield StepReference(field, match, in_loop_body)
    for name in ("if_true", "if_false"):
        branch = getattr(step, name)
        if branch is not None:
            yield from iter_step_references(
                branch, format_path(base, name), in_loop_body=in_loop_body
            )
    if step.step is not None:
        yield from iter_step_references(step.step, format_path(base, "step"), in_loop_body=True)


def referenced_steps(step: Step | InlineStep) -> set[str]:
    """Ids of the steps whose results ``step`` reads."""
    return {
        ref.match.reference.name
        for ref in iter_step_references(step)
        if ref.match.reference is not None and ref.match.reference.kind == "step"
    }


def step_dependencies(definition: WorkflowDefinition) -> dict[str, set[str]]:
    """``{step_id: ids it waits for}``: ``depends_on`` plus every referenced step.

    Keys are in definition order. If an id is duplicated, the first step wins.
    """
    deps: dict[str, set[str]] = {}
    for step in definition.steps:
        if step.id in deps:
            continue
        deps[step.id] = set(step.depends_on) | referenced_steps(step)
    return deps


def _known(deps: Deps) -> dict[str, list[str]]:
    """Dependencies restricted to known steps, sorted by definition order."""
    order = {node: i for i, node in enumerate(deps)}
    return {
        node: sorted((d for d in targets if d in order), key=order.__getitem__)
        for node, targets in deps.items()
    }


def _strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm without recursion; components in discovery order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child_i = work[-1]
            if child_i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = graph[node]
            if child_i < len(children):
                work[-1] = (node, child_i + 1)
                child = children[child_i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _shortest_cycle_through(
    graph: dict[str, list[str]], start: str, members: set[str]
) -> list[str]:
    """A shortest path ``start → … → start`` inside one strongly connected component."""
    parent: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        for child in graph[node]:
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                path.reverse()
                return [*path, start]
            if child in members and child not in seen:
                seen.add(child)
                parent[child] = node
                queue.append(child)
    return [start, start]  # unreachable for a real component


def find_all_cycles(deps: Deps) -> list[list[str]]:
    """One cycle for each group of steps that wait on each other.

    Each cycle is written in data-flow order, from a step to the step that uses
    it, and starts and ends at the group's earliest step in definition order:
    ``["a", "b", "a"]`` means b waits for a and a waits for b. Self-dependencies
    count as cycles ``["a", "a"]``.
    """
    graph = _known(deps)
    # Edge x → y when y depends on x: reverse the dependency mapping.
    flow: dict[str, list[str]] = {node: [] for node in graph}
    for node, targets in graph.items():
        for target in targets:
            flow[target].append(node)
    order = {node: i for i, node in enumerate(graph)}
    for children in flow.values():
        children.sort(key=order.__getitem__)
    cycles = []
    for component in _strongly_connected(flow):
        members = set(component)
        start = min(component, key=order.__getitem__)
        if len(component) == 1 and start not in graph[start]:
            continue
        cycles.append(_shortest_cycle_through(flow, start, members))
    cycles.sort(key=lambda cycle: order[cycle[0]])
    return cycles


def find_cycle(deps: Deps) -> list[str] | None:
    """A cycle (see :func:`find_all_cycles`), or None when the graph is a DAG."""
    cycles = find_all_cycles(deps)
    return cycles[0] if cycles else None


def topological_order(deps: Deps) -> list[str]:
    """Steps so that each comes after everything it depends on.

    Among steps that could go next, the earliest in definition order goes
    first. Raises :class:`CycleError` when there is a cycle.
    """
    graph = _known(deps)
    order = {node: i for i, node in enumerate(graph)}
    waiting = {node: len(set(targets)) for node, targets in graph.items()}
    users: dict[str, list[str]] = {node: [] for node in graph}
    for node, targets in graph.items():
        for target in set(targets):
            users[target].append(node)
    ready = [order[node] for node, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    names = list(graph)
    result: list[str] = []
    while ready:
        node = names[heapq.heappop(ready)]
        result.append(node)
        for user in users[node]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, order[user])
    if len(result) < len(graph):
        raise CycleError(find_cycle(deps) or [])
    return result


def sinks(deps: Deps) -> list[str]:
    """Steps no other step depends on, in definition order."""
    used = {target for node, targets in _known(deps).items() for target in targets}
    return [node for node in deps if node not in used]


def critical_path(deps: Deps, durations: Mapping[str, float]) -> tuple[float, list[str]]:
    """The longest chain of dependent steps by total duration.

    Steps missing from ``durations`` take 0. Returns ``(total, [first, …, last])``;
    ``(0.0, [])`` for an empty graph. Raises :class:`CycleError` on a cycle.
    """
    graph = _known(deps)
    order = {node: i for i, node in enumerate(graph)}
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for node in topological_order(deps):
        before, best = 0.0, None
        for target in graph[node]:
            if finish[target] > before or (best is None and finish[target] == before):
                before, best = finish[target], target
        finish[node] = before + float(durations.get(node, 0.0))
        via[node] = best
    if not finish:
        return 0.0, []
    end = max(finish, key=lambda node: (finish[node], -order[node]))
    path: list[str] = []
    current: str | None = end
    while current is not None:
        path.append(current)
        current = via[current]
    path.reverse()
    return finish[end], path
