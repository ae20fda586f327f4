"""Every step type of the seed runs on a real worker."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.executions.helpers import (
    create_workflow,
    detail,
    execute,
    runs,
    steps_by_id,
    wait_terminal,
)


def _run(user: Any, definition: dict[str, Any], **body: Any) -> tuple[str, str, dict[str, Any]]:
    wf = create_workflow(user, definition)
    ex = execute(user, wf, **body)
    wait_terminal(ex)
    return wf, ex, detail(user, wf, ex)


def test_aggregation_without_inputs_combines_what_it_waits_for(worker: Any, alice: Any) -> None:
    _, _, body = _run(
        alice,
        {
            "name": "agg",
            "steps": [
                {
                    "id": "a",
                    "type": "data_processing",
                    "function": "noop",
                    "input": 1,
                    "parallel_group": "g",
                },
                {
                    "id": "b",
                    "type": "data_processing",
                    "function": "noop",
                    "input": "two",
                    "parallel_group": "g",
                },
                {"id": "combine", "type": "aggregation", "depends_on": ["a", "b"]},
            ],
        },
    )
    assert body["status"] == "completed"
    assert body["final_result"] == {"a": 1, "b": "two"}


def test_merge_json_aggregation_with_named_inputs(worker: Any, alice: Any) -> None:
    _, _, body = _run(
        alice,
        {
            "name": "merge",
            "steps": [
                {"id": "a", "type": "data_processing", "function": "noop", "input": {"x": 1}},
                {
                    "id": "m",
                    "type": "aggregation",
                    "function": "merge_json",
                    "inputs": {"first": "${a.result}", "second": {"y": 2}},
                },
            ],
        },
    )
    assert body["final_result"] == {"x": 1, "y": 2}


def test_conditional_runs_the_taken_branch_and_skips_the_other(worker: Any, alice: Any) -> None:
    wf, ex, body = _run(
        alice,
        {
            "name": "cond",
            "steps": [
                {
                    "id": "sentiment",
                    "type": "inference",
                    "model": "builtin/sentiment-vader",
                    "input": "${workflow.input.text}",
                },
                {
                    "id": "branch",
                    "type": "conditional",
                    "condition": "${sentiment.result.label} == 'POSITIVE'",
                    "if_true": {
                        "type": "data_processing",
                        "function": "noop",
                        "input": "happy path",
                    },
                    "if_false": {
                        "type": "data_processing",
                        "function": "noop",
                        "input": "sad path",
                    },
                },
                {
                    "id": "after",
                    "type": "data_processing",
                    "function": "noop",
                    "input": "${branch.result}",
                },
            ],
        },
        inputs={"text": "What a wonderful, great day"},
    )
    assert body["status"] == "completed", body
    assert steps_by_id(body)["branch"]["branch"] == "if_true"
    assert body["final_result"] == "happy path"
    states = {k: r.status for k, r in runs(ex).items()}
    assert states["branch.if_true"] == "completed"
    assert states["branch.if_false"] == "skipped"


def test_parallel_loop_fans_out_bounded_by_max_parallel_steps(worker: Any, alice: Any) -> None:
    wf, ex, body = _run(
        alice,
        {
            "name": "loop",
            "steps": [
                {
                    "id": "each",
                    "type": "loop",
                    "iterate_over": "${workflow.input.docs}",
                    "parallel": True,
                    "step": {
                        "type": "data_processing",
                        "function": "sleep",
                        "input": "${loop.index}:${loop.current_item}",
                        "parameters": {"seconds": 0.3},
                    },
                },
            ],
        },
        inputs={"docs": ["a", "b", "c", "d", "e"]},
        execution_config={"max_parallel_steps": 2},
    )
    assert body["status"] == "completed", body
    assert body["final_result"] == ["0:a", "1:b", "2:c", "3:d", "4:e"]
    assert steps_by_id(body)["each"]["iterations"] == {"total": 5, "completed": 5}
    iterations = [r for r in runs(ex).values() if r.iteration is not None]
    # The most iterations running at one instant (a sweep over starts and ends; an
    # end sorts before a start at the same instant): the limit, and reached, since
    # the loop's own run holds no slot.
    edges = sorted(
        [(r.started_at, 1) for r in iterations] + [(r.completed_at, -1) for r in iterations],
        key=lambda edge: (edge[0], edge[1]),
    )
    running = most = 0
    for _, delta in edges:
        running += delta
        most = max(most, running)
    assert most == 2, f"at most {most} iterations ran at once"


def test_sequential_loop_runs_in_order(worker: Any, alice: Any) -> None:
    wf, ex, body = _run(
        alice,
        {
            "name": "seq",
            "steps": [
                {
                    "id": "each",
                    "type": "loop",
                    "iterate_over": "${workflow.input.n}",
                    "step": {
                        "type": "data_processing",
                        "function": "noop",
                        "input": "${loop.current_item}",
                    },
                },
            ],
        },
        inputs={"n": [3, 1, 2]},
    )
    assert body["final_result"] == [3, 1, 2]
    by_iteration = {r.iteration: r for r in runs(ex).values() if r.iteration is not None}
    iterations = [by_iteration[i] for i in sorted(by_iteration)]
    for earlier, later in itertools.pairwise(iterations):
        assert earlier.completed_at is not None and later.started_at is not None
        assert earlier.completed_at <= later.started_at


@pytest.mark.parametrize("parallel", [True, False])
def test_loop_body_reads_another_steps_result(worker: Any, alice: Any, parallel: bool) -> None:
    """The body reads what it references (here ``prefix``), not only what the loop
    iterates over; iterations of a sequential loop follow one another."""
    _, ex, body = _run(
        alice,
        {
            "name": "body reads",
            "steps": [
                {"id": "prefix", "type": "data_processing", "function": "noop", "input": "p"},
                {"id": "items", "type": "data_processing", "function": "noop", "input": [1, 2, 3]},
                {
                    "id": "each",
                    "type": "loop",
                    "iterate_over": "${items.result}",
                    "parallel": parallel,
                    "step": {
                        "type": "data_processing",
                        "function": "noop",
                        "input": "${prefix.result}:${loop.current_item}",
                    },
                },
            ],
        },
    )
    assert body["status"] == "completed", body
    assert body["final_result"] == ["p:1", "p:2", "p:3"]
    assert [r.status for k, r in sorted(runs(ex).items()) if k.startswith("each[")] == [
        "completed"
    ] * 3


def test_loop_over_max_iterations_fails_clearly(worker: Any, alice: Any) -> None:
    _, _, body = _run(
        alice,
        {
            "name": "big",
            "steps": [
                {
                    "id": "each",
                    "type": "loop",
                    "iterate_over": "${workflow.input.n}",
                    "max_iterations": 3,
                    "step": {
                        "type": "data_processing",
                        "function": "noop",
                        "input": "${loop.current_item}",
                    },
                },
            ],
        },
        inputs={"n": [1, 2, 3, 4]},
    )
    assert body["status"] == "failed"
    assert "more than max_iterations (3)" in body["error"]["message"]
    assert steps_by_id(body)["each"]["error"]["type"] == "invalid_input"


def test_parallel_group_steps_run_at_the_same_time(worker: Any, alice: Any) -> None:
    wf, ex, body = _run(
        alice,
        {
            "name": "pg",
            "steps": [
                {
                    "id": "a",
                    "type": "data_processing",
                    "function": "sleep",
                    "input": 1,
                    "parameters": {"seconds": 1},
                    "parallel_group": "analysis",
                },
                {
                    "id": "b",
                    "type": "data_processing",
                    "function": "sleep",
                    "input": 2,
                    "parameters": {"seconds": 1},
                    "parallel_group": "analysis",
                },
            ],
        },
    )
    assert body["status"] == "completed"
    a, b = runs(ex)["a"], runs(ex)["b"]
    assert a.started_at and a.completed_at and b.started_at and b.completed_at
    assert a.started_at < b.completed_at and b.started_at < a.completed_at


def test_parallel_processing_maps_a_function_over_a_list(worker: Any, alice: Any) -> None:
    _, _, body = _run(
        alice,
        {
            "name": "pp",
            "steps": [
                {
                    "id": "texts",
                    "type": "parallel_processing",
                    "function": "clean_text",
                    "input": "${workflow.input.docs}",
                    "parallel": True,
                    "parameters": {"lowercase": True},
                },
            ],
        },
        inputs={"docs": ["A  B", "C"]},
    )
    assert body["final_result"] == ["a b", "c"]


def test_data_collection_step(worker: Any, alice: Any) -> None:
    _, _, body = _run(
        alice,
        {
            "name": "dc",
            "steps": [
                {
                    "id": "collect",
                    "type": "data_collection",
                    "function": "chunk_text",
                    "input": "abcdef",
                    "parameters": {"size": 4},
                },
            ],
        },
    )
    assert body["final_result"] == ["abcd", "ef"]


def test_explicit_final_result_mapping(worker: Any, alice: Any) -> None:
    _, _, body = _run(
        alice,
        {
            "name": "fr",
            "final_result": {"label": "${s.result.label}", "n": 1},
            "steps": [
                {
                    "id": "s",
                    "type": "inference",
                    "model": "builtin/sentiment-vader",
                    "input": "bad awful",
                }
            ],
        },
    )
    assert body["final_result"] == {"label": "NEGATIVE", "n": 1}


def test_reference_to_missing_path_fails_the_step_as_invalid_input(worker: Any, alice: Any) -> None:
    _, _, body = _run(
        alice,
        {
            "name": "ref",
            "steps": [
                {"id": "a", "type": "data_processing", "function": "noop", "input": {"x": 1}},
                {
                    "id": "b",
                    "type": "data_processing",
                    "function": "noop",
                    "input": "${a.result.nope}",
                },
            ],
        },
    )
    assert body["status"] == "failed"
    assert steps_by_id(body)["b"]["error"]["type"] == "invalid_input"
