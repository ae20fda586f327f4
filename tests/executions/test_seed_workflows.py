"""The seed's workflows run to completion on a real worker (mocked models, local PDF)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from tests.conftest import client_for
from tests.executions.helpers import create_workflow, detail, steps_by_id, wait_terminal
from tests.seed import scientific_paper_analysis

PDF = Path(__file__).resolve().parent.parent / "fixtures" / "hello.pdf"


def test_seed_scientific_paper_analysis_completes(worker: Any, alice: Any) -> None:
    wf = create_workflow(alice, scientific_paper_analysis())
    pdf_url = "data:application/pdf;base64," + base64.b64encode(PDF.read_bytes()).decode()
    response = client_for(alice).post(
        f"/api/v1/workflows/{wf}/test",
        {
            "test_inputs": {"pdf_url": pdf_url},
            # gpt-4 is down: the seed's fallback_models take over
            "mock_models": {
                "gpt-4": {"error": "model_unavailable"},
                "gpt-3.5-turbo": {"response": "The paper introduces a new method for..."},
                "scibert": {"response": "The authors used a quantitative approach..."},
            },
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    ex = response.json()["execution_id"]
    assert wait_terminal(ex).status == "completed", detail(alice, wf, ex)
    body = detail(alice, wf, ex)
    steps = steps_by_id(body)
    assert PDF.exists() and steps["extract_text"]["result"].strip()
    assert steps["summarize"]["model_used"] == "gpt-3.5-turbo"
    assert body["final_result"] == {
        "summary": "The paper introduces a new method for...",
        "methods": "The authors used a quantitative approach...",
    }
    assert set(body) >= {
        "execution_id",
        "workflow_id",
        "status",
        "started_at",
        "completed_at",
        "duration_seconds",
        "steps",
        "final_result",
        "total_cost",
        "resource_usage",
    }
    assert set(body["resource_usage"]) == {"cpu_hours", "ram_gb_hours", "gpu_hours"}
