"""Model providers behind one interface: ``complete(model, prompt, parameters)``.

A model name is served, in this order, by: the test run's ``mock_models``;
``mock/echo``; the built-in offline models (``builtin/…``); else the enabled
``ModelEndpoint`` row of that name, if the user who started the execution may use
it (a team's endpoint serves only its members) — ``openai`` endpoints through the
OpenAI-compatible HTTP provider (:mod:`executions.steps.openai_compat`),
``huggingface`` ones through local ``transformers`` pipelines
(:mod:`executions.steps.huggingface`), ``builtin`` ones through the built-in model
named by ``remote_model``, ``mock`` ones echo. Anything else is
``model_unavailable``, naming what to configure.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from executions.steps.base import StepError
from executions.steps.builtin_models import run_builtin


@dataclass
class Completion:
    output: Any
    input_tokens: int
    output_tokens: int
    gpu_seconds: float = 0.0


class Provider(Protocol):
    def complete(self, model: str, prompt: Any, parameters: Mapping[str, Any]) -> Completion: ...


def _tokens(value: Any) -> int:
    text = value if isinstance(value, str) else repr(value)
    return max(1, len(text) // 4)


def _text(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    import json

    return json.dumps(prompt, ensure_ascii=False, default=str)


#: A prompt's leading instruction ("Summarize this paper: …"): the built-in models
#: work on the text after it, so a summary is made of the input's own sentences.
_INSTRUCTION = re.compile(
    r"^\s*(?:summari[sz]e|analy[sz]e|analysis|extract|generate|classify|identify|find|list"
    r"|describe|tag|label)\b[^:\n]{0,80}:\s*",
    re.IGNORECASE,
)


def strip_instruction(text: str) -> str:
    """``text`` without a leading instruction such as ``"Summarize: "``; JSON that is
    left (a list of abstracts, say) becomes its strings' text."""
    rest = _INSTRUCTION.sub("", text, count=1)
    if rest[:1] in ("[", "{"):
        import json

        try:
            data = json.loads(rest)
        except ValueError:
            return rest
        strings = list(_strings(data))
        if strings:
            return " ".join(strings)
    return rest


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        yield value.strip()
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class BuiltinProvider:
    """The built-in offline models (:mod:`executions.steps.builtin_models`): no network,
    no download."""

    def complete(self, model: str, prompt: Any, parameters: Mapping[str, Any]) -> Completion:
        text = _text(prompt)
        output = run_builtin(model, strip_instruction(text), parameters)
        return Completion(output, _tokens(text), _tokens(output))


class MockProvider:
    """Answers from a test run's ``mock_models``: ``{response, latency_ms, error}``.

    ``error`` (an error type, with an optional ``error_message``) makes the model
    fail — on every attempt, or on the first ``fail_times`` attempts of the step —
    so test runs can exercise retries and fallbacks.
    """

    def __init__(self, mocks: Mapping[str, Any], attempt: int = 1):
        self.mocks = mocks
        self.attempt = attempt

    def complete(self, model: str, prompt: Any, parameters: Mapping[str, Any]) -> Completion:
        mock = self.mocks.get(model) or {}
        latency = float(mock.get("latency_ms", 0)) / 1000
        if latency:
            time.sleep(min(latency, 60))
        fail_times = mock.get("fail_times")
        if mock.get("error") and (fail_times is None or self.attempt <= int(fail_times)):
            raise StepError(str(mock["error"]), str(mock.get("error_message", "mocked error")))
        response = mock.get("response", f"[mock {model}] {_text(prompt)[:200]}")
        return Completion(response, _tokens(prompt), _tokens(response))


def unserved_model_message(model: str) -> str:
    """What to set so that ``model`` is served: the variables, or a model endpoint."""
    from django.conf import settings

    endpoint = (
        f"add a model endpoint named '{model}' on the Models page (/models/ → Add an "
        "endpoint: base URL, API key, prices)"
    )
    if not getattr(settings, "PRSM_OPENAI_BASE_URL", ""):
        return (
            f"No provider serves the model '{model}' to the user who started this run "
            "(a team's endpoint serves only its members). Set PRSM_OPENAI_BASE_URL (and "
            "PRSM_OPENAI_API_KEY or OPENAI_API_KEY) to an OpenAI-compatible server, which "
            f"then serves the names in PRSM_OPENAI_MODELS; or {endpoint}; or name a "
            "fallback model."
        )
    return (
        f"No provider serves the model '{model}': the server of PRSM_OPENAI_BASE_URL "
        f"serves only PRSM_OPENAI_MODELS. Add '{model}' to PRSM_OPENAI_MODELS; or "
        f"{endpoint}; or name a fallback model."
    )


def complete(
    model: str,
    prompt: Any,
    parameters: Mapping[str, Any],
    *,
    mock_models: Mapping[str, Any],
    attempt: int = 1,
    user_id: int | None = None,
) -> Completion:
    """Run ``model`` on ``prompt`` with the provider that serves it to ``user_id``
    (the execution's starter; None: only public endpoints)."""
    if model in mock_models:
        return MockProvider(mock_models, attempt).complete(model, prompt, parameters)
    if model == "mock/echo":
        return Completion(prompt, _tokens(prompt), _tokens(prompt))
    if model.startswith("builtin/"):
        return BuiltinProvider().complete(model, prompt, parameters)
    from executions.steps import openai_compat

    endpoint = openai_compat.find_endpoint(model, user_id=user_id)
    if endpoint is None:
        raise StepError("model_unavailable", unserved_model_message(model))
    if endpoint.provider == "openai":
        return openai_compat.OpenAICompatibleProvider(endpoint).complete(model, prompt, parameters)
    if endpoint.provider == "builtin":
        return BuiltinProvider().complete(endpoint.model_id, prompt, parameters)
    if endpoint.provider == "mock":
        return Completion(prompt, _tokens(prompt), _tokens(prompt))
    if endpoint.provider == "huggingface":
        from executions.steps.huggingface import HuggingFaceProvider

        return HuggingFaceProvider(endpoint).complete(model, prompt, parameters)
    raise StepError(
        "model_unavailable",
        f"The model '{model}' is configured for the '{endpoint.provider}' provider, which "
        "this worker cannot run. Point the endpoint at an OpenAI-compatible server or name "
        "a fallback model.",
    )
