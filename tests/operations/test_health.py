"""``/healthz`` and ``/readyz``: up, and ready (database, Redis, a worker on every
configured queue, a reaper that ran recently), against real workers."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from executions.operations import counters
from executions.workers import registry_forget_cache
from tests.engine import Worker, wait_for


@pytest.fixture
def no_reaper_run(redis_server: Any) -> None:
    counters._client().delete(counters.REAPER_LAST_RUN)


def _ready(client: Client) -> tuple[int, dict[str, Any]]:
    registry_forget_cache()
    response = client.get("/readyz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def test_healthz_answers_without_the_database(client: Client) -> None:
    # No django_db mark: touching the database here would raise.
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_names_a_queue_nobody_consumes_and_a_reaper_that_never_ran(
    worker: Any, no_reaper_run: None, client: Client
) -> None:
    # The session's worker consumes "default" only; notifications have no consumer.
    status, body = _ready(client)

    assert status == 503
    assert body["status"] == "unavailable"
    assert body["failing"] == ["workers", "reaper"]
    checks = body["checks"]
    assert checks["database"]["ok"] and checks["redis"]["ok"]
    assert checks["workers"]["queues"]["default"] >= 1
    assert checks["workers"]["queues"]["notifications"] == 0
    assert checks["workers"]["detail"] == "no live worker consumes 'notifications'"
    assert "never ran" in checks["reaper"]["detail"]


def test_readyz_fails_when_the_reaper_last_ran_too_long_ago(
    worker: Any, client: Client, settings: Any
) -> None:
    settings.PRSM_READY_REAPER_SECONDS = 30
    counters.reaper_record({}, at=time.time() - 120)

    status, body = _ready(client)

    assert status == 503
    assert "reaper" in body["failing"]
    assert body["checks"]["reaper"]["last_run_seconds_ago"] >= 120
    assert "more than 30 s" in body["checks"]["reaper"]["detail"]


def test_readyz_is_ready_with_a_worker_on_every_queue_and_a_beat_running_the_reaper(
    transactional_db: Any, no_reaper_run: None, client: Client
) -> None:
    status, body = _ready(client)
    assert "reaper" in body["failing"]

    own = Worker(
        queues="default,notifications",
        beat=True,
        extra_env={"PRSM_REAPER_INTERVAL_SECONDS": "1"},
    )
    try:
        status, body = wait_for(
            lambda: (answer := _ready(client))[0] == 200 and answer,
            timeout=60,
            interval=0.5,
            message="/readyz to answer 200",
        )
    finally:
        own.stop()

    assert body["status"] == "ready" and body["failing"] == []
    assert body["checks"]["workers"]["queues"]["notifications"] >= 1
    assert body["checks"]["reaper"]["ok"]


def test_with_redis_away_readyz_names_it_and_nothing_answers_500(
    transactional_db: Any, django_user_model: Any
) -> None:
    # A real server whose Redis is a port nothing listens on.
    import httpx

    from tests.live_server import DaphneServer
    from workflows.tokens import api_token_create

    staff = django_user_model.objects.create_user("olivia", password="pw-olivia-1!", is_staff=True)
    auth = {"Authorization": f"Bearer {api_token_create(user=staff, name='ops').key}"}
    server = DaphneServer.start(extra_env={"REDIS_URL": "redis://127.0.0.1:9/0"})
    try:
        ready = httpx.get(server.url("readyz", scheme="http"), timeout=30)
        healthz = httpx.get(server.url("healthz", scheme="http"), timeout=30)
        workers = httpx.get(server.url("api/v1/workers", scheme="http"), headers=auth, timeout=30)
        metrics = httpx.get(server.url("metrics", scheme="http"), headers=auth, timeout=30)
    finally:
        server.stop()

    assert ready.status_code == 503
    body = ready.json()
    assert body["checks"]["database"]["ok"] is True
    redis_check = body["checks"]["redis"]
    assert redis_check == {"ok": False, "detail": "Redis does not answer: ConnectionError"}
    assert body["failing"] == ["redis", "workers", "reaper"]
    assert healthz.status_code == 200
    assert workers.status_code == 503
    assert workers.json()["error"] == "registry_unavailable"
    assert metrics.status_code == 200
    assert "prsm_redis_up 0.0" in metrics.text
    assert "prsm_step_runs" in metrics.text  # the database's series still come
