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

from executions.operations.queues import declaration_record
from executions.steps import openai_compat, providers
from executions.steps.base import StepError
from tests.seed import text_analysis_pipeline
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
    assert "API key on the Models page" in error.message


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
    assert "add a model endpoint named 'gpt-nowhere'" in error.message
    assert "Set PRSM_OPENAI_BASE_URL" in error.message


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
    _endpoint(server, name="builtin/yake-keywords")  # never reached: builtin wins
    mocked = providers.complete(
        "local/llama", "x", {}, mock_models={"local/llama": {"response": "mocked"}}
    )
    assert mocked.output == "mocked"
    assert _complete("mock/echo", "same").output == "same"
    assert isinstance(_complete("builtin/yake-keywords", "alpha alpha beta").output, list)
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
    declaration_record(by="test: manage.py queues --declare")  # the worker's queues
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


# --- PRSM_OPENAI_BASE_URL: one server for the seed's model names, no endpoint rows -----


@pytest.fixture
def openai_settings(settings: Any, server: FakeServer) -> Any:
    settings.PRSM_OPENAI_BASE_URL = server.base_url
    settings.PRSM_OPENAI_API_KEY = "sk-lab-key"
    settings.PRSM_OPENAI_MODELS = list(settings.SEED_MODEL_NAMES)
    settings.PRSM_OPENAI_REMOTE_MODEL = ""
    return settings


def test_the_openai_settings_serve_the_seeds_model_names(
    db: Any, server: FakeServer, openai_settings: Any
) -> None:
    for model in ("gpt-3.5-turbo", "cardiffnlp/twitter-roberta-base-sentiment-latest"):
        assert _complete(model).output == "Hello there."
        assert server.requests[-1]["body"]["model"] == model
        assert server.requests[-1]["auth"] == "Bearer sk-lab-key"


def test_the_remote_model_setting_picks_what_the_server_is_asked_for(
    db: Any, server: FakeServer, openai_settings: Any
) -> None:
    openai_settings.PRSM_OPENAI_REMOTE_MODEL = "llama-3-8b"
    assert _complete("gpt-4").output == "Hello there."
    assert server.requests[-1]["body"]["model"] == "llama-3-8b"
    server.behaviour = "404"
    error = _error("gpt-4")
    assert error.error_type == "model_unavailable"
    assert "PRSM_OPENAI_REMOTE_MODEL" in error.message


def test_a_model_endpoint_of_the_same_name_wins_over_the_settings(
    db: Any, server: FakeServer, openai_settings: Any
) -> None:
    _endpoint(server, name="gpt-4", remote_model="the-rows-model")
    _complete("gpt-4")
    assert server.requests[-1]["body"]["model"] == "the-rows-model"
    assert server.requests[-1]["auth"] is None  # the row names no key


def test_a_name_the_settings_do_not_list_says_which_variable_to_extend(
    db: Any, openai_settings: Any
) -> None:
    error = _error("mistral-large")
    assert error.error_type == "model_unavailable"
    assert "Add 'mistral-large' to PRSM_OPENAI_MODELS" in error.message


def test_a_rejected_key_names_the_variable_to_fix(
    db: Any, server: FakeServer, openai_settings: Any
) -> None:
    server.behaviour = "401"
    error = _error("gpt-4")
    assert error.error_type == "model_unavailable"
    assert "PRSM_OPENAI_API_KEY" in error.message
    assert "sk-lab-key" not in error.message  # the server echoed it


def test_the_catalog_and_validation_know_the_settings_models(
    db: Any, django_user_model: Any, openai_settings: Any
) -> None:
    from tests.conftest import client_for
    from workflows.catalog import catalog_for_user
    from workflows.definition.validation import validate_definition

    alice = django_user_model.objects.create_user("alice")
    models = {m["name"]: m for m in client_for(alice).get("/api/v1/catalog/models").json()}
    assert models["gpt-3.5-turbo"]["provider"] == "openai"
    assert "PRSM_OPENAI_BASE_URL" in models["gpt-3.5-turbo"]["description"]
    quick_start = text_analysis_pipeline()  # the seed's Quick Start, as written
    report = validate_definition(quick_start, catalog=catalog_for_user(alice))
    assert report.is_valid
    assert not [w for w in report.warnings if w.code == "unknown_model"]

    openai_settings.PRSM_OPENAI_BASE_URL = ""
    names = {m["name"] for m in client_for(alice).get("/api/v1/catalog/models").json()}
    assert "gpt-3.5-turbo" not in names


