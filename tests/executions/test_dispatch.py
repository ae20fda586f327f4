"""What the dispatch helper sends: long step timeouts are kept (or refused, never cut),
and a cancel revokes its tasks without a word about result backends."""

from __future__ import annotations

import base64
import json
from typing import Any

import redis
from django.conf import settings as django_settings
from django.db import connection

from executions.models import Execution
from executions.workers import redis_url_of_broker
from prsm_site.celery import app
from tests.conftest import client_for
from tests.engine import wait_for
from tests.executions.helpers import create_workflow, execute, runs, wait_terminal

QUEUES = json.dumps(
    [
        {"name": "default", "cpu_cores": 8, "ram_gb": 32, "gpu": False},
        {"name": "long-steps", "cpu_cores": 32, "ram_gb": 32, "gpu": False},
    ]
)


def _long_step(timeout: int) -> dict[str, Any]:
    return {
        "name": "long",
        "steps": [
            {
                "id": "long",
                "type": "data_processing",
                "function": "noop",
                "input": 1,
                "timeout": timeout,
                # the only queue that offers it, which no worker consumes: the
                # message stays in Redis to be read
                "resource_requirements": {"cpu_cores": 32},
            }
        ],
    }


def _waiting_messages(queue: str) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(redis_url_of_broker())
    raw = [
        m
        for key in [queue, *(f"{queue}:{p}" for p in range(1, 10))]
        for m in client.lrange(key, 0, -1)
    ]
    return [json.loads(m) for m in raw]


def _purge(queue: str) -> None:
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)


def test_a_step_timeout_of_two_hours_is_kept_in_its_message(
    transactional_db: Any, redis_server: Any, alice: Any, settings: Any
) -> None:
    settings.PRSM_WORKER_QUEUES = QUEUES
    _purge("long-steps")
    try:
        ex = execute(alice, create_workflow(alice, _long_step(7200)))

        [message] = _waiting_messages("long-steps")
    finally:
        _purge("long-steps")
    allowance = settings.PRSM_WORKER_CONTINUE_SECONDS + 2 * settings.PRSM_STEP_KILL_GRACE_SECONDS
    assert message["headers"]["timelimit"][0] == 7200 + allowance
    assert message["headers"]["id"] == runs(ex)["long"].task_id
    args = json.loads(base64.b64decode(message["body"]))[0]
    assert args[0] == runs(ex)["long"].pk


def test_a_step_timeout_beyond_the_configured_cap_is_refused_at_execute(
    db: Any, alice: Any, settings: Any
) -> None:
    settings.PRSM_WORKER_QUEUES = QUEUES
    settings.PRSM_MAX_STEP_SECONDS = 3600
    wf = create_workflow(alice, _long_step(7200))

    response = client_for(alice).post(f"/api/v1/workflows/{wf}/execute", {}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [
        {
            "step": "long",
            "field": "timeout",
            "message": "step 'long' has timeout 7200 s; steps may run at most 3600 s here "
            "(PRSM_MAX_STEP_SECONDS)",
        }
    ]
    assert not Execution.objects.exists()


def test_the_broker_never_redelivers_a_message_while_its_step_may_still_run() -> None:
    schema_max = 86400  # a step's ``timeout`` may be at most a day
    assert schema_max <= django_settings.PRSM_MAX_STEP_SECONDS
    longest = (
        django_settings.PRSM_MAX_STEP_SECONDS
        + django_settings.PRSM_WORKER_CONTINUE_SECONDS
        + 2 * django_settings.PRSM_STEP_KILL_GRACE_SECONDS
    )
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility >= longest + django_settings.PRSM_MAX_RETRY_DELAY_SECONDS


def test_cancel_revokes_without_a_result_backend_warning(worker: Any, alice: Any) -> None:
    sleeps = [
        {
            "id": f"s{i}",
            "type": "data_processing",
            "function": "sleep",
            "input": i,
            "parameters": {"seconds": 30},
        }
        for i in range(3)  # two run (the worker has two slots), one waits queued
    ]
    wf = create_workflow(alice, {"name": "cancel", "steps": sleeps})
    log_start = worker.log_path.stat().st_size
    ex = execute(alice, wf, execution_config={"max_parallel_steps": 3})

    def two_running() -> bool:
        connection.close()  # see the worker's commits
        return sum(r.status == "running" for r in runs(ex).values()) == 2

    wait_for(two_running, timeout=20, message="two steps to run")
    response = client_for(alice).post(f"/api/v1/workflows/{wf}/executions/{ex}/cancel")
    assert response.status_code == 200, response.content
    assert wait_terminal(ex).status == "cancelled"

    def logged() -> str:
        with open(worker.log_path, "rb") as log:
            log.seek(log_start)
            return log.read().decode(errors="replace")

    wait_for(lambda: "Terminating" in logged(), timeout=10, message="the running steps to stop")
    assert "flagged as revoked" in logged()
    assert "No result backend" not in logged()
    assert "Failed to mark task" not in logged()
