"""The reaper and queued steps: a lost message is published again once, never to a
queue nobody consumes; a step waiting longer than its ``queue_timeout`` fails."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from executions.models import Execution, StepRun
from executions.services import reaper
from executions.services.lifecycle import execution_cancel
from executions.workers import redis_url_of_broker, registry_forget_cache
from prsm_site.celery import app
from tests.conftest import client_for
from tests.engine import Worker, wait_for
from tests.executions.helpers import create_workflow, execute, runs

QUEUES = json.dumps(
    [
        {"name": "default", "cpu_cores": 8, "ram_gb": 32, "gpu": False},
        {"name": "gpu", "cpu_cores": 8, "ram_gb": 32, "gpu": True},
    ]
)
GPU = {"gpu_required": True}


@pytest.fixture
def gpu_queue(transactional_db: Any, redis_server: Any, settings: Any) -> Any:
    """A declared ``gpu`` queue, empty before and after the test."""
    settings.PRSM_WORKER_QUEUES = QUEUES
    registry_forget_cache()
    _purge("gpu")
    yield "gpu"
    _purge("gpu")


def _purge(queue: str) -> None:
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)


def _messages(queue: str) -> int:
    """Messages waiting in Redis on ``queue`` (Kombu keeps one list per priority)."""
    import redis

    client = redis.Redis.from_url(redis_url_of_broker())
    keys = [queue, *(f"{queue}:{p}" for p in range(1, 10))]
    return sum(client.llen(k) for k in keys)


def _gpu_workflow(user: Any, **step: Any) -> str:
    return create_workflow(
        user,
        {
            "name": "gpu",
            "steps": [
                {
                    "id": "train",
                    "type": "data_processing",
                    "function": "noop",
                    "input": 1,
                    "resource_requirements": GPU,
                    **step,
                }
            ],
        },
    )


def _queued_since(execution_id: str, seconds: float) -> None:
    """As if the run had been queued ``seconds`` ago."""
    StepRun.objects.filter(execution__public_id=execution_id, status="queued").update(
        queued_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_nothing_is_republished_to_a_queue_no_worker_consumes(gpu_queue: str, alice: Any) -> None:
    ex = execute(alice, _gpu_workflow(alice))
    assert _messages(gpu_queue) == 1
    task_id = runs(ex)["train"].task_id

    for _ in range(6):  # six passes, each as if ten more minutes had gone by
        _queued_since(ex, 600)
        assert reaper.reap()["republished"] == 0

    assert _messages(gpu_queue) == 1
    train = runs(ex)["train"]
    assert (train.status, train.task_id) == ("queued", task_id)


def test_a_lost_message_is_republished_once_while_the_consumer_is_busy(
    gpu_queue: str, alice: Any
) -> None:
    own = Worker(concurrency=1, queues=gpu_queue)  # one slot, then busy
    try:
        busy = execute(
            alice,
            _gpu_workflow(alice, function="sleep", parameters={"seconds": 30}),
        )

        def running() -> bool:
            connection.close()
            return runs(busy)["train"].status == "running"

        wait_for(running, timeout=20, message="the busy step to start")
        ex = execute(alice, _gpu_workflow(alice))
        assert _messages(gpu_queue) == 1  # the worker takes nothing while busy

        counts = []
        for _ in range(6):  # six passes, each as if ten more minutes had gone by
            _queued_since(ex, 600)
            counts.append(reaper.reap()["republished"])

        assert counts == [1, 0, 0, 0, 0, 0]
        assert _messages(gpu_queue) == 2
        assert runs(ex)["train"].task_id.endswith(reaper.REPUBLISHED)
    finally:
        for execution in Execution.objects.filter(status="running"):
            execution_cancel(execution=execution, reason="Test done.")  # stops the sleep
        own.stop()  # and leaves the registry


@pytest.mark.parametrize("where", ["step", "execution_config"])
def test_a_step_queued_past_its_queue_timeout_fails_naming_its_queue(
    gpu_queue: str, alice: Any, where: str
) -> None:
    if where == "step":
        ex = execute(alice, _gpu_workflow(alice, queue_timeout=30))
    else:
        ex = execute(alice, _gpu_workflow(alice), execution_config={"queue_timeout": 30})
    _queued_since(ex, 20)
    assert reaper.reap()["queue_timeouts"] == 0  # not yet
    _queued_since(ex, 31)

    assert reaper.reap()["queue_timeouts"] == 1

    train = runs(ex)["train"]
    assert train.status == "failed"
    assert train.error_type == "queue_timeout"
    assert train.error_message == (
        "Step 'train' waited more than its queue_timeout (30 s) on queue 'gpu' "
        "without a worker taking it: no live worker consumes it."
    )
    execution = Execution.objects.get(public_id=ex)
    assert execution.status == "failed"


def test_queue_timeout_must_be_a_positive_number_of_seconds(db: Any, alice: Any) -> None:
    api = client_for(alice)
    wf = create_workflow(
        alice,
        {
            "name": "q",
            "steps": [{"id": "a", "type": "data_processing", "function": "noop", "input": 1}],
        },
    )

    response = api.post(
        f"/api/v1/workflows/{wf}/execute",
        {"execution_config": {"queue_timeout": 0}},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "queue_timeout" in json.dumps(response.json())

    bad_step = {
        "name": "q",
        "steps": [
            {
                "id": "a",
                "type": "data_processing",
                "function": "noop",
                "input": 1,
                "queue_timeout": 0,
            }
        ],
    }
    response = api.post("/api/v1/workflows", bad_step, format="json")
    assert response.status_code == 400, response.content
    assert "queue_timeout" in json.dumps(response.json())