def test_the_seeds_quick_start_completes_with_only_the_openai_settings(
    worker: Any, settings: Any, chat_server: FakeServer, alice: Any
) -> None:
    """The seed's Quick Start as written, on a worker configured by nothing but the
    new variables (and the allow-list a loopback server needs): no model endpoint row.
    Only routing is added (cpu_cores: 99), so its steps go to a queue only that worker
    consumes (the shared one has no such variables)."""
    from tests.engine import Worker
    from tests.executions.helpers import create_workflow, detail, execute, wait_terminal

    settings.PRSM_WORKER_QUEUES = RESILIENT_QUEUES
    settings.PRSM_OPENAI_BASE_URL = chat_server.base_url
    declaration_record(by="test: manage.py queues --declare")  # the worker's queues
    own = Worker(
        concurrency=1,
        queues="loopback",
        extra_env={
            "PRSM_OPENAI_BASE_URL": chat_server.base_url,
            "OPENAI_API_KEY": "sk-lab-key",
            "PRSM_OUTBOUND_ALLOWLIST": "127.0.0.1",
            "PRSM_WORKER_QUEUES": json.dumps(RESILIENT_QUEUES),
        },
    )
    try:
        assert not ModelEndpoint.objects.exists()
        wf = create_workflow(
            alice,
            {**text_analysis_pipeline(), "resource_requirements": {"cpu_cores": 99}},
        )
        ex = execute(alice, wf, inputs={"text": "I love using PRSM for AI research!"})
        finished = wait_terminal(ex, timeout=90)
        assert finished.status == "completed", finished.error
    finally:
        own.stop()

    body = detail(alice, wf, ex)
    assert body["final_result"] == "from gpt-3.5-turbo"
    asked = [r["body"]["model"] for r in chat_server.requests]
    assert asked == [
        "cardiffnlp/twitter-roberta-base-sentiment-latest",
        "dbmdz/bert-large-cased-finetuned-conll03-english",
        "gpt-3.5-turbo",
    ]
    prompt = chat_server.requests[-1]["body"]["messages"][-1]["content"]
    assert prompt == (
        "Summarize: Sentiment=from cardiffnlp/twitter-roberta-base-sentiment-latest, "
        "Entities=from dbmdz/bert-large-cased-finetuned-conll03-english"
    )


# --- POST /catalog/models/test: the Models page's Test button --------------------------


def _test(user: Any, model: Any) -> Any:
    from tests.conftest import client_for

    return client_for(user).post("/api/v1/catalog/models/test", {"model": model}, format="json")


def test_testing_a_builtin_model_shows_its_answer(db: Any, alice: Any) -> None:
    response = _test(alice, "builtin/sentiment-vader")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True
    assert "label" in body["answer"]


def test_testing_a_server_sends_one_tiny_request(
    db: Any, alice: Any, server: FakeServer, openai_settings: Any
) -> None:
    body = _test(alice, "gpt-3.5-turbo").json()
    assert body == {"ok": True, "model": "gpt-3.5-turbo", "answer": "Hello there."}
    assert len(server.requests) == 1
    assert server.requests[0]["body"]["max_tokens"] == 16


def test_a_failing_test_shows_the_mapped_error_without_the_key(
    db: Any, alice: Any, server: FakeServer, openai_settings: Any
) -> None:
    server.behaviour = "401"
    body = _test(alice, "gpt-4").json()
    assert body["ok"] is False
    assert body["error"]["type"] == "model_unavailable"
    assert "PRSM_OPENAI_API_KEY" in body["error"]["message"]
    assert "sk-lab-key" not in json.dumps(body)


