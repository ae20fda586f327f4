"""Step timeouts, and a worker going on with the step it just made ready.

A worker that finishes a step may claim, in the same transaction, one step that
this made ready on its own queue, and run it in the same task (for at most
``PRSM_WORKER_CONTINUE_SECONDS``). These tests check that such a step keeps its
own timeout, that its transitions are the usual ones, each recorded once, and
that setting the window to 0 sends every step through the broker.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.engine import Worker
from tests.executions.helpers import create_workflow, events, execute, runs, wait_terminal


def _chain(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"s{i}",
            "type": "data_processing",
            "function": "noop",
            "input": i,
            **({"depends_on": [f"s{i - 1}"]} if i else {}),
        }
        for i in range(n)
    ]


def _transitions(ex: str, step: str) -> list[str]:
    return [e.type for e in events(ex) if e.step_key == step]


def test_a_chain_runs_on_in_the_task_that_started_it(worker: Any, alice: Any) -> None:
    wf = create_workflow(alice, {"name": "chain", "steps": _chain(5)})
    ex = execute(alice, wf)
    assert wait_terminal(ex).status == "completed"
    by_step = runs(ex)
    # s0 came through the broker; each later step was claimed by the task that
    # finished its predecessor, so the task that ran them is the same
    assert {by_step[f"s{i}"].task_id for i in range(5)} == {by_step["s0"].task_id}
    for i in range(5):
        assert _transitions(ex, f"s{i}") == ["step.queued", "step.running", "step.completed"]
        assert by_step[f"s{i}"].attempt == 1
    seqs = [e.seq for e in events(ex)]
    assert seqs == list(range(1, len(seqs) + 1))
    started = [by_step[f"s{i}"].started_at for i in range(5)]
    assert started == sorted(started)


@pytest.mark.parametrize("after_another_step", [False, True])
def test_a_step_past_its_timeout_fails_with_timeout(
    worker: Any, alice: Any, after_another_step: bool
) -> None:
    """Whether the slow step came in its own message or was continued from the step
    before it, its own ``timeout`` stops it."""
    slow = {
        "id": "slow",
        "type": "data_processing",
        "function": "sleep",
        "input": 1,
        "parameters": {"seconds": 30},
        "timeout": 1,
    }
    steps = [*_chain(1), {**slow, "depends_on": ["s0"]}] if after_another_step else [slow]
    wf = create_workflow(alice, {"name": "slow", "steps": steps})
    started = time.monotonic()
    ex = execute(alice, wf)
    final = wait_terminal(ex, timeout=30)
    elapsed = time.monotonic() - started
    run = runs(ex)["slow"]
    assert final.status == "failed"
    assert (run.status, run.error_type) == ("failed", "timeout")
    assert final.error["type"] == "timeout"
    assert 1 <= run.wall_seconds < 5
    assert elapsed < 15
    if after_another_step:
        assert run.task_id == runs(ex)["s0"].task_id  # it was continued


def test_with_no_continue_window_every_step_comes_through_the_broker(
    celery_worker_process: Any, transactional_db: Any, alice: Any, settings: Any
) -> None:
    settings.PRSM_WORKER_QUEUES = [
        {"name": "default", "cpu_cores": 16, "ram_gb": 64},
        {"name": "plain", "cpu_cores": 99, "ram_gb": 64},
    ]
    wf = create_workflow(
        alice, {"name": "plain", "steps": _chain(4), "resource_requirements": {"cpu_cores": 99}}
    )
    plain = Worker(concurrency=1, queues="plain", extra_env={"PRSM_WORKER_CONTINUE_SECONDS": "0"})
    try:
        ex = execute(alice, wf)
        assert wait_terminal(ex).status == "completed", plain.log()
    finally:
        plain.stop()
    by_step = runs(ex)
    assert len({by_step[f"s{i}"].task_id for i in range(4)}) == 4
    for i in range(4):
        assert _transitions(ex, f"s{i}") == ["step.queued", "step.running", "step.completed"]
