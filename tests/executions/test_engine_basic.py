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
    assert (
        client_for(bob).post(f"/api/v1/workflows/{wf}/execute", {}, format="json").status_code
        == 201
    )
