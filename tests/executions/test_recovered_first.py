"""Recovered work first: a step queued again after its worker vanished, or published
again after its message was lost, is taken before new work of the same priority.

Real workers on a queue of the test's own: new steps wait there with nobody
consuming it, one step is recovered, and a one-process worker then takes them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from django.db import connection
from django.utils import timezone

from executions.models import StepRun
from executions.services import reaper
from executions.workers import redis_url_of_broker, registry_forget_cache, workers_live
from prsm_site.celery import app
from tests.engine import Worker, wait_for
from tests.executions.helpers import create_workflow, execute, wait_terminal

QUEUE = "recovery"
NEW = 5


@pytest.fixture
def recovery_queue(transactional_db: Any, redis_server: Any, settings: Any) -> Any:
    settings.PRSM_WORKER_QUEUES = [
        {"name": "default", "cpu_cores": 16, "ram_gb": 64},
        {"name": QUEUE, "cpu_cores": 77, "ram_gb": 64},
    ]
    registry_forget_cache()
    _purge()
    yield QUEUE
    _purge()


def _purge() -> None:
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)


def _waiting_by_priority() -> dict[int, int]:
    """Messages on the queue, per Kombu priority list (``recovery``, ``recovery:1``…)."""
    client = redis.Redis.from_url(redis_url_of_broker())
    lengths = {0: client.llen(QUEUE), **{p: client.llen(f"{QUEUE}:{p}") for p in range(1, 10)}}
    return {p: n for p, n in lengths.items() if n}


def _workflow(alice: Any, seconds: float) -> str:
    return create_workflow(
        alice,
        {
            "name": "on recovery",
            "resource_requirements": {"cpu_cores": 77},
            "steps": [
                {
                    "id": "work",
                    "type": "data_processing",
                    "function": "sleep",
                    "input": 1,
                    "parameters": {"seconds": seconds},
                }
            ],
        },
    )


def _started_order(executions: list[str]) -> list[str]:
    connection.close()
    return list(
        StepRun.objects.filter(execution__public_id__in=executions)
        .order_by("started_at")
        .values_list("execution__public_id", flat=True)
    )


def test_a_lost_workers_step_runs_before_new_work_of_its_priority(
    celery_worker_process: Any, recovery_queue: str, alice: Any
) -> None:
    victim = Worker(concurrency=1, queues=QUEUE)
    try:
        lost = execute(alice, _workflow(alice, 2))

        def running() -> bool:
            connection.close()
            return StepRun.objects.filter(execution__public_id=lost, status="running").exists()

        wait_for(running, timeout=30, message="the step to start on the victim")
    finally:
        victim.kill()
    new = [execute(alice, _workflow(alice, 0.1)) for _ in range(NEW)]
    assert _waiting_by_priority() == {5: NEW}

    # Its heartbeat went stale: the reaper queues it again.
    StepRun.objects.filter(execution__public_id=lost).update(
        heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert reaper.reap()["lost_workers"] == 1
    assert _waiting_by_priority() == {4: 1, 5: NEW}

    taker = Worker(concurrency=1, queues=QUEUE)
    try:
        for execution in [lost, *new]:
            assert wait_terminal(execution).status == "completed"
    finally:
        taker.stop()
    assert _started_order([lost, *new])[0] == lost


def _node_of(worker: Worker) -> str:
    registry_forget_cache()
    nodes = [w["node"] for w in workers_live() if w.get("pid") == worker.process.pid]
    assert len(nodes) == 1, nodes
    return nodes[0]


def test_a_republished_lost_message_runs_before_new_work_of_its_priority(
    celery_worker_process: Any, recovery_queue: str, alice: Any, settings: Any
) -> None:
    # A live worker on the queue (the reaper republishes only where one is), told to
    # stop consuming until the messages are in place, so that the order is the broker's.
    taker = Worker(concurrency=1, queues=QUEUE)
    try:
        node = _node_of(taker)
        app.control.cancel_consumer(QUEUE, destination=[node], reply=True, timeout=5)
        lost = execute(alice, _workflow(alice, 0.1))
        _purge()  # its message is lost (say, a Redis restart)
        new = [execute(alice, _workflow(alice, 0.1)) for _ in range(NEW)]
        assert _waiting_by_priority() == {5: NEW}
        StepRun.objects.filter(execution__public_id=lost).update(
            queued_at=timezone.now() - timedelta(seconds=settings.PRSM_REPUBLISH_AFTER_SECONDS + 5)
        )

        assert reaper.reap()["republished"] == 1
        assert _waiting_by_priority() == {4: 1, 5: NEW}

        app.control.add_consumer(QUEUE, destination=[node], reply=True, timeout=5)
        for execution in [lost, *new]:
            assert wait_terminal(execution).status == "completed"
    finally:
        taker.stop()
    assert _started_order([lost, *new])[0] == lost
