"""A secret input never shows up anywhere: API, events, stored rows, results, logs.

A secret goes only where a function takes one (``http_get``'s headers); a loopback
server stands for the service it authenticates to. What that service echoes back
is redacted on the way in (the second line of defence).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import serializers as dj_serializers

from executions.models import Execution, ExecutionEvent, StepRun
from executions.security import is_sealed
from tests.conftest import client_for
from tests.executions.helpers import create_workflow, detail, execute, wait_terminal


@pytest.fixture
def echo_server() -> Iterator[tuple[str, list[str]]]:
    """``(url, authorizations received)``; it answers with the header it got."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            auth = self.headers.get("Authorization", "")
            received.append(auth)
            body = json.dumps({"you_sent": auth}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/me", received
    finally:
        httpd.shutdown()
        httpd.server_close()


def _fetch_with(url: str, header: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "fetch",
        "type": "data_collection",
        "function": "http_get",
        "input": url,
        "parameters": {"headers": {"Authorization": header}},
        **extra,
    }


def test_a_planted_secret_reaches_the_service_and_appears_nowhere(
    worker: Any, alice: Any, echo_server: tuple[str, list[str]]
) -> None:
    url, received = echo_server
    secret = f"SK-{uuid.uuid4().hex.upper()}"
    wf = create_workflow(
        alice,
        {
            "name": "secret",
            "input_schema": {"api_key": {"type": "secret"}, "text": {"type": "string"}},
            "steps": [
                _fetch_with(url, "Bearer ${secrets.api_key}"),
                {
                    "id": "after",
                    "type": "data_processing",
                    "function": "noop",
                    "input": {"got": "${fetch.result}", "text": "${workflow.input.text}"},
                },
            ],
        },
    )
    ex = execute(
        alice,
        wf,
        inputs={"api_key": {"type": "secret", "value": secret}, "text": "hi"},
        security_config={"encrypt_intermediate_results": True},
    )
    ended = wait_terminal(ex)
    assert ended.status == "completed", ended.error
    assert received == [f"Bearer {secret}"]  # the service got it
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
    for text in seen:
        assert secret not in text and secret.lower() not in text
    steps = {s["id"]: s for s in detail(alice, wf, ex)["steps"]}
    # what the service echoes is redacted on the way in
    assert steps["fetch"]["result"]["you_sent"] == "Bearer [REDACTED]"
    assert steps["fetch"]["input"]["parameters"]["headers"] == {
        "Authorization": "Bearer [REDACTED]"
    }
    assert detail(alice, wf, ex)["inputs"]["api_key"] == {"type": "secret", "redacted": True}


def test_encrypted_intermediate_results_seal_each_steps_input_too(worker: Any, alice: Any) -> None:
    wf = create_workflow(
        alice,
        {
            "name": "sealed",
            "steps": [
                {
                    "id": "a",
                    "type": "data_processing",
                    "function": "noop",
                    "input": "confidential-a",
                },
                {"id": "b", "type": "data_processing", "function": "noop", "input": "${a.result}"},
            ],
        },
    )
    ex = execute(alice, wf, security_config={"encrypt_intermediate_results": True})
    assert wait_terminal(ex).status == "completed"
    stored = dj_serializers.serialize("json", StepRun.objects.filter(execution__public_id=ex))
    assert "confidential-a" not in stored
    for run in StepRun.objects.filter(execution__public_id=ex):
        assert is_sealed(run.input) and is_sealed(run.result), (run.input, run.result)
    steps = {s["id"]: s for s in detail(alice, wf, ex)["steps"]}  # readers see it opened
    assert steps["b"]["input"]["input"] == "confidential-a"
    assert steps["b"]["result"] == "confidential-a"


def test_a_secret_given_at_execute_time_for_an_input_a_step_transforms_is_refused(
    alice: Any,
) -> None:
    wf = create_workflow(
        alice,
        {
            "name": "no schema",
            "steps": [
                {
                    "id": "shout",
                    "type": "data_processing",
                    "function": "clean_text",
                    "input": "${workflow.input.token}",
                    "parameters": {"lowercase": True},
                }
            ],
        },
    )
    api = client_for(alice)
    response = api.post(
        f"/api/v1/workflows/{wf}/execute",
        {"inputs": {"token": {"type": "secret", "value": "S3CRET"}}},
        format="json",
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "inputs_invalid"
    [error] = body["errors"]
    assert error["input"] == "token"
    assert "Step 'shout'" in error["message"] and "steps[0].input" in error["message"]
    assert not Execution.objects.filter(workflow__public_id=wf).exists()
    # the same value, not marked secret, is an ordinary input
    plain = api.post(
        f"/api/v1/workflows/{wf}/execute", {"inputs": {"token": "S3CRET"}}, format="json"
    )
    assert plain.status_code == 201, plain.content
