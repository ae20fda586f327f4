"""``/metrics``: protected, and the engine's series move when a run happens (real worker)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from executions.models import Execution, StepRun
from executions.services import reaper
from executions.services.lifecycle import execution_cancel
from executions.workers import registry_forget_cache, workers_live
from prsm_site.celery import app
from tests.conftest import SIMPLE_DEFINITION, client_for
from tests.engine import wait_for
from tests.executions.helpers import create_workflow, execute, runs, wait_terminal
from tests.executions.test_notifications import (  # noqa: F401 - receiver is a fixture
    make_execution,
    receiver,
    webhook_config,
)


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("olivia", password="olivia-pw-123!", is_staff=True)


def scrape(user: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics``, by name and labels."""
    registry_forget_cache()
    response = client_for(user).get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_metrics_are_for_staff_or_a_scraper_with_the_token(
    staff: Any, charlie: Any, settings: Any
) -> None:
    assert client_for(None).get("/metrics").status_code == 401
    assert client_for(charlie).get("/metrics").status_code == 403
    assert client_for(staff).get("/metrics").status_code == 200

    settings.PRSM_METRICS_TOKEN = "scrape-secret-1"
    scraper = client_for(None)
    scraper.credentials(HTTP_AUTHORIZATION="Bearer scrape-secret-1")
    assert scraper.get("/metrics").status_code == 200
    scraper.credentials(HTTP_AUTHORIZATION="Bearer wrong")
    assert scraper.get("/metrics").status_code == 401
    assert client_for(staff).get("/metrics").status_code == 200


def test_engine_series_move_when_a_run_happens(worker: Any, alice: Any, staff: Any) -> None:
    workflow = create_workflow(alice, SIMPLE_DEFINITION)
    before = scrape(staff)

    execution = execute(alice, workflow, inputs={"text": "  Hello   metrics.  "})
    assert wait_terminal(execution).status == "completed"
    # workers add step durations to Redis in batches, within half a second
    durations = ("prsm_step_duration_seconds_count", (("step_type", "inference"),))
    after = wait_for(
        lambda: (s := scrape(staff)).get(durations, 0) > before.get(durations, 0) and s,
        timeout=20,
        message="the worker to add its step durations",
    )

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("prsm_step_runs", status="completed", queue="default") == 2
    assert moved("prsm_executions", status="completed") == 1
    assert moved("prsm_step_duration_seconds_count", step_type="data_processing") == 1
    assert moved("prsm_step_duration_seconds_count", step_type="inference") == 1
    assert moved("prsm_step_duration_seconds_bucket", step_type="inference", le="+Inf") == 1
    assert value(after, "prsm_queue_consumers", queue="default") >= 1
    assert value(after, "prsm_queue_consumers", queue="notifications") == 0
    assert ("prsm_queue_depth", (("queue", "default"),)) in after
    assert value(after, "prsm_redis_up") == 1
    assert value(after, "prsm_workers_live") >= 1
    # request metrics of this process: the first scrape was counted by the second
    assert value(after, "prsm_http_requests_total", method="GET", route="metrics", status="200")
    # a step run records the Celery node name of the worker that ran it
    nodes = {w["node"] for w in workers_live()}
    assert {run.worker_host for run in runs(execution).values()} <= nodes
    assert all("@" in run.worker_host for run in runs(execution).values())


GPU_QUEUES = (
    '[{"name": "default", "cpu_cores": 8, "ram_gb": 32},'
    ' {"name": "gpu", "cpu_cores": 8, "ram_gb": 32, "gpu": true}]'
)


