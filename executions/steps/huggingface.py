"""The Hugging Face provider: local ``transformers`` pipelines, never a download.

Optional: install the extra on the workers (``pip install 'prsm-workflows[hf]'`` plus
a backend such as ``torch``) and put the weights on the worker beforehand
(``huggingface-cli download cardiffnlp/twitter-roberta-base-sentiment-latest``, or
copy a model directory). A ``ModelEndpoint`` row with ``provider = "huggingface"``
then serves its name:

- ``remote_model`` is the Hub id (``cardiffnlp/twitter-roberta-base-sentiment-latest``)
  or an absolute path of a local model directory (default: the endpoint's name);
- the pipeline task is the step's ``task`` parameter, else guessed from the model
  id (``sentiment`` → ``sentiment-analysis``, ``ner``/``conll`` → ``ner``,
  ``bart``/``t5``/``pegasus``/``summar`` → ``summarization``), else
  ``feature-extraction``.

The worker never reaches the Hub: ``HF_HUB_OFFLINE`` and ``TRANSFORMERS_OFFLINE``
are set (unless the environment sets them) and weights are looked up with
``local_files_only=True``. When ``transformers`` is missing or the weights are not
on the worker, the step fails with ``model_unavailable`` saying what to install or
download, so the workflow's fallback models take over.

Results: sentiment/text classification → ``{"label", "score"}`` with the label in
capitals (``${sentiment.result.label} == 'POSITIVE'`` works); ``ner`` → a list of
``{"text", "type", "score"}``; summarization and generation → the text; others as
the pipeline returns them (JSON-safe).
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from executions.steps.base import StepError

__all__ = ["HuggingFaceProvider", "availability", "guess_task", "transformers_installed"]

INSTALL_HINT = (
    "install the Hugging Face extra on the workers (pip install 'prsm-workflows[hf]' "
    "and a backend such as torch)"
)
_PIPELINES: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()
#: Parameters the provider reads itself; the rest go to the pipeline call.
OWN_PARAMETERS = frozenset({"task", "max_tokens", "temperature", "system", "request_timeout"})


def transformers_installed() -> bool:
    return importlib.util.find_spec("transformers") is not None


def guess_task(model_id: str) -> str:
    name = model_id.lower()
    if "sentiment" in name or "sst-2" in name or "emotion" in name:
        return "sentiment-analysis"
    if "ner" in name.split("/")[-1].split("-") or "conll" in name:
        return "ner"
    if any(word in name for word in ("summar", "bart-large-cnn", "pegasus", "t5")):
        return "summarization"
    return "feature-extraction"


def _offline_env() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def local_model_path(model_id: str) -> str | None:
    """The local directory holding ``model_id``'s weights, or None if not on this machine."""
    if os.path.isabs(model_id):
        return model_id if Path(model_id, "config.json").is_file() else None
    if importlib.util.find_spec("huggingface_hub") is None:
        return None
    _offline_env()
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(repo_id=model_id, local_files_only=True)
    except Exception:  # LocalEntryNotFoundError, a bad id, a broken cache: not available
        return None
    return path if Path(path, "config.json").is_file() else None


def availability(model_id: str) -> tuple[bool, str]:
    """Whether this process could run ``model_id`` now, and if not, why."""
    if not transformers_installed():
        return False, f"The transformers package is not installed: {INSTALL_HINT}."
    if local_model_path(model_id) is None:
        return False, (
            f"The weights of '{model_id}' are not on this machine: download them on each "
            f"worker (huggingface-cli download {model_id}) or set the endpoint's remote "
            "model to a local model directory."
        )
    return True, ""


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, float):
        return round(value, 6)
    try:
        return round(float(value), 6)  # numpy scalars
    except (TypeError, ValueError):
        return str(value)


def shape_output(task: str, raw: Any) -> Any:
    """The pipeline's answer in the documented shapes (see the module docstring)."""
    out = _jsonable(raw)
    if task in ("sentiment-analysis", "text-classification"):
        first = out[0] if isinstance(out, list) and out else out
        if isinstance(first, list) and first:  # top_k answers: the best one
            first = max(first, key=lambda d: d.get("score", 0))
        if isinstance(first, dict) and "label" in first:
            return {"label": str(first["label"]).upper(), "score": first.get("score")}
    if task in ("ner", "token-classification") and isinstance(out, list):
        return [
            {
                "text": e.get("word", ""),
                "type": e.get("entity_group") or e.get("entity", ""),
                "score": e.get("score"),
            }
            for e in out
            if isinstance(e, dict)
        ]
    if isinstance(out, list) and len(out) == 1 and isinstance(out[0], dict):
        for key in ("summary_text", "generated_text", "translation_text"):
            if key in out[0]:
                return out[0][key]
    return out


class HuggingFaceProvider:
    """Runs one endpoint's model in a local ``transformers`` pipeline (cached per process)."""

    def __init__(self, endpoint: Any):
        self.endpoint = endpoint

    def _pipeline(self, model: str, task: str) -> Any:
        model_id = self.endpoint.model_id
        if not transformers_installed():
            raise StepError(
                "model_unavailable",
                f"The model '{model}' is served by the 'huggingface' provider, which needs "
                f"the transformers package on the workers: {INSTALL_HINT}; or point the "
                "model endpoint at an OpenAI-compatible server, or name a fallback model.",
            )
        key = (model_id, task)
        with _LOCK:
            cached = _PIPELINES.get(key)
            if cached is not None:
                return cached
            path = local_model_path(model_id)
            if path is None:
                raise StepError(
                    "model_unavailable",
                    f"The weights of '{model_id}' (model '{model}', provider 'huggingface') "
                    f"are not on this worker: download them (huggingface-cli download "
                    f"{model_id}) or set the endpoint's remote model to a local model "
                    "directory; the worker never downloads weights itself.",
                )
            _offline_env()
            try:
                from transformers import pipeline

                pipe = pipeline(task, model=path, tokenizer=path)
            except Exception as exc:
                raise StepError(
                    "model_unavailable",
                    f"Could not load '{model_id}' for the task '{task}': "
                    f"{type(exc).__name__}: {exc}",
                ) from None
            _PIPELINES[key] = pipe
            return pipe

    def complete(self, model: str, prompt: Any, parameters: Mapping[str, Any]) -> Any:
        from executions.steps.providers import Completion, _text, _tokens

        task = str(parameters.get("task") or guess_task(self.endpoint.model_id))
        pipe = self._pipeline(model, task)
        text = _text(prompt)
        extra = {k: v for k, v in parameters.items() if k not in OWN_PARAMETERS}
        generates = task in ("summarization", "text-generation", "text2text-generation")
        if generates and "max_tokens" in parameters:
            extra.setdefault("max_new_tokens", parameters["max_tokens"])
        started = time.monotonic()
        try:
            raw = pipe(text, **extra)
        except Exception as exc:
            raise StepError(
                "execution_error", f"The '{task}' pipeline of '{model}' failed: {exc}"
            ) from None
        output = shape_output(task, raw)
        on_gpu = str(getattr(pipe, "device", "")).startswith("cuda")
        return Completion(
            output,
            _tokens(text),
            _tokens(output),
            gpu_seconds=time.monotonic() - started if on_gpu else 0.0,
        )
