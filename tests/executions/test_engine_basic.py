"""The engine end to end with a real Celery worker process."""

from __future__ import annotations

from typing import Any

from tests.executions.helpers import (
    create_workflow,
    detail,
    events,
    execute,
    steps_by_id,
    wait_terminal,
)
from tests.seed import text_analysis_pipeline


def test_linear_chain_completes_with_results(worker: Any, alice: Any) -> None:
    wf = create_workflow(
        alice,
        {
            "name": "chain",
            "steps": [
                {
                    "id": "clean",
                    "type": "data_processing",
                    "function": "clean_text",
                    "input": "${workflow.input.text}",
                    "parameters": {"lowercase": True},
                },
                {
                    "id": "sentiment",
                    "type": "inference",
                    "model": "builtin/sentiment-vader",
                    "input": "${clean.result}",
                },
            ],
        },
    )
    ex = execute(alice, wf, inputs={"text": "  I LOVE this great tool  "})
    assert wait_terminal(ex).status == "completed", detail(alice, wf, ex)
    body = detail(alice, wf, ex)
    steps = steps_by_id(body)
    assert steps["clean"]["result"] == "i love this great tool"
    assert steps["sentiment"]["result"]["label"] == "POSITIVE"
    assert body["final_result"] == steps["sentiment"]["result"]
    assert body["duration_seconds"] is not None
    seqs = [e.seq for e in events(ex)]
    assert seqs == list(range(1, len(seqs) + 1))


def test_seed_text_analysis_pipeline_runs_with_mock_models(worker: Any, alice: Any) -> None:
    wf = create_workflow(alice, text_analysis_pipeline())
    response = (
        __import__("tests.conftest", fromlist=["client_for"])
        .client_for(alice)
        .post(
            f"/api/v1/workflows/{wf}/test",
            {
                "test_inputs": {"text": "I love using PRSM for AI research! It's revolutionary."},
                "mock_models": {
                    "cardiffnlp/twitter-roberta-base-sentiment-latest": {
                        "response": {"label": "POSITIVE"}
                    },
                    "dbmdz/bert-large-cased-finetuned-conll03-english": {"response": ["PRSM"]},
                    "gpt-3.5-turbo": {"response": "A happy user of PRSM.", "latency_ms": 50},
                },
            },
            format="json",
        )
    )
    assert response.status_code == 201, response.content
    ex = response.json()["execution_id"]
    assert wait_terminal(ex).status == "completed"
    body = detail(alice, wf, ex)
    assert body["is_test"] is True
    assert body["final_result"] == "A happy user of PRSM."
    assert set(steps_by_id(body)) == {"sentiment", "entities", "summary"}


def test_workflow_status_follows_its_latest_run(worker: Any, alice: Any) -> None:
    from tests.conftest import client_for

    wf = create_workflow(
        alice,
        {
            "name": "st",
            "steps": [{"id": "a", "type": "data_processing", "function": "noop", "input": 1}],
        },
    )
    api = client_for(alice)
    assert api.get(f"/api/v1/workflows/{wf}").json()["status"] == "created"
    wait_terminal(execute(alice, wf))
    assert api.get(f"/api/v1/workflows/{wf}").json()["status"] == "completed"
    assert [w["id"] for w in api.get("/api/v1/workflows?status=completed").json()["results"]] == [
        wf
    ]


def test_inputs_are_checked_against_the_input_schema(worker: Any, alice: Any) -> None:
    from tests.conftest import client_for

    wf = create_workflow(
        alice,
        {
            "name": "in",
            "input_schema": {"text": {"type": "string"}, "n": {"type": "integer", "default": 3}},
            "steps": [
                {
                    "id": "a",
                    "type": "data_processing",
                    "function": "noop",
                    "input": "${workflow.input.text}",
                }
            ],
        },
    )
    api = client_for(alice)
    url = f"/api/v1/workflows/{wf}/execute"
    missing = api.post(url, {"inputs": {}}, format="json")
    assert missing.status_code == 400
    assert [e["input"] for e in missing.json()["errors"]] == ["text"]
    wrong = api.post(url, {"inputs": {"text": 5, "extra": 1}}, format="json")
    assert {e["input"] for e in wrong.json()["errors"]} == {"text", "extra"}
    bad_config = api.post(
        url, {"inputs": {"text": "x"}, "execution_config": {"priority": "asap"}}, format="json"
    )
    assert bad_config.status_code == 400
    assert "execution_config.priority" in bad_config.json()["fields"]
    from executions.models import Execution

    assert Execution.objects.count() == 0


