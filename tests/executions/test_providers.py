"""The OpenAI-compatible provider against a real chat-completions server on loopback,
and the routing of model names in ``providers.complete``."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from executions.steps import openai_compat, providers
from executions.steps.base import StepError
from workflows.models import ModelEndpoint


@dataclass
class FakeServer:
    """Speaks ``POST /v1/chat/completions``; ``behaviour`` picks the answer."""

    port: int = 0
    behaviour: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def _reply(handler: BaseHTTPRequestHandler, status: int, body: Any, **headers: str) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    try:
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (the timeout tests)


def _serve(handler: type[BaseHTTPRequestHandler], state: FakeServer) -> Iterator[FakeServer]:
    """Serve ``handler`` on a free loopback port for the length of a fixture."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    state = FakeServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            state.requests.append(
                {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
            )
            if self.path != "/v1/chat/completions":
                return _reply(self, 404, {"error": {"message": "not found"}})
            b = state.behaviour
            if b == "sleep":
                time.sleep(1.5)
                return _reply(self, 200, {})
            if b == "429":
                return _reply(
                    self, 429, {"error": {"message": "Rate limit reached"}}, Retry_After="7"
                )
            if b == "500":
                return _reply(self, 500, {"error": {"message": "boom"}})
            if b == "401":
                key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                message = f"Incorrect API key provided: {key}"
                return _reply(self, 401, {"error": {"message": message}})
            if b == "400":
                return _reply(self, 400, {"error": {"message": "max_tokens is too large"}})
            if b == "model400":  # vLLM's way of saying it
                return _reply(
                    self,
                    400,
                    {"message": f"The model `{body['model']}` does not exist.", "code": 404},
                )
            if b == "404":
                return _reply(
                    self,
                    404,
                    {"error": {"message": f"model '{body['model']}' not found", "code": None}},
                )
            if b == "nousage":
                return _reply(self, 200, {"choices": [{"message": {"content": "x" * 40}}]})
            if b == "garbage":
                return _reply(self, 200, {"hello": "world"})
            answer = {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "Hello there."},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
            }
            return _reply(self, 200, answer)

    yield from _serve(Handler, state)


@pytest.fixture(autouse=True)
def _setup(settings: Any) -> Iterator[None]:
    settings.PRSM_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    openai_compat.clear_endpoint_cache()
    yield
    openai_compat.clear_endpoint_cache()


def _endpoint(server: FakeServer, name: str = "local/llama", **extra: Any) -> ModelEndpoint:
    fields: dict[str, Any] = {"provider": "openai", "base_url": server.base_url, **extra}
    return ModelEndpoint.objects.create(name=name, **fields)


def _complete(model: str, prompt: Any = "Say hello", **parameters: Any) -> providers.Completion:
    return providers.complete(model, prompt, parameters, mock_models={})


def _error(model: str, **parameters: Any) -> StepError:
    with pytest.raises(StepError) as info:
        _complete(model, **parameters)
    return info.value


def test_success_with_usage_and_parameters_passed_through(
    db: Any, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLAMA_KEY", "sk-test-123")
    _endpoint(server, remote_model="llama3:8b", credentials_ref="LLAMA_KEY")
    parameters = {
        "temperature": 0.2,
        "max_tokens": 50,
        "system": "Be brief.",
        "request_timeout": 5,
        "model": "ignored",
        "stream": True,
    }
    done = providers.complete("local/llama", "Say hello", parameters, mock_models={})
    assert (done.output, done.input_tokens, done.output_tokens) == ("Hello there.", 12, 3)
    [request] = server.requests
    assert request["auth"] == "Bearer sk-test-123"
    assert request["body"] == {
        "model": "llama3:8b",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello"},
        ],
        "temperature": 0.2,
        "max_tokens": 50,
        "stream": False,
    }


