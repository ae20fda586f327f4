"""Each error-handling behaviour of the seed, forced and timed, on a real worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.conftest import client_for
from tests.executions.helpers import (
    create_workflow,
    detail,
    events,
    runs,
    steps_by_id,
    wait_terminal,
)


def _test_run(user: Any, definition: dict[str, Any], mocks: dict[str, Any]) -> tuple[str, str]:
    wf = create_workflow(user, definition)
    response = client_for(user).post(
        f"/api/v1/workflows/{wf}/test", {"test_inputs": {}, "mock_models": mocks}, format="json"
    )
    assert response.status_code == 201, response.content
    ex = response.json()["execution_id"]
    wait_terminal(ex)
    return wf, ex


def _one_step(model: str = "m1", **error_handling: Any) -> dict[str, Any]:
    return {
        "name": "eh",
        "steps": [{"id": "s", "type": "inference", "model": model, "input": "hi"}],
        "error_handling": error_handling,
    }


def _running_times(ex: str) -> list[datetime]:
    return [e.created_at for e in events(ex) if e.type == "step.running" and e.step_key == "s"]


def test_retry_policy_backs_off_then_succeeds(worker: Any, alice: Any) -> None:
    wf, ex = _test_run(
        alice,
        _one_step(
            retry_policy={
                "max_retries": 3,
                "retry_delay_seconds": 1,
                "backoff_multiplier": 2.0,
                "retry_on_errors": ["rate_limit"],
            }
        ),
        {"m1": {"response": "ok", "error": "rate_limit", "fail_times": 2}},
    )
    body = detail(alice, wf, ex)
    assert body["status"] == "completed"
    assert steps_by_id(body)["s"]["attempts"] == 3
    t1, t2, t3 = _running_times(ex)
    assert 1.0 <= (t2 - t1).total_seconds() < 4.0
    assert 2.0 <= (t3 - t2).total_seconds() < 5.0
    assert [e.type for e in events(ex)].count("step.retrying") == 2


def test_retry_policy_ignores_errors_it_does_not_list(worker: Any, alice: Any) -> None:
    wf, ex = _test_run(
        alice,
        _one_step(retry_policy={"max_retries": 3, "retry_on_errors": ["rate_limit"]}),
        {"m1": {"error": "invalid_input"}},
    )
    body = detail(alice, wf, ex)
    assert body["status"] == "failed"
    assert steps_by_id(body)["s"]["attempts"] == 1
    assert body["error"]["type"] == "invalid_input"


def test_retry_failed_steps_with_max_retries_then_fails(worker: Any, alice: Any) -> None:
    wf, ex = _test_run(
        alice,
        _one_step(retry_failed_steps=True, max_retries=2),
        {"m1": {"error": "temporary_failure", "error_message": "flaky"}},
    )
    body = detail(alice, wf, ex)
    assert body["status"] == "failed"
    assert steps_by_id(body)["s"]["attempts"] == 3
    assert body["error"] == {"type": "temporary_failure", "message": "flaky", "step": "s"}


def test_fallback_model_answers_and_is_recorded(worker: Any, alice: Any) -> None:
    wf, ex = _test_run(
        alice,
        _one_step("gpt-4", fallback_models={"gpt-4": "gpt-3.5-turbo"}),
        {"gpt-4": {"error": "model_unavailable"}, "gpt-3.5-turbo": {"response": "from 3.5"}},
    )
    body = detail(alice, wf, ex)
    step = steps_by_id(body)["s"]
    assert body["status"] == "completed"
    assert step["model_used"] == "gpt-3.5-turbo"
    assert step["result"] == "from 3.5"
    fallback = [e for e in events(ex) if e.type == "step.fallback"]
    assert [(e.payload["from_model"], e.payload["to_model"]) for e in fallback] == [
        ("gpt-4", "gpt-3.5-turbo")
    ]


def test_fallback_strategy_follows_a_chain_after_retries(worker: Any, alice: Any) -> None:
    wf, ex = _test_run(
        alice,
        _one_step(
            "gpt-4",
            retry_policy={"max_retries": 1},
            fallback_strategy={
                "enabled": True,
                "fallback_models": {
                    "gpt-4": "gpt-3.5-turbo",
                    "gpt-3.5-turbo": "builtin/extractive-summary",
                },
            },
        ),
        {"gpt-4": {"error": "rate_limit"}, "gpt-3.5-turbo": {"error": "timeout"}},
    )
    body = detail(alice, wf, ex)
    assert body["status"] == "completed"
    assert steps_by_id(body)["s"]["model_used"] == "builtin/extractive-summary"
    log = runs(ex)["s"].attempts_log
    assert [e["model"] for e in log] == ["gpt-4", "gpt-4", "gpt-3.5-turbo", "gpt-3.5-turbo"]


def test_error_handler_use_fallback(worker: Any, alice: Any) -> None:
    wf, ex = _test_run(
        alice,
        _one_step(
            "m1",
            error_handlers=[
                {"on": "model_unavailable", "action": "use_fallback", "fallback_model": "m2"}
            ],
        ),
        {"m1": {"error": "model_unavailable"}, "m2": {"response": "m2 says hi"}},
    )
    body = detail(alice, wf, ex)
    assert body["final_result"] == "m2 says hi"


def test_error_handler_wait_and_retry_waits(worker: Any, alice: Any) -> None:
    wf, ex = _test_run(
        alice,
        _one_step(
            "m1",
            error_handlers=[
                {
                    "on": "rate_limit",
                    "action": "wait_and_retry",
                    "wait_seconds": 2,
                    "max_attempts": 3,
                }
            ],
        ),
        {"m1": {"response": "ok", "error": "rate_limit", "fail_times": 1}},
    )
    assert detail(alice, wf, ex)["status"] == "completed"
    t1, t2 = _running_times(ex)
    assert 2.0 <= (t2 - t1).total_seconds() < 5.0


def test_error_handler_skip_step_skips_dependents_that_need_its_result(
    worker: Any, alice: Any
) -> None:
    wf = {
        "name": "skip",
        "steps": [
            {"id": "s", "type": "inference", "model": "m1", "input": "x"},
            {"id": "needs", "type": "data_processing", "function": "noop", "input": "${s.result}"},
            {
                "id": "after",
                "type": "data_processing",
                "function": "noop",
                "input": "ran",
                "depends_on": ["s"],
            },
        ],
        "error_handling": {"error_handlers": [{"on": "execution_error", "action": "skip_step"}]},
    }
    wf_id, ex = _test_run(alice, wf, {"m1": {"error": "execution_error"}})
    body = detail(alice, wf_id, ex)
    states = {k: v["status"] for k, v in steps_by_id(body).items()}
    assert body["status"] == "completed"
    assert states == {"s": "skipped", "needs": "skipped", "after": "completed"}


def test_error_handler_fail_workflow_overrides_retries(worker: Any, alice: Any) -> None:
    wf, ex = _test_run(
        alice,
        _one_step(
            "m1",
            retry_failed_steps=True,
            max_retries=3,
            error_handlers=[{"on": "invalid_input", "action": "fail_workflow"}],
        ),
        {"m1": {"error": "invalid_input"}},
    )
    body = detail(alice, wf, ex)
    assert body["status"] == "failed"
    assert steps_by_id(body)["s"]["attempts"] == 1


def test_failure_cancels_the_rest_of_the_run(worker: Any, alice: Any) -> None:
    wf, ex = _test_run(
        alice,
        {
            "name": "f",
            "steps": [
                {"id": "s", "type": "inference", "model": "m1", "input": "x"},
                {
                    "id": "later",
                    "type": "data_processing",
                    "function": "noop",
                    "input": "${s.result}",
                },
            ],
        },
        {"m1": {"error": "execution_error"}},
    )
    states = {k: r.status for k, r in runs(ex).items()}
    assert states == {"s": "failed", "later": "cancelled"}