def test_execute_needs_execute_permission(worker: Any, alice: Any, bob: Any) -> None:
    from tests.conftest import client_for

    wf = create_workflow(
        alice,
        {
            "name": "perm",
            "steps": [{"id": "a", "type": "data_processing", "function": "noop", "input": 1}],
        },
    )
    api = client_for(alice)
    api.post(f"/api/v1/workflows/{wf}/permissions", {"read": ["bob"]}, format="json")
    assert (
        client_for(bob).post(f"/api/v1/workflows/{wf}/execute", {}, format="json").status_code
        == 403
    )
    api.post(f"/api/v1/workflows/{wf}/permissions", {"execute": ["bob"]}, format="json")
    allowed = client_for(bob).post(f"/api/v1/workflows/{wf}/execute", {}, format="json")
    assert allowed.status_code == 201
    assert wait_terminal(allowed.json()["execution_id"]).created_by == bob


def test_high_priority_steps_are_taken_before_low_ones(
    celery_worker_process: Any, transactional_db: Any, alice: Any, settings: Any
) -> None:
    """Messages wait on a queue no worker consumes; a 1-process worker then takes them."""
    from executions.models import StepRun
    from tests.engine import Worker

    settings.PRSM_WORKER_QUEUES = [
        {"name": "default", "cpu_cores": 16, "ram_gb": 64},
        {"name": "prio", "cpu_cores": 99, "ram_gb": 64},
    ]
    steps = [
        {"id": f"s{i}", "type": "data_processing", "function": "noop", "input": i} for i in range(3)
    ]
    wf = create_workflow(
        alice, {"name": "prio", "steps": steps, "resource_requirements": {"cpu_cores": 99}}
    )
    low = execute(alice, wf, execution_config={"priority": "low", "max_parallel_steps": 3})
    high = execute(alice, wf, execution_config={"priority": "high", "max_parallel_steps": 3})
    assert StepRun.objects.filter(execution__public_id=low, queue="prio").count() == 3
    worker = Worker(concurrency=1, queues="prio")
    try:
        wait_terminal(low)
        wait_terminal(high)
    finally:
        worker.stop()
    order = list(
        StepRun.objects.filter(execution__public_id__in=[low, high])
        .order_by("started_at")
        .values_list("execution__public_id", flat=True)
    )
    assert order == [high] * 3 + [low] * 3


def test_cost_is_tokens_times_the_endpoint_price_and_usage_is_measured(
    worker: Any, alice: Any
) -> None:
    from decimal import Decimal

    from executions.models import Execution, StepRun
    from tests.conftest import client_for
    from workflows.models import ModelEndpoint

    ModelEndpoint.objects.create(
        name="priced",
        provider="mock",
        input_price_per_1k=Decimal("1.5"),
        output_price_per_1k=Decimal("3"),
    )
    wf = create_workflow(
        alice,
        {
            "name": "cost",
            "steps": [
                {"id": "a", "type": "inference", "model": "priced", "input": "x" * 4000},
                {
                    "id": "b",
                    "type": "data_processing",
                    "function": "sleep",
                    "input": 1,
                    "parameters": {"seconds": 0.2},
                },
            ],
        },
    )
    response = client_for(alice).post(
        f"/api/v1/workflows/{wf}/test",
        {"mock_models": {"priced": {"response": "y" * 800}}},
        format="json",
    )
    ex = response.json()["execution_id"]
    assert wait_terminal(ex).status == "completed"
    run = StepRun.objects.get(execution__public_id=ex, key="a")
    assert (run.input_tokens, run.output_tokens) == (1000, 200)
    assert run.cost == Decimal("1.5") + Decimal("0.6")
    sleeper = StepRun.objects.get(execution__public_id=ex, key="b")
    assert sleeper.wall_seconds >= 0.2
    assert sleeper.memory_mb > 0 and sleeper.worker_host
    execution = Execution.objects.get(public_id=ex)
    assert execution.total_cost == run.cost + sleeper.cost
    body = detail(alice, wf, ex)
    assert body["total_cost"] == float(execution.total_cost)
    assert body["resource_usage"]["ram_gb_hours"] > 0


def test_execution_by_id_checks_access_through_its_workflow(
    worker: Any, alice: Any, charlie: Any
) -> None:
    from tests.conftest import client_for

    wf = create_workflow(
        alice,
        {
            "name": "byid",
            "steps": [{"id": "a", "type": "data_processing", "function": "noop", "input": 7}],
        },
    )
    ex = execute(alice, wf)
    wait_terminal(ex)
    assert client_for(alice).get(f"/api/v1/executions/{ex}").json()["final_result"] == 7
    assert client_for(charlie).get(f"/api/v1/executions/{ex}").status_code == 404
