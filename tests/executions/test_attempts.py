"""Every attempt of a step as a record: the pure history, and a real worker retrying a
rate-limited model server on loopback until it answers."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from executions.core.attempts import attempt_history
from tests.conftest import client_for
from tests.executions.helpers import (
    create_workflow,
    detail,
    events,
    execute,
    steps_by_id,
    wait_terminal,
)
from tests.executions.test_providers import (  # noqa: F401 (fixtures)
    FakeServer,
    _reply,
    _serve,
    loopback_worker,
)
from workflows.models import ModelEndpoint

# --- the history, pure --------------------------------------------------------------


def test_an_old_entry_with_only_its_end_time_stays_readable() -> None:
    old = {"attempt": 1, "model": "gpt-4", "error_type": "rate_limit", "message": "429", "at": "t"}

    [first, second] = attempt_history(
        [old],
        status="completed",
        attempt=2,
        model="gpt-4",
        started_at="2026-01-01T00:00:01+00:00",
        completed_at="2026-01-01T00:00:03+00:00",
    )

    assert first == {
        "attempt": 1,
        "model": "gpt-4",
        "status": "failed",
        "error_type": "rate_limit",
        "error_message": "429",
        "started_at": None,
        "finished_at": "t",
        "duration_seconds": None,
        "wait_seconds": None,
        "next_model": None,
    }
    assert second["status"] == "succeeded" and second["duration_seconds"] == 2.0


def test_a_failed_step_ends_with_its_logged_attempt_and_adds_none() -> None:
    log = [{"attempt": 1, "model": None, "error_type": "timeout", "message": "slow"}]

    history = attempt_history(
        log, status="failed", attempt=1, model="", started_at="x", completed_at="y"
    )

    assert [a["status"] for a in history] == ["failed"]


def test_a_running_attempt_has_no_end_and_a_lost_worker_is_lost() -> None:
    log = [{"attempt": 1, "error_type": "worker_lost", "message": "gone", "wait_seconds": 0}]

    history = attempt_history(
        log, status="running", attempt=2, model="m", started_at="s", completed_at=None
    )

    assert [(a["attempt"], a["status"]) for a in history] == [(1, "lost"), (2, "running")]
    assert history[1]["finished_at"] is None and history[1]["duration_seconds"] is None


def test_a_reused_step_of_a_resumed_run_has_no_logged_attempt() -> None:
    history = attempt_history(
        [{"reused_from": "exec_1"}],
        status="completed",
        attempt=1,
        model="m",
        started_at="2026-01-01T00:00:00+00:00",
        completed_at="2026-01-01T00:00:00+00:00",
    )

    assert [a["status"] for a in history] == ["succeeded"]


def test_a_step_never_claimed_has_no_attempt() -> None:
    assert (
        attempt_history(
            [], status="pending", attempt=0, model="", started_at=None, completed_at=None
        )
        == []
    )


# --- a real worker against a rate-limiting server -------------------------------------


@pytest.fixture
def flaky_server() -> Iterator[FakeServer]:
    """Answers 429 to the first two requests, echoing the prompt (as some servers
    do), then answers."""
    state = FakeServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            state.requests.append({"path": self.path, "body": body})
            if len(state.requests) <= 2:
                prompt = body["messages"][-1]["content"]
                return _reply(self, 429, {"error": {"message": f"Slow down ({prompt})"}})
            answer = {
                "choices": [{"message": {"role": "assistant", "content": "at last"}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2},
            }
            return _reply(self, 200, answer)

    yield from _serve(Handler, state)


def test_a_rate_limited_step_shows_each_attempt_then_succeeds(
    loopback_worker: Any,  # noqa: F811
    flaky_server: FakeServer,
    alice: Any,
) -> None:
    ModelEndpoint.objects.create(name="lab/llm", provider="openai", base_url=flaky_server.base_url)
    wf = create_workflow(
        alice,
        {
            "name": "retried",
            "steps": [
                {
                    "id": "ask",
                    "type": "inference",
                    "model": "lab/llm",
                    "input": "Summarise ${workflow.input.text}",
                }
            ],
            "error_handling": {
                "retry_policy": {
                    "max_retries": 3,
                    "retry_delay_seconds": 0.5,
                    "backoff_multiplier": 2.0,
                    "retry_on_errors": ["rate_limit"],
                }
            },
            "resource_requirements": {"cpu_cores": 99},
            "input_schema": {"text": {"type": "string"}},
        },
    )

    ex = execute(alice, wf, inputs={"text": "the paper"})

    assert wait_terminal(ex, timeout=90).status == "completed", detail(alice, wf, ex)
    step = steps_by_id(detail(alice, wf, ex))["ask"]
    history = step["attempt_history"]
    assert step["attempts"] == 3
    assert [(a["attempt"], a["model"], a["status"]) for a in history] == [
        (1, "lab/llm", "failed"),
        (2, "lab/llm", "failed"),
        (3, "lab/llm", "succeeded"),
    ]
    assert [a["error_type"] for a in history] == ["rate_limit", "rate_limit", None]
    assert [a["wait_seconds"] for a in history] == [0.5, 1.0, None]
    assert "answered 429: Slow down" in history[0]["error_message"]
    # (a secret cannot reach a model's prompt: tests/workflows/test_secret_placement.py;
    # what a service echoes of one is redacted: tests/executions/test_secrets.py)
    assert "the paper" in flaky_server.requests[0]["body"]["messages"][-1]["content"]
    for a in history:
        start, end = (
            datetime.fromisoformat(a["started_at"]),
            datetime.fromisoformat(a["finished_at"]),
        )
        assert start <= end and a["duration_seconds"] >= 0
    # each wait separates one attempt's end from the next one's start
    for before, after in itertools.pairwise(history):
        gap = datetime.fromisoformat(after["started_at"]) - datetime.fromisoformat(
            before["finished_at"]
        )
        assert gap.total_seconds() >= before["wait_seconds"]
    failed = [e.payload["failed_attempt"] for e in events(ex) if e.type == "step.retrying"]
    assert [f["attempt"] for f in failed] == [1, 2]
    assert failed == history[:2]


def test_the_openapi_schema_documents_each_attempt_and_the_empty_flag(client: Any, db: Any) -> None:
    schemas = client.get("/api/schema/?format=json").json()["components"]["schemas"]

    step = schemas["ExecutionStep"]["properties"]
    assert step["attempt_history"]["items"]["$ref"].endswith("/StepAttempt")
    assert step["empty_result"]["type"] == "boolean"
    attempt = schemas["StepAttempt"]
    assert {
        "attempt",
        "model",
        "status",
        "error_type",
        "error_message",
        "started_at",
        "finished_at",
        "duration_seconds",
        "wait_seconds",
        "next_model",
    } == set(attempt["properties"])
    assert "sample_inputs" in schemas["Template"]["properties"]


def test_a_fallback_attempt_names_the_model_that_came_next(worker: Any, alice: Any) -> None:
    wf = create_workflow(
        alice,
        {
            "name": "fallback",
            "steps": [{"id": "s", "type": "inference", "model": "gpt-4", "input": "hi"}],
            "error_handling": {"fallback_models": {"gpt-4": "gpt-3.5-turbo"}},
        },
    )
    mocks = {
        "gpt-4": {"error": "model_unavailable", "error_message": "no gpt-4 here"},
        "gpt-3.5-turbo": {"response": "from 3.5"},
    }
    response = client_for(alice).post(
        f"/api/v1/workflows/{wf}/test", {"mock_models": mocks}, format="json"
    )
    ex = response.json()["execution_id"]

    assert wait_terminal(ex).status == "completed"
    history = steps_by_id(detail(alice, wf, ex))["s"]["attempt_history"]
    assert [
        (a["model"], a["status"], a["error_type"], a["wait_seconds"], a["next_model"])
        for a in history
    ] == [
        ("gpt-4", "failed", "model_unavailable", 0.0, "gpt-3.5-turbo"),
        ("gpt-3.5-turbo", "succeeded", None, None, None),
    ]
    assert history[0]["error_message"] == "no gpt-4 here"
