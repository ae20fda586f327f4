"""Step timeouts, and a worker going on with the step it just made ready.

A worker that finishes a step may claim, in the same transaction, one step that
this made ready on its own queue, and run it in the same task (for at most
``PRSM_WORKER_CONTINUE_SECONDS``). These tests check that such a step keeps its
own timeout, that its transitions are the usual ones, each recorded once, that
it only continues within its window and its own hard limit, and that setting the
window to 0 sends every step through the broker. Last, the hard limit kept by the
heartbeat thread: a step that ignores its timeout is recorded as timed out before
its process is ended, and one that finished in time is left alone.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest
from django.utils import timezone

from executions.models import Execution, ExecutionStatus, StepRun
from executions.services import runner, step_runs
from tests.engine import Worker
from tests.executions.helpers import create_workflow, events, execute, runs, wait_terminal
from workflows.models import Workflow


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


def _sleep(step_id: str, seconds: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "data_processing",
        "function": "sleep",
        "input": 1,
        "parameters": {"seconds": seconds},
        **extra,
    }


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
    started = [at for i in range(5) if (at := by_step[f"s{i}"].started_at) is not None]
    assert len(started) == 5 and started == sorted(started)


@pytest.mark.parametrize("after_another_step", [False, True])
def test_a_step_past_its_timeout_fails_with_timeout(
    worker: Any, alice: Any, after_another_step: bool
) -> None:
    """Whether the slow step came in its own message or was continued from the step
    before it, its own ``timeout`` stops it."""
    slow = _sleep("slow", 30, timeout=1)
    steps = [*_chain(1), {**slow, "depends_on": ["s0"]}] if after_another_step else [slow]
    wf = create_workflow(alice, {"name": "slow", "steps": steps})
    started = time.monotonic()
    ex = execute(alice, wf)
    final = wait_terminal(ex, timeout=30)
    elapsed = time.monotonic() - started
    run = runs(ex)["slow"]
    assert final.status == "failed"
    assert (run.status, run.error_type) == ("failed", "timeout")
    assert final.error is not None
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


def test_a_task_only_continues_with_a_step_whose_time_limit_fits_its_own(
    worker: Any, alice: Any
) -> None:
    """``a``'s message allows 1 s plus the window and grace: ``b`` (30 s) does not fit,
    so it gets a message of its own; ``c`` (1 s) fits in ``b``'s and is continued."""
    steps = _chain(3)
    for step, timeout in zip(steps, (1, 30, 1), strict=True):
        step["timeout"] = timeout
    wf = create_workflow(alice, {"name": "limits", "steps": steps})
    ex = execute(alice, wf)
    assert wait_terminal(ex).status == "completed"
    by_step = runs(ex)
    assert by_step["s1"].task_id != by_step["s0"].task_id
    assert by_step["s2"].task_id == by_step["s1"].task_id


def test_a_task_stops_continuing_once_its_window_has_passed(worker: Any, alice: Any) -> None:
    """The window is checked when the next step is claimed, not when the task began
    its first step: a step longer than the window hands its successor to the queue."""
    slow = _sleep("slow", 1.5)
    after = {"id": "after", "type": "data_processing", "function": "noop", "input": 2}
    wf = create_workflow(
        alice, {"name": "window", "steps": [slow, {**after, "depends_on": ["slow"]}]}
    )
    ex = execute(alice, wf)
    assert wait_terminal(ex).status == "completed"
    by_step = runs(ex)
    assert by_step["after"].task_id != by_step["slow"].task_id
    assert _transitions(ex, "after") == ["step.queued", "step.running", "step.completed"]


@pytest.fixture
def claimed(alice: Any, alice_workflow: str) -> StepRun:
    """A step run claimed by this process, as a worker would have."""
    workflow = Workflow.objects.select_related("current_version").get(public_id=alice_workflow)
    execution = Execution.objects.create(
        workflow=workflow,
        version=workflow.published_version(),
        definition=workflow.published_version().definition,
        created_by=alice,
        status=ExecutionStatus.RUNNING,
        started_at=timezone.now(),
    )
    StepRun.objects.create(execution=execution, key="clean", step_id="clean", status="queued")
    StepRun.objects.create(execution=execution, key="summary", step_id="summary")
    run = step_runs.step_run_claim(
        step_run_id=StepRun.objects.get(execution=execution, key="clean").pk,
        worker_host="here",
        execution_pk=execution.pk,
    )
    assert run is not None
    return run


@pytest.fixture
def heartbeats(settings: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[tuple[int, int]]]:
    """Heartbeats whose own thread stays asleep through the test, and a record of the
    signals it would send (instead of ending the test process)."""
    settings.PRSM_HEARTBEAT_SECONDS = settings.PRSM_STEP_KILL_GRACE_SECONDS = 3600
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    return runner._Heartbeats(), sent


@pytest.mark.django_db
def test_a_step_ignoring_its_timeout_is_recorded_as_timed_out_then_its_process_ended(
    claimed: StepRun, heartbeats: tuple[Any, list[tuple[int, int]]]
) -> None:
    beats, sent = heartbeats
    beats.add(claimed, kill_after=0)
    beats._kill(claimed.pk, claimed.attempt)
    claimed.refresh_from_db()
    assert (claimed.status, claimed.error_type) == ("failed", "timeout")
    assert sent == [(os.getpid(), signal.SIGKILL)]


@pytest.mark.django_db
def test_a_step_that_finished_in_time_is_not_killed(
    claimed: StepRun, heartbeats: tuple[Any, list[tuple[int, int]]]
) -> None:
    beats, sent = heartbeats
    beats.add(claimed, kill_after=0)
    step_runs.step_run_complete(
        step_run_id=claimed.pk,
        attempt=claimed.attempt,
        result="done",
        model_used="",
        input=None,
        usage=step_runs.Usage(),
        claimed=claimed,
    )
    beats._kill(claimed.pk, claimed.attempt)  # still registered: the outcome stands
    beats.remove(claimed)
    beats._kill(claimed.pk, claimed.attempt)  # returned: nothing to do
    claimed.refresh_from_db()
    assert claimed.status == "completed"
    assert sent == []