def test_reaper_actions_are_counted_in_redis_for_every_process(
    transactional_db: Any, redis_server: Any, alice: Any, staff: Any, settings: Any
) -> None:
    # A step on a queue nobody consumes, as if its worker had vanished while running it.
    settings.PRSM_WORKER_QUEUES = GPU_QUEUES
    definition = {
        "name": "gpu",
        "steps": [
            {
                "id": "train",
                "type": "data_processing",
                "function": "noop",
                "input": 1,
                "resource_requirements": {"gpu_required": True},
            }
        ],
    }
    execution = execute(alice, create_workflow(alice, definition))
    stale = timezone.now() - timedelta(seconds=settings.PRSM_STALE_HEARTBEAT_SECONDS + 60)
    StepRun.objects.filter(execution__public_id=execution).update(
        status="running", started_at=stale, heartbeat_at=stale, worker_host="gone@nowhere"
    )
    before = scrape(staff)

    assert reaper.reap()["lost_workers"] == 1
    after = scrape(staff)

    requeued = value(after, "prsm_reaper_actions_total", action="requeued") - value(
        before, "prsm_reaper_actions_total", action="requeued"
    )
    assert requeued == 1
    assert value(after, "prsm_reaper_last_run_timestamp_seconds") > 0
    assert value(after, "prsm_step_runs", status="queued", queue="gpu") == 1
    execution_cancel(execution=Execution.objects.get(public_id=execution), reason="Test done.")
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("gpu")


def test_a_server_counts_its_open_websockets_and_its_requests(
    server: Any, alice: Any, staff: Any
) -> None:
    import asyncio

    import httpx
    from websockets.asyncio.client import connect

    from workflows.tokens import api_token_create

    key = api_token_create(user=staff, name="scrape").key
    execution = execute(alice, create_workflow(alice, SIMPLE_DEFINITION), inputs={"text": "a"})

    def server_samples() -> dict[Any, float]:
        response = httpx.get(
            server.url("metrics", scheme="http"),
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        }

    before = server_samples()
    alice_key = api_token_create(user=alice, name="ws").key

    async def while_open() -> dict[Any, float]:
        async with connect(
            server.url(f"ws/executions/{execution}/"),
            additional_headers={"Authorization": f"Bearer {alice_key}"},
            proxy=None,
            open_timeout=20,
        ) as ws:
            await asyncio.wait_for(ws.recv(), 20)  # the snapshot: the socket is accepted
            return await asyncio.to_thread(server_samples)

    during = asyncio.run(while_open())
    after = wait_for(
        lambda: (
            (s := server_samples())[("prsm_websocket_connections", ())]
            == before[("prsm_websocket_connections", ())]
            and s
        ),
        timeout=20,
        message="the closed socket to be uncounted",
    )

    ws = ("prsm_websocket_connections", ())
    assert during[ws] == before[ws] + 1
    assert after[ws] == before[ws]
    scrapes = (
        "prsm_http_requests_total",
        (("method", "GET"), ("route", "metrics"), ("status", "200")),
    )
    assert during[scrapes] >= before.get(scrapes, 0) + 1  # the scrape before was counted


def test_webhook_deliveries_are_counted_by_outcome(
    alice_workflow: str,
    receiver: Any,  # noqa: F811 - the fixture imported above
    staff: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from executions.models import WebhookDelivery
    from executions.notifications import notifications_enqueue
    from executions.tasks import deliver_webhook
    from workflows.models import Workflow

    workflow = Workflow.objects.get(public_id=alice_workflow)
    with django_capture_on_commit_callbacks():
        notifications_enqueue(
            make_execution(workflow, notification_config=webhook_config(receiver.url))
        )
    delivery = WebhookDelivery.objects.get()
    before = scrape(staff)

    deliver_webhook(delivery.pk)
    after = scrape(staff)

    assert value(before, "prsm_webhook_deliveries", outcome="pending") == 1
    assert value(before, "prsm_webhook_deliveries", outcome="delivered") == 0
    assert value(after, "prsm_webhook_deliveries", outcome="pending") == 0
    assert value(after, "prsm_webhook_deliveries", outcome="delivered") == 1
    assert len(receiver.requests) == 1
