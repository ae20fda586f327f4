"""The workers view: ``GET /api/v1/workers`` and the staff page ``/workers/``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from executions.models import StepRun
from executions.services.lifecycle import execution_cancel
from executions.workers import registry_forget_cache
from prsm_site.celery import app
from tests.conftest import client_for
from tests.executions.helpers import create_workflow, execute

GPU_QUEUES = (
    '[{"name": "default", "cpu_cores": 8, "ram_gb": 32},'
    ' {"name": "gpu", "cpu_cores": 8, "ram_gb": 32, "gpu": true}]'
)


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("olivia", password="olivia-pw-123!", is_staff=True)


@pytest.fixture
def gpu_declared(settings: Any) -> None:
    settings.PRSM_WORKER_QUEUES = GPU_QUEUES
    registry_forget_cache()


def _overview(user: Any) -> dict[str, Any]:
    registry_forget_cache()
    response = client_for(user).get("/api/v1/workers")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("charlie", 403), ("staff", 200)])
def test_only_staff_may_list_workers(
    who: str, status: int, charlie: Any, staff: Any, redis_server: Any
) -> None:
    user = {"anonymous": None, "charlie": charlie, "staff": staff}[who]
    assert client_for(user).get("/api/v1/workers").status_code == status


def test_workers_lists_the_live_worker_and_warns_of_queues_nobody_consumes(
    worker: Any, staff: Any, alice: Any, gpu_declared: None
) -> None:
    # A step waits on "gpu" (no consumer), another is running on the worker.
    gpu_step = {
        "id": "train",
        "type": "data_processing",
        "function": "noop",
        "input": 1,
        "resource_requirements": {"gpu_required": True},
    }
    waiting = execute(alice, create_workflow(alice, {"name": "gpu", "steps": [gpu_step]}))
    running = execute(alice, create_workflow(alice, {"name": "gpu 2", "steps": [gpu_step]}))
    node = _overview(staff)["workers"][0]["node"]
    StepRun.objects.filter(execution__public_id=running).update(
        status="running", started_at=timezone.now(), heartbeat_at=timezone.now(), worker_host=node
    )
    try:
        body = _overview(staff)
    finally:
        for public_id in (waiting, running):
            from executions.models import Execution

            execution_cancel(execution=Execution.objects.get(public_id=public_id), reason="done")
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("gpu")

    (me,) = [w for w in body["workers"] if w["node"] == node]
    assert "@" in me["node"] and me["host"]
    assert me["queues"] == ["default"]
    assert me["concurrency"] == 2
    assert me["last_heartbeat"]
    assert me["running_steps"] == 1
    queues = {q["name"]: q for q in body["queues"]}
    assert list(queues) == ["default", "gpu", "notifications"]
    assert node in queues["default"]["consumers"] and queues["default"]["warning"] is None
    assert queues["gpu"]["consumers"] == []
    assert queues["gpu"]["depth"] == 2
    assert "No live worker consumes queue 'gpu'" in queues["gpu"]["warning"]
    assert queues["notifications"]["warning"]
    assert body["unregistered"] == []


def test_the_workers_page_shows_staff_the_workers_and_the_warnings(
    worker: Any, staff: Any, charlie: Any
) -> None:
    page = Client()
    page.force_login(staff)
    registry_forget_cache()
    response = page.get("/workers/")
    assert response.status_code == 200
    html = response.content.decode()
    node = _overview(staff)["workers"][0]["node"]
    assert f'data-node="{node}"' in html
    assert 'data-queue-warning="notifications"' in html
    assert "No live worker consumes queue &#x27;notifications&#x27;" in html
    # the main navigation's Workers link leads to this page, not to the API's list
    assert 'href="/workers/"' in html
    assert 'href="/api/v1/workers"' not in html

    other = Client()
    other.force_login(charlie)
    assert other.get("/workers/").status_code == 404
    assert Client().get("/workers/").status_code == 302  # to sign in


def test_the_workers_endpoint_is_documented_in_openapi(client: Client, db: Any) -> None:
    schema = client.get("/api/schema/?format=json").json()
    (path,) = [p for p in schema["paths"] if p.startswith("/api/v1/workers")]
    answer = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    overview = schema["components"]["schemas"][answer["schema"]["$ref"].rsplit("/", 1)[1]]
    assert set(overview["properties"]) == {"workers", "queues", "unregistered"}
    worker = schema["components"]["schemas"]["Worker"]["properties"]
    assert {"node", "host", "queues", "concurrency", "last_heartbeat", "running_steps"} <= set(
        worker
    )
