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
