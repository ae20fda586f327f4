"""The SDK without a server: error mapping, retries, result objects (httpx.MockTransport)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

import prsm
from prsm.errors import error_from_response


def client_with(handler: Callable[[httpx.Request], httpx.Response]) -> prsm.Client:
    http = httpx.Client(base_url="http://sdk.test/api/v1", transport=httpx.MockTransport(handler))
    return prsm.Client(api_key="prsm_test", base_url="http://sdk.test", backoff=0, http_client=http)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, prsm.ValidationError),
        (401, prsm.AuthenticationError),
        (403, prsm.PermissionDeniedError),
        (404, prsm.NotFoundError),
        (409, prsm.ConflictError),
        (429, prsm.RateLimitError),
        (500, prsm.ServerError),
        (503, prsm.ServerError),
    ],
)
def test_each_status_maps_to_its_exception(status: int, cls: type[prsm.PRSMError]) -> None:
    error = error_from_response(status, {"error": "x", "message": "m"})

    assert type(error) is cls
    assert isinstance(error, prsm.PRSMError)
    assert (error.status_code, error.code, error.message) == (status, "x", "m")


def test_validation_error_carries_definition_errors() -> None:
    body = {
        "error": "definition_invalid",
        "message": "2 errors",
        "errors": [{"step": "a", "field": "steps[0].model", "message": "required"}],
    }

    error = error_from_response(400, body)

    assert isinstance(error, prsm.ValidationError)
    assert error.errors == body["errors"]


def test_validation_error_flattens_request_fields() -> None:
    body = {"error": "invalid_request", "message": "x", "fields": {"inputs": ["bad", "worse"]}}

    error = error_from_response(400, body)

    assert isinstance(error, prsm.ValidationError)
    assert error.errors == [
        {"field": "inputs", "message": "bad"},
        {"field": "inputs", "message": "worse"},
    ]


def test_rate_limit_reads_retry_after() -> None:
    error = error_from_response(429, {"message": "slow down"}, {"Retry-After": "7"})

    assert isinstance(error, prsm.RateLimitError)
    assert error.retry_after == 7.0


def test_get_is_retried_on_503_then_succeeds() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) < 3:
            return httpx.Response(503, json={"error": "unavailable", "message": "busy"})
        return httpx.Response(200, json={"id": "wf_1", "name": "W"})

    workflow = client_with(handler).workflows.get("wf_1")

    assert workflow.id == "wf_1"
    assert calls == ["GET", "GET", "GET"]


def test_get_gives_up_after_three_tries() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(502, text="bad gateway")

    with pytest.raises(prsm.ServerError):
        client_with(handler).workflows.get("wf_1")
    assert len(calls) == 3


def test_network_errors_on_get_are_retried_then_raise_network_error() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(prsm.NetworkError):
        client_with(handler).workflows.get("wf_1")
    assert len(calls) == 3


def test_post_is_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503, json={"error": "unavailable", "message": "busy"})

    with pytest.raises(prsm.ServerError):
        client_with(handler).workflows.execute("wf_1", inputs={})
    assert len(calls) == 1


def test_client_reads_key_and_address_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PRSM_API_KEY", "prsm_env")
    monkeypatch.setenv("PRSM_BASE_URL", "http://prsm.example:9000/")

    client = prsm.Client()

    assert client.api_key == "prsm_env"
    assert client.base_url == "http://prsm.example:9000"
    assert client._transport.api_root == "http://prsm.example:9000/api/v1"
    assert client._transport.http.headers["Authorization"] == "Bearer prsm_env"


def test_client_defaults_to_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRSM_BASE_URL", raising=False)

    assert prsm.Client(api_key="k").base_url == "http://127.0.0.1:8000"


def _answer(body: Any, seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    return handler


def test_analytics_parses_the_planned_response() -> None:
    seen: list[httpx.Request] = []
    body = {"avg_duration_seconds": 12.5, "success_rate": 97.5, "avg_cost": 0.04, "runs": 40}

    analytics = client_with(_answer(body, seen)).workflows.analytics(
        workflow_id="wf_abc123", timeframe="last_30_days"
    )

    assert (analytics.avg_duration_seconds, analytics.success_rate, analytics.avg_cost) == (
        12.5,
        97.5,
        0.04,
    )
    assert analytics.runs == 40
    assert seen[0].url.path == "/api/v1/workflows/wf_abc123/analytics"
    assert seen[0].url.params["timeframe"] == "last_30_days"


@pytest.mark.parametrize(
    "body",
    [
        {"groups": {"wf_a": {"cpu_hours": 1.5, "ram_gb_hours": 6.0, "total_cost": 0.3}}},
        {"groups": [{"key": "wf_a", "cpu_hours": 1.5, "ram_gb_hours": 6.0, "total_cost": 0.3}]},
        {"wf_a": {"cpu_hours": 1.5, "ram_gb_hours": 6.0, "total_cost": 0.3}},
    ],
)
def test_resource_usage_is_a_mapping_of_metrics(body: dict[str, Any]) -> None:
    seen: list[httpx.Request] = []

    usage = client_with(_answer(body, seen)).workflows.resource_usage(
        timeframe="last_week", group_by="workflow_id"
    )

    assert list(usage) == ["wf_a"]
    metrics = dict(usage.items())["wf_a"]
    assert (metrics.cpu_hours, metrics.ram_gb_hours, metrics.total_cost) == (1.5, 6.0, 0.3)
    assert metrics.gpu_hours == 0.0
    assert seen[0].url.path == "/api/v1/workflows/resource-usage"
    assert dict(seen[0].url.params) == {"timeframe": "last_week", "group_by": "workflow_id"}


def test_seed_resource_usage_program_prints_each_group(capsys: pytest.CaptureFixture[str]) -> None:
    body = {"groups": {"wf_a": {"cpu_hours": 1.5, "ram_gb_hours": 6.0, "total_cost": 0.3}}}
    client = client_with(_answer(body, []))

    usage = client.workflows.resource_usage(timeframe="last_week", group_by="workflow_id")
    for workflow_id, metrics in usage.items():
        print(f"Workflow {workflow_id}:")
        print(f"  CPU hours: {metrics.cpu_hours}")
        print(f"  RAM GB-hours: {metrics.ram_gb_hours}")
        print(f"  Total cost: ${metrics.total_cost}")

    assert capsys.readouterr().out == (
        "Workflow wf_a:\n  CPU hours: 1.5\n  RAM GB-hours: 6.0\n  Total cost: $0.3\n"
    )


def test_optimize_posts_goals_and_constraints() -> None:
    seen: list[httpx.Request] = []
    body = {"suggestions": [{"step": "summarize", "change": "use gpt-3.5-turbo"}]}

    optimized = client_with(_answer(body, seen)).workflows.optimize(
        workflow_id="wf_abc123",
        optimization_goals=["speed", "cost", "accuracy"],
        constraints={"max_cost": 1.00, "max_duration_seconds": 300},
    )

    assert optimized.suggestions == body["suggestions"]
    assert seen[0].method == "POST"
    assert seen[0].url.path == "/api/v1/workflows/wf_abc123/optimize"
    import json

    assert json.loads(seen[0].content) == {
        "optimization_goals": ["speed", "cost", "accuracy"],
        "constraints": {"max_cost": 1.0, "max_duration_seconds": 300},
    }


def test_set_error_handler_refuses_a_function_and_shows_the_rule_form() -> None:
    def custom_error_handler(step_id: str, error_type: str, error_message: str) -> dict:
        return {"action": "fail_workflow"}

    workflow = prsm.Workflow({"id": "wf_1"}, client_with(_answer({}, [])).workflows)

    with pytest.raises(TypeError) as info:
        workflow.set_error_handler(custom_error_handler)  # type: ignore[arg-type]  # on purpose
    assert '{"on": "rate_limit", "action": "wait_and_retry", "wait_seconds": 60}' in str(info.value)


def test_page_keeps_pagination_fields() -> None:
    body = {"count": 7, "next": "n", "previous": None, "results": [{"id": "wf_1"}]}

    page = client_with(_answer(body, [])).workflows.list(limit=1)

    assert [w.id for w in page] == ["wf_1"]
    assert (page.total, page.next, page.previous) == (7, "n", None)
