"""The runs that used to hang forever now finish (issue 12, "Runs that never end").

Each composite parent (loop, conditional) used to count as an active step and so
took the ``max_parallel_steps`` slot its own children needed: nothing ran, nothing
failed, the run stayed ``running``. Each case goes through the API and the real
worker; waits are bounded, and a run still open at the end fails the test with
every step's status.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from executions.models import EXECUTION_TERMINAL, Execution, StepRun
from tests.executions.helpers import create_workflow, execute

# Each of these runs takes well under a second once it cannot hang.
WAIT_SECONDS = 30


def _body(body_input: str = "${loop.current_item}") -> dict[str, Any]:
    return {"type": "data_processing", "function": "clean_text", "input": body_input}


def _loop(step_id: str, *, parallel: bool, items: str = "${workflow.input.items}") -> dict:
    return {
        "id": step_id,
        "type": "loop",
        "iterate_over": items,
        "parallel": parallel,
        "step": _body(),
    }


def _statuses(execution_id: str) -> str:
    connection.close()  # the worker's latest commits
    rows = StepRun.objects.filter(execution__public_id=execution_id).order_by("id")
    return ", ".join(f"{r.key}={r.status}" for r in rows)


def _run_to_end(user: Any, definition: dict[str, Any], **body: Any) -> Execution:
    """Execute and wait (bounded) for the end; a run still open fails with its steps."""
    from tests.engine import wait_for

    ex = execute(user, create_workflow(user, definition), **body)

    def finished() -> Execution | None:
        connection.close()
        execution = Execution.objects.get(public_id=ex)
        return execution if execution.status in EXECUTION_TERMINAL else None

    try:
        return wait_for(finished, timeout=WAIT_SECONDS, message=f"{ex} to finish")
    except AssertionError:
        status = Execution.objects.get(public_id=ex).status
        pytest.fail(
            f"execution {ex} is still {status} after {WAIT_SECONDS} s "
            f"(a hang: nothing left to run?); steps: {_statuses(ex)}"
        )


def _assert_completed(execution: Execution) -> None:
    steps = _statuses(execution.public_id)
    assert execution.status == "completed", f"{execution.status}: {execution.error}; {steps}"
    open_or_failed = StepRun.objects.filter(execution=execution).exclude(
        status__in=["completed", "skipped"]
    )
    assert not open_or_failed.exists(), steps


@pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "sequential"])
def test_loop_finishes_with_one_parallel_slot(worker: Any, alice: Any, parallel: bool) -> None:
    """Given a loop of 3 items and max_parallel_steps 1, its items take the one slot
    in turn (the loop itself holds none) and the run completes."""
    execution = _run_to_end(
        alice,
        {"name": "loop in one slot", "steps": [_loop("each", parallel=parallel)]},
        inputs={"items": ["A  a", "B  b", "C  c"]},
        execution_config={"max_parallel_steps": 1},
    )
    _assert_completed(execution)
    assert execution.final_result == ["A a", "B b", "C c"]


def test_conditional_finishes_with_one_parallel_slot(worker: Any, alice: Any) -> None:
    """Given a conditional and max_parallel_steps 1, the taken branch gets the slot."""
    execution = _run_to_end(
        alice,
        {
            "name": "conditional in one slot",
            "steps": [
                {
                    "id": "branch",
                    "type": "conditional",
                    "condition": "${workflow.input.mood} == 'happy'",
                    "if_true": _body("yes  !"),
                    "if_false": _body("no  !"),
                },
                {
                    "id": "after",
                    "type": "data_processing",
                    "function": "clean_text",
                    "input": "${branch.result}",
                },
            ],
        },
        inputs={"mood": "happy"},
        execution_config={"max_parallel_steps": 1},
    )
    _assert_completed(execution)
    assert execution.final_result == "yes !"
    statuses = dict(StepRun.objects.filter(execution=execution).values_list("key", "status"))
    assert statuses["branch.if_false"] == "skipped"


def test_two_independent_loops_finish_with_two_parallel_slots(worker: Any, alice: Any) -> None:
    """Given two loops side by side and max_parallel_steps 2, the two loops together
    hold no slot: their items share the two."""
    execution = _run_to_end(
        alice,
        {
            "name": "two loops in two slots",
            "steps": [_loop("first", parallel=True), _loop("second", parallel=False)],
        },
        inputs={"items": ["a", "b", "c"]},
        execution_config={"max_parallel_steps": 2},
    )
    _assert_completed(execution)
    assert execution.final_result == {"first": ["a", "b", "c"], "second": ["a", "b", "c"]}


def test_ten_independent_loops_finish_with_the_default_limit(worker: Any, alice: Any) -> None:
    """Given ten loops side by side and the default limit (10 slots), all finish."""
    loops = [_loop(f"loop_{i}", parallel=i % 2 == 0) for i in range(10)]
    execution = _run_to_end(
        alice, {"name": "ten loops", "steps": loops}, inputs={"items": ["x", "y", "z"]}
    )
    _assert_completed(execution)
    assert execution.config["max_parallel_steps"] == 10  # the default was in force
    assert execution.final_result == {f"loop_{i}": ["x", "y", "z"] for i in range(10)}


def test_a_failure_while_a_loop_starts_leaves_no_step_open(worker: Any, alice: Any) -> None:
    """Given a conditional whose condition cannot be evaluated and a loop that starts
    in the same change, the run fails and the loop is cancelled with no iteration
    left behind (the property test found iterations created, ``ready``, for a loop
    already cancelled)."""
    from tests.executions.helpers import wait_terminal

    ex = execute(
        alice,
        create_workflow(
            alice,
            {
                "name": "failure beside a loop",
                "steps": [
                    {
                        "id": "check",
                        "type": "conditional",
                        "condition": "${workflow.input.n} > 'a'",  # int vs text: fails
                        "if_true": _body("yes"),
                    },
                    _loop("each", parallel=False, items="${workflow.input.items}"),
                ],
            },
        ),
        inputs={"n": 1, "items": ["a", "b"]},
    )
    execution = wait_terminal(ex, timeout=WAIT_SECONDS)
    assert execution.status == "failed", _statuses(ex)
    assert (execution.error or {}).get("step") == "check"
    left_open = StepRun.objects.filter(execution=execution).exclude(
        status__in=["completed", "skipped", "failed", "cancelled"]
    )
    assert not left_open.exists(), f"steps left open in a failed run: {_statuses(ex)}"


def test_a_skipped_conditional_skips_its_branches(worker: Any, alice: Any) -> None:
    """Given a conditional whose branch needs the result of a step that did not run,
    the conditional is skipped and so is its branch (the property test found a run
    completed with the branch left ``pending``)."""
    execution = _run_to_end(
        alice,
        {
            "name": "skipped conditional",
            "steps": [
                {
                    "id": "gone",
                    "type": "data_processing",
                    "function": "fail",
                    "input": "x",
                    "parameters": {"error_type": "timeout"},
                },
                {
                    "id": "check",
                    "type": "conditional",
                    "condition": "${workflow.input.flag} == true",
                    "if_true": _body("${gone.result}"),
                },
            ],
            "error_handling": {"error_handlers": [{"on": "timeout", "action": "skip_step"}]},
        },
        inputs={"flag": True},
    )
    assert execution.status == "completed", _statuses(execution.public_id)
    statuses = dict(StepRun.objects.filter(execution=execution).values_list("key", "status"))
    assert statuses == {"gone": "skipped", "check": "skipped", "check.if_true": "skipped"}