def test_structured_prompt_is_json_and_missing_key_sends_no_authorization(
    db: Any, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_KEY", raising=False)
    _endpoint(server, credentials_ref="NOT_SET_KEY")
    _complete("local/llama", {"text": "héllo", "n": [1, 2]})
    [request] = server.requests
    assert request["auth"] is None
    assert request["body"]["model"] == "local/llama"  # remote_model defaults to the name
    content = request["body"]["messages"][0]["content"]
    assert json.loads(content) == {"text": "héllo", "n": [1, 2]}


def test_usage_is_estimated_when_absent(db: Any, server: FakeServer) -> None:
    server.behaviour = "nousage"
    _endpoint(server)
    done = _complete("local/llama", "p" * 80)
    assert (done.output, done.input_tokens, done.output_tokens) == ("x" * 40, 20, 10)


@pytest.mark.parametrize(
    ("behaviour", "error_type", "words"),
    [
        ("429", "rate_limit", ["429", "Rate limit reached", "retry after 7"]),
        ("500", "temporary_failure", ["500", "boom"]),
        ("404", "model_unavailable", ["404", "does not serve the model 'local/llama'"]),
        ("model400", "model_unavailable", ["does not exist"]),
        ("400", "invalid_input", ["400", "max_tokens is too large"]),
        ("garbage", "execution_error", ["not a chat completion"]),
    ],
)
def test_http_errors_are_mapped(
    db: Any, server: FakeServer, behaviour: str, error_type: str, words: list[str]
) -> None:
    server.behaviour = behaviour
    _endpoint(server)
    error = _error("local/llama")
    assert error.error_type == error_type
    for word in words:
        assert word in error.message


def test_unauthorized_names_the_credentials_ref(
    db: Any, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server.behaviour = "401"
    _endpoint(server, credentials_ref="OPENAI_API_KEY")
    error = _error("local/llama")
    assert error.error_type == "model_unavailable"
    assert "OPENAI_API_KEY" in error.message and "not set" in error.message


def test_unauthorized_does_not_repeat_the_key(
    db: Any, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WRONG_KEY", "sk-wrong-secret")
    server.behaviour = "401"
    _endpoint(server, credentials_ref="WRONG_KEY")
    error = _error("local/llama")
    assert server.requests[0]["auth"] == "Bearer sk-wrong-secret"
    assert "sk-wrong-secret" not in error.message
    assert "Incorrect API key provided: ***" in error.message
    assert "WRONG_KEY" in error.message and "not set" not in error.message


def test_unauthorized_without_credentials_ref_says_to_set_one(db: Any, server: FakeServer) -> None:
    server.behaviour = "401"
    _endpoint(server)
    error = _error("local/llama")
    assert error.error_type == "model_unavailable"
    assert "credentials reference" in error.message


def test_timeout_is_short_and_mapped(db: Any, server: FakeServer) -> None:
    server.behaviour = "sleep"
    _endpoint(server)
    started = time.monotonic()
    error = _error("local/llama", request_timeout=0.3)
    assert error.error_type == "timeout"
    assert time.monotonic() - started < 1.4


def test_timeout_from_settings(db: Any, server: FakeServer, settings: Any) -> None:
    settings.PRSM_MODEL_REQUEST_TIMEOUT = 0.3
    server.behaviour = "sleep"
    _endpoint(server)
    assert _error("local/llama").error_type == "timeout"


def test_bad_request_timeout_is_invalid_input(db: Any, server: FakeServer) -> None:
    _endpoint(server)
    assert _error("local/llama", request_timeout="soon").error_type == "invalid_input"
    assert server.requests == []


def test_connection_refused_is_temporary(db: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    ModelEndpoint.objects.create(
        name="gone", provider="openai", base_url=f"http://127.0.0.1:{port}/v1"
    )
    error = _error("gone")
    assert error.error_type == "temporary_failure"
    assert "Could not reach" in error.message


def test_loopback_server_needs_the_allowlist(db: Any, server: FakeServer, settings: Any) -> None:
    settings.PRSM_OUTBOUND_ALLOWLIST = []
    _endpoint(server)
    error = _error("local/llama")
    assert error.error_type == "model_unavailable"
    assert "PRSM_OUTBOUND_ALLOWLIST" in error.message
    assert server.requests == []


def test_unknown_model_names_what_to_configure(db: Any) -> None:
    error = _error("gpt-nowhere")
    assert error.error_type == "model_unavailable"
    assert "Configure a model endpoint named 'gpt-nowhere'" in error.message


def test_disabled_endpoint_is_not_used(db: Any, server: FakeServer) -> None:
    _endpoint(server, enabled=False)
    assert _error("local/llama").error_type == "model_unavailable"
    assert server.requests == []


def test_endpoint_without_base_url(db: Any) -> None:
    ModelEndpoint.objects.create(name="nourl", provider="openai")
    error = _error("nourl")
    assert error.error_type == "model_unavailable"
    assert "no base URL" in error.message


def test_endpoint_lookup_is_cached(
    db: Any, server: FakeServer, django_assert_num_queries: Any
) -> None:
    _endpoint(server)
    _complete("local/llama")
    with django_assert_num_queries(0):
        _complete("local/llama")
    assert len(server.requests) == 2


def test_saving_an_endpoint_clears_the_cache(db: Any, server: FakeServer) -> None:
    assert _error("local/llama").error_type == "model_unavailable"  # a cached miss
    endpoint = _endpoint(server)
    assert _complete("local/llama").output == "Hello there."
    endpoint.enabled = False
    endpoint.save()
    assert _error("local/llama").error_type == "model_unavailable"


def test_routing_order_mocks_echo_builtin_then_endpoints(db: Any, server: FakeServer) -> None:
    _endpoint(server, name="builtin/keywords")  # never reached: builtin wins
    mocked = providers.complete(
        "local/llama", "x", {}, mock_models={"local/llama": {"response": "mocked"}}
    )
    assert mocked.output == "mocked"
    assert _complete("mock/echo", "same").output == "same"
    assert isinstance(_complete("builtin/keywords", "alpha alpha beta").output, list)
    assert server.requests == []


def test_builtin_and_mock_endpoint_rows(db: Any) -> None:
    ModelEndpoint.objects.create(
        name="team/sentiment", provider="builtin", remote_model="builtin/sentiment-vader"
    )
    ModelEndpoint.objects.create(name="team/echo", provider="mock")
    ModelEndpoint.objects.create(name="team/hf", provider="huggingface")
    assert _complete("team/sentiment", "I love it").output["label"] == "POSITIVE"
    assert _complete("team/echo", "same").output == "same"
    error = _error("team/hf")
    assert error.error_type == "model_unavailable" and "huggingface" in error.message


def test_inference_handler_runs_through_the_endpoint(db: Any, server: FakeServer) -> None:
    from executions.steps import registry
    from executions.steps.base import StepContext
    from workflows.definition.schema import Step

    _endpoint(server)
    spec = Step(id="s", type="inference", model="local/llama", input="hi")
    ctx = StepContext(
        execution_id="ex",
        step_key="s",
        spec=spec,
        model="local/llama",
        input="hi",
        inputs=None,
        parameters={"temperature": 0},
    )
    out = registry.run(ctx)
    assert (out.result, out.model_used, out.input_tokens, out.output_tokens) == (
        "Hello there.",
        "local/llama",
        12,
        3,
    )
    assert server.requests[0]["body"]["temperature"] == 0


# --- the seed's Resilient Workflow on the real engine, against the loopback server -----

RESILIENT_QUEUES = [
    {"name": "default", "cpu_cores": 16, "ram_gb": 64},
    {"name": "loopback", "cpu_cores": 99, "ram_gb": 64},
]


@pytest.fixture
def loopback_worker(worker: Any, settings: Any) -> Iterator[Any]:
    """A worker of its own that may reach 127.0.0.1 (the shared one may not), on a
    queue only steps asking for 99 CPU cores go to."""
    from tests.engine import Worker

    settings.PRSM_WORKER_QUEUES = RESILIENT_QUEUES
    own = Worker(
        concurrency=1,
        queues="loopback",
        extra_env={
            "PRSM_OUTBOUND_ALLOWLIST": "127.0.0.1",
            "PRSM_WORKER_QUEUES": json.dumps(RESILIENT_QUEUES),
        },
    )
    try:
        yield own
    finally:
        own.stop()


@pytest.fixture
def chat_server() -> Iterator[FakeServer]:
    """Chat completions per model: gpt-4 is always rate limited, other models answer
    with their own name."""
    state = FakeServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            state.requests.append({"path": self.path, "body": body})
            if body["model"] == "gpt-4":
                return _reply(
                    self,
                    429,
                    {"error": {"message": "Rate limit reached for gpt-4"}},
                    Retry_After="1",
                )
            answer = {
                "choices": [{"message": {"role": "assistant", "content": f"from {body['model']}"}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 2},
            }
            return _reply(self, 200, answer)

    yield from _serve(Handler, state)


def test_seed_resilient_workflow_retries_429_with_backoff_then_falls_back(
    loopback_worker: Any, chat_server: FakeServer, alice: Any
) -> None:
    from tests.executions.helpers import (
        create_workflow,
        detail,
        events,
        execute,
        runs,
        steps_by_id,
        wait_terminal,
    )

    for name in ("gpt-4", "gpt-3.5-turbo"):
        ModelEndpoint.objects.create(name=name, provider="openai", base_url=chat_server.base_url)
    wf = create_workflow(
        alice,
        {
            "name": "Resilient Workflow",
            "steps": [
                {
                    "id": "summarize",
                    "type": "inference",
                    "model": "gpt-4",
                    "input": "Summarize: ${workflow.input.text}",
                },
                {
                    "id": "classify",
                    "type": "inference",
                    "model": "gpt-3.5-turbo",
                    "input": "Classify: ${summarize.result}",
                },
            ],
            # the seed's error_handling, with a 1 s first delay instead of 30 s
            "error_handling": {
                "retry_policy": {
                    "max_retries": 3,
                    "retry_delay_seconds": 1,
                    "backoff_multiplier": 2.0,
                    "retry_on_errors": ["timeout", "rate_limit", "temporary_failure"],
                },
                "fallback_strategy": {
                    "enabled": True,
                    "fallback_models": {
                        "gpt-4": "gpt-3.5-turbo",
                        "claude-3-opus": "claude-3-sonnet",
                    },
                },
            },
            "resource_requirements": {"cpu_cores": 99},
            "input_schema": {"text": {"type": "string"}},
        },
    )
    ex = execute(alice, wf, inputs={"text": "PRSM runs workflows."})
    assert wait_terminal(ex, timeout=90).status == "completed", detail(alice, wf, ex)

    steps = steps_by_id(detail(alice, wf, ex))
    assert steps["summarize"]["model_used"] == "gpt-3.5-turbo"
    assert steps["summarize"]["result"] == "from gpt-3.5-turbo"
    assert steps["classify"]["model_used"] == "gpt-3.5-turbo"
    asked = [r["body"]["model"] for r in chat_server.requests]
    assert asked == ["gpt-4"] * 4 + ["gpt-3.5-turbo"] * 2  # 1 try + 3 retries, then fallback
    log = runs(ex)["summarize"].attempts_log
    assert [(e["model"], e["error_type"]) for e in log] == [("gpt-4", "rate_limit")] * 4
    assert "Rate limit reached for gpt-4" in log[0]["message"]
    happened = [e for e in events(ex) if e.step_key == "summarize"]
    delays = [e.payload["retry_in_seconds"] for e in happened if e.type == "step.retrying"]
    assert delays == [1, 2, 4]  # retry_delay_seconds × backoff_multiplier^(n-1)
    fallback = [e.payload for e in happened if e.type == "step.fallback"]
    assert [p.get("model_used") for p in fallback] == ["gpt-3.5-turbo"]
