"""``client.workflows.monitor``: live events over the real websocket, with reconnects."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

import pytest

import prsm
from tests.sdk.conftest import FAILING, sleep_chain, slot_and_join


def create(client: prsm.Client, definition: dict[str, Any]) -> prsm.Workflow:
    data = json.loads(json.dumps(definition))
    return client.workflows.create(data.pop("name"), **data)


def test_events_arrive_once_in_order_across_a_dropped_connection(client: prsm.Client) -> None:
    workflow = create(client, sleep_chain(seconds=0.4, count=4))
    execution = client.workflows.execute(workflow.id, inputs={"text": "hi"})
    monitor = client.workflows.monitor(execution.id, start=False)
    seqs: list[int] = []
    completed: list[tuple[str, Any]] = []
    dropped = threading.Event()

    @monitor.on_event
    def record(event: dict[str, Any]) -> None:
        seqs.append(event["seq"])
        if event["type"] == "step.completed" and event["step"] == "s0" and not dropped.is_set():
            # Given a run in progress, when the network drops the socket...
            dropped.set()
            assert monitor._ws is not None
            monitor._ws.socket.shutdown(socket.SHUT_RDWR)

    @monitor.on_step_completed
    def step_done(step_id: str, result: Any) -> None:
        completed.append((step_id, result))

    monitor.run(timeout=60)

    # ...then the monitor reconnected with ?after= and saw every event exactly once.
    assert dropped.is_set()
    assert monitor.connections >= 2
    assert seqs == list(range(1, len(seqs) + 1))
    assert monitor.events[-1]["type"] == "execution.completed"
    assert monitor.status == "completed"
    detail = execution.refresh()
    assert completed == [(s["id"], s["result"]) for s in detail.steps]
    assert monitor.final_result == detail.result


def test_handlers_registered_after_the_run_ended_still_get_every_event(
    client: prsm.Client,
) -> None:
    workflow = create(client, sleep_chain(seconds=0.05, count=2))
    execution = client.workflows.execute(workflow.id, inputs={"text": "hi"}).wait(timeout=60)
    monitor = client.workflows.monitor(execution.id)
    monitor.wait(timeout=30)
    steps: list[str] = []
    finals: list[Any] = []

    monitor.on_step_completed(lambda step_id, result: steps.append(step_id))
    monitor.on_workflow_completed(finals.append)

    assert steps == ["s0", "s1"]
    assert finals == [execution.result]


def test_step_waiting_says_why_and_a_pending_steps_list_shrinks(client: prsm.Client) -> None:
    # Given two independent steps, one parallel slot, and a step that joins them
    workflow = create(client, slot_and_join(seconds=2.5))
    execution = client.workflows.execute(
        workflow.id, inputs={}, execution_config={"max_parallel_steps": 1}
    )
    monitor = client.workflows.monitor(execution.id, start=False)
    reasons: list[tuple[str, str]] = []
    monitor.on_step_waiting(lambda key, why: reasons.append((key, why["message"])))

    # When the run is watched to the end
    monitor.run(timeout=60)

    # Then the join first waited for both, then only for the one that finished last...
    assert monitor.status == "completed"
    joins = [message for key, message in reasons if key == "c"]
    order = [e["step"] for e in monitor.events if e["type"] == "step.completed"]
    assert joins[0] == "Waiting for a, b", reasons
    assert f"Waiting for {order[1]}" in joins, (reasons, order)
    # ...one of a and b waited for the slot the other held...
    assert ("Waiting for a parallel slot (1 of 1 in use)") in {
        message for key, message in reasons if key in ("a", "b")
    }, reasons
    # ...and once finished, no step says it waits.
    assert {s["status"] for s in monitor.steps.values()} == {"completed"}
    assert all(s["waiting"] is None for s in monitor.steps.values())


def test_failed_step_and_failed_run_reach_their_callbacks(client: prsm.Client) -> None:
    workflow = create(client, FAILING)
    execution = client.workflows.execute(workflow.id)
    monitor = client.workflows.monitor(execution.id)
    failed_steps: list[tuple[str, prsm.StepError]] = []
    run_errors: list[prsm.StepError] = []
    monitor.on_step_failed(lambda step_id, error: failed_steps.append((step_id, error)))
    monitor.on_workflow_failed(run_errors.append)

    monitor.run(timeout=60)

    assert monitor.status == "failed"
    assert [(s, e.type) for s, e in failed_steps] == [("boom", "execution_error")]
    assert "failed on purpose" in str(failed_steps[0][1])
    assert run_errors[0].step == "boom"


def test_monitor_of_a_finished_run_without_history_stops_after_the_snapshot(
    client: prsm.Client,
) -> None:
    workflow = create(client, sleep_chain(seconds=0.05, count=1))
    execution = client.workflows.execute(workflow.id, inputs={"text": "hi"}).wait(timeout=60)
    finals: list[Any] = []

    monitor = client.workflows.monitor(execution.id, from_start=False)
    monitor.on_workflow_completed(finals.append)
    monitor.run(timeout=30)

    assert monitor.events == []
    assert finals == [execution.result]


def test_unknown_execution_is_not_found(client: prsm.Client) -> None:
    with pytest.raises(prsm.NotFoundError):
        client.workflows.monitor("exec_doesnotexist").run(timeout=30)


def test_bad_key_is_an_authentication_error(client: prsm.Client, base_url: str) -> None:
    workflow = create(client, sleep_chain(seconds=0.05, count=1))
    execution = client.workflows.execute(workflow.id, inputs={"text": "hi"})
    stranger = prsm.Client(api_key="prsm_not_a_real_key", base_url=base_url)

    with pytest.raises(prsm.AuthenticationError):
        stranger.workflows.monitor(execution.id).run(timeout=30)
