"""The step graph: dependencies, cycles, order, sinks and the critical path."""

from __future__ import annotations

from typing import Any

import pytest

from workflows.definition.graph import (
    CycleError,
    critical_path,
    find_all_cycles,
    find_cycle,
    iter_step_references,
    sinks,
    step_dependencies,
    topological_order,
)
from workflows.definition.schema import Step, WorkflowDefinition


def definition(*steps: dict[str, Any]) -> WorkflowDefinition:
    return WorkflowDefinition.model_validate({"name": "g", "steps": list(steps)})


def agg(step_id: str, *deps: str) -> dict[str, Any]:
    return {"id": step_id, "type": "aggregation", "depends_on": list(deps)}


# --------------------------------------------------------------------------- dependencies


def test_referencing_a_step_anywhere_makes_it_a_dependency():
    wf = definition(
        agg("a"),
        agg("b"),
        agg("c"),
        agg("d"),
        agg("e"),
        agg("f"),
        agg("g"),
        {
            "id": "x",
            "type": "conditional",
            "depends_on": ["a"],
            "condition": "${b.result.ok} == true",
            "if_true": {"type": "inference", "model": "m", "input": "${c.result}"},
            "if_false": {
                "type": "loop",
                "iterate_over": "${d.result}",
                "step": {"type": "inference", "model": "m", "inputs": {"k": "${e.result}"}},
            },
            "parameters": {"deep": ["${f.result}"]},
            "input": "${g.result.x[0]}",
        },
    )
    assert step_dependencies(wf)["x"] == {"a", "b", "c", "d", "e", "f", "g"}


def test_inputs_loops_templates_and_secrets_are_not_dependencies():
    wf = definition(
        {
            "id": "x",
            "type": "inference",
            "model": "m",
            "input": "${workflow.input.t} ${loop.index} ${secrets.K} ${template.p}",
        }
    )
    assert step_dependencies(wf) == {"x": set()}


def test_dependencies_are_keyed_in_definition_order_first_duplicate_wins():
    wf = definition(agg("b"), agg("a", "b"), {**agg("b"), "depends_on": ["a"]})
    deps = step_dependencies(wf)
    assert list(deps) == ["b", "a"]
    assert deps["b"] == set()


def test_iter_step_references_marks_loop_bodies_and_gives_field_paths():
    step = Step.model_validate(
        {
            "id": "l",
            "type": "loop",
            "iterate_over": "${src.result}",
            "step": {"type": "inference", "model": "m", "input": "${loop.current_item}"},
        }
    )
    found = [(r.field, r.match.raw, r.in_loop_body) for r in iter_step_references(step, "steps[3]")]
    assert found == [
        ("steps[3].iterate_over", "${src.result}", False),
        ("steps[3].step.input", "${loop.current_item}", True),
    ]


# --------------------------------------------------------------------------- cycles


def test_find_cycle_returns_none_for_a_dag():
    assert find_cycle({"a": set(), "b": {"a"}, "c": {"a", "b"}}) is None


def test_find_cycle_returns_the_path_in_data_flow_order():
    # b uses a, c uses b, a uses c: a → b → c → a
    assert find_cycle({"a": {"c"}, "b": {"a"}, "c": {"b"}}) == ["a", "b", "c", "a"]


def test_self_dependency_is_a_cycle():
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_each_cycle_is_reported_once_starting_at_its_earliest_step():
    deps = {
        "x": set(),
        "b": {"a"},
        "a": {"b"},
        "p": {"q"},
        "q": {"r"},
        "r": {"p"},
        "z": {"r"},
    }
    assert find_all_cycles(deps) == [["b", "a", "b"], ["p", "r", "q", "p"]]


def test_a_tangle_of_cycles_is_reported_as_one_shortest_cycle():
    deps = {"a": {"b", "c"}, "b": {"a", "c"}, "c": {"a", "b"}}
    [cycle] = find_all_cycles(deps)
    assert cycle[0] == cycle[-1] == "a"
    assert len(cycle) == 3


def test_unknown_dependencies_are_ignored():
    assert find_cycle({"a": {"ghost"}}) is None
    assert topological_order({"a": {"ghost"}, "b": {"a"}}) == ["a", "b"]


def test_long_chains_do_not_hit_the_recursion_limit():
    n = 5000
    deps = {f"s{i}": ({f"s{i - 1}"} if i else set()) for i in range(n)}
    assert topological_order(deps)[-1] == f"s{n - 1}"
    deps["s0"] = {f"s{n - 1}"}
    cycle = find_cycle(deps)
    assert cycle is not None and len(cycle) == n + 1


# --------------------------------------------------------------------------- order


def test_topological_order_puts_dependencies_first_even_if_defined_later():
    assert topological_order({"report": {"fetch"}, "fetch": set()}) == ["fetch", "report"]


def test_topological_order_breaks_ties_by_definition_order():
    deps = {"c": set(), "a": set(), "b": {"c"}, "d": {"a"}}
    assert topological_order(deps) == ["c", "a", "b", "d"]


def test_topological_order_raises_with_the_cycle():
    with pytest.raises(CycleError) as caught:
        topological_order({"a": {"b"}, "b": {"a"}})
    assert caught.value.cycle == ["a", "b", "a"]
    assert "a → b → a" in str(caught.value)


def test_sinks_are_steps_nothing_depends_on():
    assert sinks({"a": set(), "b": {"a"}, "c": {"a"}, "d": set()}) == ["b", "c", "d"]


# --------------------------------------------------------------------------- critical path


def test_critical_path_takes_the_longest_chain_and_overlaps_branches():
    deps = {"fetch": set(), "slow": {"fetch"}, "fast": {"fetch"}, "join": {"slow", "fast"}}
    durations = {"fetch": 2, "slow": 8, "fast": 1, "join": 1}
    assert critical_path(deps, durations) == (11.0, ["fetch", "slow", "join"])


def test_critical_path_counts_missing_durations_as_zero():
    assert critical_path({"a": set(), "b": {"a"}}, {"b": 3}) == (3.0, ["a", "b"])


def test_critical_path_of_an_empty_graph():
    assert critical_path({}, {}) == (0.0, [])


def test_critical_path_of_independent_steps_is_the_longest_one():
    assert critical_path({"a": set(), "b": set()}, {"a": 1, "b": 5}) == (5.0, ["b"])