def test_only_models_the_caller_may_use_can_be_tested(
    db: Any, alice: Any, django_user_model: Any, server: FakeServer
) -> None:
    from django.contrib.auth.models import Group

    other = Group.objects.create(name="other-lab")
    _endpoint(server, name="other/llama", team=other)
    assert _test(alice, "other/llama").status_code == 404
    assert _test(alice, "gpt-nowhere").status_code == 404
    assert _test(alice, "").status_code == 400
    assert _test(alice, ["builtin/sentiment-vader"]).status_code == 400
    assert server.requests == []


# --- a key stored on the Models page (encrypted in the row) ------------------------------


def test_the_stored_key_is_sent_and_wins_over_credentials_ref(
    db: Any, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from executions.crypto import encrypt_json

    monkeypatch.setenv("LLAMA_KEY", "sk-from-env")
    _endpoint(server, credentials_ref="LLAMA_KEY", api_key_encrypted=encrypt_json("sk-stored"))
    _complete("local/llama")
    assert [r["auth"] for r in server.requests] == ["Bearer sk-stored"]


def test_a_stored_key_no_listed_key_opens_is_model_unavailable(
    db: Any, server: FakeServer, settings: Any
) -> None:
    from cryptography.fernet import Fernet

    from executions.crypto import encrypt_json

    settings.PRSM_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    sealed = encrypt_json("sk-stored")
    settings.PRSM_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key dropped
    _endpoint(server, api_key_encrypted=sealed)
    error = _error("local/llama")
    assert error.error_type == "model_unavailable"
    assert "Set the key again on the Models page" in error.message
    assert server.requests == []


def test_a_refused_stored_key_says_to_set_it_on_the_models_page(
    db: Any, server: FakeServer
) -> None:
    from executions.crypto import encrypt_json

    server.behaviour = "401"
    _endpoint(server, api_key_encrypted=encrypt_json("sk-stored-wrong"))
    error = _error("local/llama")
    assert error.error_type == "model_unavailable"
    assert "stored for this endpoint was refused" in error.message
    assert "sk-stored-wrong" not in error.message


@pytest.fixture
def keyed_server() -> Iterator[FakeServer]:
    """Chat completions only for ``Authorization: Bearer sk-lab-stored``; 401 else."""
    state = FakeServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            auth = self.headers.get("Authorization")
            state.requests.append({"path": self.path, "body": body, "auth": auth})
            if auth != "Bearer sk-lab-stored":
                return _reply(self, 401, {"error": {"message": "Incorrect API key provided"}})
            answer = {
                "choices": [{"message": {"role": "assistant", "content": "keyed answer"}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 2},
            }
            return _reply(self, 200, answer)

    yield from _serve(Handler, state)


def test_a_step_runs_on_the_worker_with_the_key_stored_through_the_api(
    loopback_worker: Any, keyed_server: FakeServer, alice: Any, team: Any
) -> None:
    """The endpoint is added as the Models page adds it (POST /model-endpoints, key
    encrypted in the row); the worker decrypts it and the server accepts it."""
    from tests.conftest import client_for
    from tests.executions.helpers import (
        create_workflow,
        detail,
        execute,
        steps_by_id,
        wait_terminal,
    )

    added = client_for(alice).post(
        "/api/v1/model-endpoints",
        {
            "name": "lab/keyed",
            "base_url": keyed_server.base_url,
            "api_key": "sk-lab-stored",
            "input_price_per_1k": "1",
            "output_price_per_1k": "2",
            "team": team.pk,
        },
        format="json",
    )
    assert added.status_code == 201, added.content
    assert "sk-lab-stored" not in ModelEndpoint.objects.get(name="lab/keyed").api_key_encrypted
    wf = create_workflow(
        alice,
        {
            "name": "Keyed",
            "steps": [{"id": "ask", "type": "inference", "model": "lab/keyed", "input": "Hi"}],
            "resource_requirements": {"cpu_cores": 99},
        },
    )
    ex = execute(alice, wf)
    assert wait_terminal(ex, timeout=90).status == "completed", detail(alice, wf, ex)
    step = steps_by_id(detail(alice, wf, ex))["ask"]
    assert step["result"] == "keyed answer"
    assert [r["auth"] for r in keyed_server.requests] == ["Bearer sk-lab-stored"]
