"""Crashes, duplicates, timeouts and cancellation: nothing is lost, nothing runs twice."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from django.db import connection

from executions.models import StepRun
from executions.tasks import run_step
from tests.conftest import client_for
from tests.engine import Worker, wait_for
from tests.executions.helpers import create_workflow, detail, events, execute, runs, wait_terminal


def _assert_each_transition_once(ex: str) -> None:
    evs = events(ex)
    assert [e.seq for e in evs] == list(range(1, len(evs) + 1))
    keyed = Counter(
        (e.type, e.step_key, e.payload.get("attempt"))
        for e in evs
        if e.type in ("step.running", "step.completed")
    )
    assert all(n == 1 for n in keyed.values()), keyed


def test_fan_in_of_twenty_parents_dispatches_the_child_once(worker: Any, alice: Any) -> None:
    parents = [
        {"id": f"p{i}", "type": "data_processing", "function": "noop", "input": i}
        for i in range(20)
    ]
    child = {"id": "child", "type": "aggregation", "depends_on": [p["id"] for p in parents]}
    wf = create_workflow(alice, {"name": "fan-in", "steps": [*parents, child]})
    ex = execute(alice, wf, execution_config={"max_parallel_steps": 20})
    assert wait_terminal(ex).status == "completed"
    child_events = [e.type for e in events(ex) if e.step_key == "child"]
    assert child_events.count("step.queued") == 1
    assert child_events.count("step.running") == 1
    assert runs(ex)["child"].attempt == 1
    assert detail(alice, wf, ex)["final_result"] == {f"p{i}": i for i in range(20)}
    _assert_each_transition_once(ex)


def test_duplicate_and_late_messages_change_nothing(worker: Any, alice: Any) -> None:
    wf = create_workflow(
        alice,
        {
            "name": "dup",
            "steps": [{"id": "a", "type": "data_processing", "function": "noop", "input": "x"}],
        },
    )
    ex = execute(alice, wf)
    assert wait_terminal(ex).status == "completed"
    run = runs(ex)["a"]
    before = len(events(ex))
    for _ in range(3):
        run_step.apply_async(args=[run.pk])
    time.sleep(2)
    connection.close()
    after = runs(ex)["a"]
    assert len(events(ex)) == before
    assert (after.attempt, after.status, after.result) == (1, "completed", "x")


def test_worker_killed_mid_step_the_run_still_completes(
    celery_worker_process: Any, transactional_db: Any, alice: Any
) -> None:
    # A worker of our own, with beat (the reaper) and a short heartbeat, to kill.
    fast = {
        "PRSM_STALE_HEARTBEAT_SECONDS": "3",
        "PRSM_HEARTBEAT_SECONDS": "1",
        "PRSM_REAPER_INTERVAL_SECONDS": "1",
        "PRSM_REPUBLISH_AFTER_SECONDS": "5",
    }
    celery_worker_process.stop()
    victim = Worker(concurrency=1, extra_env=fast)
    try:
        wf = create_workflow(
            alice,
            {
                "name": "crash",
                "steps": [
                    {
                        "id": "slow",
                        "type": "data_processing",
                        "function": "sleep",
                        "input": "done",
                        "parameters": {"seconds": 4},
                    },
                    {
                        "id": "next",
                        "type": "data_processing",
                        "function": "noop",
                        "input": "${slow.result}",
                    },
                ],
            },
        )
        ex = execute(alice, wf)

        def running() -> bool:
            connection.close()
            return StepRun.objects.filter(
                execution__public_id=ex, key="slow", status="running"
            ).exists()

        wait_for(running, timeout=20, message="the slow step to start")
        victim.kill()
        survivor = Worker(concurrency=1, extra_env=fast, beat=True)
        try:
            assert wait_terminal(ex, timeout=60).status == "completed", survivor.log()
        finally:
            survivor.stop()
    finally:
        victim.stop()
        celery_worker_process.restart()
    slow = runs(ex)["slow"]
    assert slow.attempt == 2
    assert [e["error_type"] for e in slow.attempts_log] == ["worker_lost"]
    _assert_each_transition_once(ex)
    assert detail(alice, wf, ex)["final_result"] == "done"


def test_run_level_timeout_ends_a_hanging_run(worker: Any, alice: Any) -> None:
    wf = create_workflow(
        alice,
        {
            "name": "hang",
            "steps": [
                {
                    "id": "hang",
                    "type": "data_processing",
                    "function": "sleep",
                    "input": 1,
                    "parameters": {"seconds": 60},
                }
            ],
        },
    )
    started = time.monotonic()
    ex = execute(alice, wf, execution_config={"timeout": 2})
    final = wait_terminal(ex, timeout=30)
    assert final.status == "timed_out"
    assert time.monotonic() - started < 15
    assert final.error is not None
    assert final.error["type"] == "timeout"
    assert runs(ex)["hang"].status == "cancelled"


def test_cancel_mid_run_leaves_nothing_running_or_queued(worker: Any, alice: Any) -> None:
    steps = [
        {
            "id": f"s{i}",
            "type": "data_processing",
            "function": "sleep",
            "input": i,
            "parameters": {"seconds": 2},
        }
        for i in range(6)
    ]
    wf = create_workflow(alice, {"name": "cancel", "steps": steps})
    ex = execute(alice, wf, execution_config={"max_parallel_steps": 2})

    def started() -> bool:
        connection.close()
        return StepRun.objects.filter(execution__public_id=ex, status="running").exists()

    wait_for(started, timeout=20, message="a step to start")
    response = client_for(alice).post(f"/api/v1/workflows/{wf}/executions/{ex}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    time.sleep(3)
    connection.close()
    states = Counter(r.status for r in runs(ex).values())
    assert set(states) <= {"cancelled", "completed"}, states
    assert not any(e.type == "step.running" and e.seq > _cancel_seq(ex) for e in events(ex))
    again = client_for(alice).post(f"/api/v1/workflows/{wf}/executions/{ex}/cancel")
    assert again.status_code == 409


def _cancel_seq(ex: str) -> int:
    return next(e.seq for e in events(ex) if e.type == "execution.cancelled")


def test_resume_reuses_completed_steps(worker: Any, alice: Any) -> None:
    wf = create_workflow(
        alice,
        {
            "name": "resume",
            "steps": [
                {"id": "first", "type": "data_processing", "function": "noop", "input": "kept"},
                {"id": "second", "type": "inference", "model": "m", "input": "${first.result}"},
            ],
        },
    )
    api = client_for(alice)
    failed = api.post(
        f"/api/v1/workflows/{wf}/test",
        {"mock_models": {"m": {"error": "execution_error"}}},
        format="json",
    )
    ex = failed.json()["execution_id"]
    assert wait_terminal(ex).status == "failed"
    response = api.post(f"/api/v1/workflows/{wf}/executions/{ex}/resume")
    assert response.status_code == 201, response.content
    new = response.json()["execution_id"]
    # the resumed run keeps the mocks: it fails again at `second`, but `first` is reused
    assert wait_terminal(new).status == "failed"
    body = detail(alice, wf, new)
    assert body["resumed_from"] == ex
    assert runs(new)["first"].attempt == 0  # not run again
    assert runs(new)["first"].result == "kept"
