"""A secret input never shows up anywhere: API, events, stored rows, results, logs."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.core import serializers as dj_serializers

from executions.models import Execution, ExecutionEvent, StepRun
from tests.conftest import client_for
from tests.executions.helpers import create_workflow, detail, execute, wait_terminal


def test_a_planted_secret_appears_nowhere(worker: Any, alice: Any) -> None:
    secret = f"sk-{uuid.uuid4().hex}"
    wf = create_workflow(
        alice,
        {
            "name": "secret",
            "input_schema": {"api_key": {"type": "secret"}, "text": {"type": "string"}},
            "steps": [
                {
                    "id": "echo",
                    "type": "data_processing",
                    "function": "noop",
                    "input": "key=${workflow.input.api_key} text=${workflow.input.text}",
                },
                {
                    "id": "also",
                    "type": "data_processing",
                    "function": "noop",
                    "input": {"k": "${secrets.api_key}"},
                },
                {
                    "id": "boom",
                    "type": "data_processing",
                    "function": "fail",
                    "input": "x",
                    "parameters": {"message": "leaking ${workflow.input.api_key}"},
                    "depends_on": ["echo", "also"],
                },
            ],
        },
    )
    ex = execute(alice, wf, inputs={"api_key": {"type": "secret", "value": secret}, "text": "hi"})
    wait_terminal(ex)
    api = client_for(alice)
    seen = [
        json.dumps(detail(alice, wf, ex)),
        api.get(f"/api/v1/workflows/{wf}/executions").content.decode(),
        api.get(f"/api/v1/workflows/{wf}").content.decode(),
        dj_serializers.serialize("json", Execution.objects.filter(public_id=ex)),
        dj_serializers.serialize("json", StepRun.objects.filter(execution__public_id=ex)),
        dj_serializers.serialize("json", ExecutionEvent.objects.filter(execution__public_id=ex)),
        worker.log_path.read_text(errors="replace"),
    ]
    assert all(secret not in text for text in seen)
    body = detail(alice, wf, ex)
    steps = {s["id"]: s for s in body["steps"]}
    # the steps did receive the secret: it was redacted on the way out
    assert steps["echo"]["result"] == "key=[REDACTED] text=hi"
    assert steps["also"]["result"] == {"k": "[REDACTED]"}
    assert "[REDACTED]" in steps["boom"]["error"]["message"]
    assert body["inputs"]["api_key"] == {"type": "secret", "redacted": True}
