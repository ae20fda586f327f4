"""Model providers behind one interface: ``complete(model, prompt, parameters)``.

A model name is served, in this order, by: the test run's ``mock_models``;
``mock/echo``; the built-in offline models (``builtin/…``); else the enabled
``ModelEndpoint`` row of that name — ``openai`` endpoints through the
OpenAI-compatible HTTP provider (:mod:`executions.steps.openai_compat`),
``huggingface`` ones through local ``transformers`` pipelines
(:mod:`executions.steps.huggingface`), ``builtin`` ones through the built-in model
named by ``remote_model``, ``mock`` ones echo. Anything else is
``model_unavailable``, naming what to configure.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from executions.steps.base import STOPWORDS, StepError

# Prompt verbs are not keywords of the text they ask about.
_STOPWORDS = STOPWORDS | {"summarize", "analyze", "extract"}


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


_POSITIVE = set(
    [
        "good",
        "great",
        "excellent",
        "love",
        "loved",
        "lovely",
        "like",
        "amazing",
        "wonderful",
        "best",
        "happy",
        "fantastic",
        "revolutionary",
        "brilliant",
        "enjoy",
        "enjoyed",
        "nice",
        "awesome",
        "superb",
        "positive",
        "success",
        "impressive",
    ]
)
_NEGATIVE = set(
    [
        "bad",
        "terrible",
        "awful",
        "hate",
        "hated",
        "worst",
        "poor",
        "sad",
        "horrible",
        "disappointing",
        "boring",
        "broken",
        "negative",
        "failure",
        "fail",
        "failed",
        "useless",
        "angry",
        "annoying",
        "slow",
        "wrong",
    ]
)


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


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'-]+", text.lower())


def builtin_sentiment(text: str) -> dict[str, Any]:
    words = _words(text)
    pos = sum(w in _POSITIVE for w in words)
    neg = sum(w in _NEGATIVE for w in words)
    total = pos + neg
    if total == 0:
        return {"label": "NEUTRAL", "score": 0.5}
    score = pos / total
    label = "POSITIVE" if score > 0.5 else "NEGATIVE" if score < 0.5 else "NEUTRAL"
    return {"label": label, "score": round(max(score, 1 - score), 4)}


def builtin_keywords(text: str, top: int = 10) -> list[str]:
    counts = Counter(w for w in _words(text) if w not in _STOPWORDS and len(w) > 2)
    return [w for w, _ in counts.most_common(top)]


def builtin_entities(text: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for match in re.finditer(r"\b([A-Z][a-zA-Z]+(?:\s+[A-Z][a-zA-Z]+)*|[A-Z]{2,})\b", text):
        name = match.group(1)
        if name.lower() in _STOPWORDS or name in {e["text"] for e in found}:
            continue
        found.append({"text": name, "type": "MISC"})
    return found


def builtin_summary(text: str, sentences: int = 3) -> str:
    parts = _sentences(text)
    if len(parts) <= sentences:
        return " ".join(parts)
    freq = Counter(w for w in _words(text) if w not in _STOPWORDS)
    ranked = sorted(
        range(len(parts)),
        key=lambda i: -sum(freq[w] for w in _words(parts[i])) / (len(_words(parts[i])) or 1),
    )
    keep = sorted(ranked[:sentences])
    return " ".join(parts[i] for i in keep)


class BuiltinProvider:
    """Small offline models that need no network or download."""

    MODELS = {
        "builtin/sentiment-vader": lambda text, p: builtin_sentiment(text),
        "builtin/keywords": lambda text, p: builtin_keywords(text, int(p.get("top_k", 10))),
        "builtin/entities": lambda text, p: builtin_entities(text),
        "builtin/extractive-summary": lambda text, p: builtin_summary(
            text, int(p.get("sentences", 3))
        ),
    }

    def complete(self, model: str, prompt: Any, parameters: Mapping[str, Any]) -> Completion:
        fn = self.MODELS.get(model)
        if fn is None:
            raise StepError("model_unavailable", f"There is no built-in model '{model}'.")
        text = _text(prompt)
        output = fn(strip_instruction(text), parameters)
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


def complete(
    model: str,
    prompt: Any,
    parameters: Mapping[str, Any],
    *,
    mock_models: Mapping[str, Any],
    attempt: int = 1,
) -> Completion:
    """Run ``model`` on ``prompt`` with the provider that serves it."""
    if model in mock_models:
        return MockProvider(mock_models, attempt).complete(model, prompt, parameters)
    if model == "mock/echo":
        return Completion(prompt, _tokens(prompt), _tokens(prompt))
    if model.startswith("builtin/"):
        return BuiltinProvider().complete(model, prompt, parameters)
    from executions.steps import openai_compat

    endpoint = openai_compat.find_endpoint(model)
    if endpoint is None:
        raise StepError(
            "model_unavailable",
            f"No provider serves the model '{model}'. Configure a model endpoint named "
            f"'{model}' (admin → Model endpoints: provider OpenAI-compatible HTTP, base URL, "
            "remote model, credentials reference) or name a fallback model.",
        )
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
