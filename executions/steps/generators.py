"""Generator functions of dynamic workflows: registered Python callables that build a
workflow's steps from its inputs when it is executed.

A dynamic workflow names one (``"generator_function": "generate_steps_for_documents"``)
and has ``steps: []``. At execution start the generator receives the checked inputs
(secret values are not passed) and returns the steps — a list of step documents —
or an object with ``steps`` and optionally ``final_result``, ``error_handling`` and
``resource_requirements``. The result is validated like any definition before it
runs, and stored on the execution.

A Django app or package registers more with :func:`register_generator`::

    @register_generator("one_step_per_url", inputs={"urls": {"type": "array"}})
    def one_step_per_url(inputs): ...

Nothing a user types is executed as code: a workflow can only name a generator
that Python code registered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "GENERATORS",
    "GeneratorError",
    "GeneratorSpec",
    "generate",
    "generator_catalog",
    "register_generator",
]

#: What a generator's result may set besides ``steps``.
GENERATED_KEYS = frozenset({"steps", "final_result", "error_handling", "resource_requirements"})


class GeneratorError(Exception):
    """The inputs do not let the generator build a workflow (→ 400 at execute).

    ``input`` names the workflow input at fault, when there is one.
    """

    def __init__(self, message: str, *, input: str = ""):
        super().__init__(message)
        self.message = message
        self.input = input


@dataclass(frozen=True)
class GeneratorSpec:
    name: str
    fn: Callable[[dict[str, Any]], Any]
    description: str
    inputs: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": "generator",
            "description": self.description,
            "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
            "input": {"type": "object", "properties": self.inputs},
            "output": {
                "type": "object",
                "description": "The generated workflow: steps (and optionally final_result).",
            },
        }


GENERATORS: dict[str, GeneratorSpec] = {}


def _describe(fn: Callable[..., Any]) -> str:
    doc = (fn.__doc__ or "").strip()
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip()


def register_generator(
    name: str, *, description: str | None = None, inputs: Mapping[str, Any] | None = None
) -> Callable[[Callable[[dict[str, Any]], Any]], Callable[[dict[str, Any]], Any]]:
    """Register ``fn(inputs) -> steps | {"steps": …, …}`` as the generator ``name``.

    ``inputs`` documents the workflow inputs it reads (``input_schema`` entries, for
    the catalog); ``description`` defaults to the docstring's first paragraph.
    """

    def decorate(fn: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
        GENERATORS[name] = GeneratorSpec(
            name=name,
            fn=fn,
            description=description if description is not None else _describe(fn),
            inputs=dict(inputs or {}),
        )
        return fn

    return decorate


def generator_catalog() -> list[dict[str, Any]]:
    return [GENERATORS[name].as_dict() for name in sorted(GENERATORS)]


def generate(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Run the generator ``name``; return ``{"steps": [...], …}`` (not yet validated).

    Raises ``GeneratorError`` for an unknown generator, inputs it cannot use, or a
    result that is not a list of steps or an object with ``steps``.
    """
    spec = GENERATORS.get(name)
    if spec is None:
        raise GeneratorError(f"There is no generator function '{name}'.")
    out = spec.fn(dict(inputs))
    if isinstance(out, list):
        out = {"steps": out}
    if not isinstance(out, dict) or not isinstance(out.get("steps"), list):
        raise GeneratorError(
            f"The generator '{name}' returned {type(out).__name__}, not a list of steps or "
            "an object with 'steps'."
        )
    unknown = sorted(set(out) - GENERATED_KEYS)
    if unknown:
        raise GeneratorError(
            f"The generator '{name}' returned unknown keys {unknown}; it may set "
            f"{', '.join(sorted(GENERATED_KEYS))}."
        )
    return out


# ------------------------------------------------------------------ the shipped generator

#: Analysis types of ``generate_steps_for_documents`` → the offline model that does it.
ANALYSIS_MODELS: dict[str, str] = {
    "sentiment": "builtin/sentiment-vader",
    "entities": "builtin/capitalized-phrases",
    "keywords": "builtin/yake-keywords",
    "summary": "builtin/extractive-summary",
}
ANALYSIS_ALIASES: dict[str, str] = {
    "sentiment_analysis": "sentiment",
    "ner": "entities",
    "entity_extraction": "entities",
    "named_entities": "entities",
    "topics": "keywords",
    "topic_modeling": "keywords",
    "summarize": "summary",
    "summarization": "summary",
}
MAX_DOCUMENTS = 100
_FILE_ID = re.compile(r"^file_[a-z2-7]{16}$")


def _is_pdf_source(document: str) -> bool:
    """An uploaded file id, a data: URL of a PDF, or an http(s) URL ending in .pdf."""
    head = document[:40].lower()
    return bool(
        _FILE_ID.match(document)
        or head.startswith("data:application/pdf")
        or (head.startswith(("http://", "https://")) and document.lower().endswith(".pdf"))
    )


@register_generator(
    "generate_steps_for_documents",
    inputs={
        "documents": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Texts, uploaded PDF file ids (file_…) or PDF URLs.",
        },
        "analysis_types": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Any of: " + ", ".join(ANALYSIS_MODELS) + " (default: all).",
        },
    },
)
def generate_steps_for_documents(inputs: dict[str, Any]) -> dict[str, Any]:
    """One step per document and analysis type (offline built-in models), then one
    aggregation step that combines them per document.

    A document that is an uploaded PDF (``file_…``), a PDF data: URL or a URL ending
    in ``.pdf`` first gets a ``pdf_to_text`` step. Analysis types: sentiment,
    entities, keywords, summary (aliases such as ``ner``, ``topics``,
    ``summarization`` are understood). The final result maps ``doc_1``, ``doc_2``…
    to each document's analyses.
    """
    documents = inputs.get("documents")
    if not isinstance(documents, list) or not documents:
        raise GeneratorError("'documents' must be a non-empty list.", input="documents")
    if len(documents) > MAX_DOCUMENTS:
        raise GeneratorError(
            f"At most {MAX_DOCUMENTS} documents ({len(documents)} given).", input="documents"
        )
    for position, document in enumerate(documents):
        if not isinstance(document, str) or not document.strip():
            raise GeneratorError(
                f"documents[{position}] must be a non-empty string.", input="documents"
            )
    raw_types = inputs.get("analysis_types") or list(ANALYSIS_MODELS)
    if not isinstance(raw_types, list):
        raise GeneratorError("'analysis_types' must be a list.", input="analysis_types")
    types: list[str] = []
    for raw in raw_types:
        key = str(raw).strip().lower().replace("-", "_").replace(" ", "_")
        key = ANALYSIS_ALIASES.get(key, key)
        if key not in ANALYSIS_MODELS:
            raise GeneratorError(
                f"Unknown analysis type {raw!r}; choose from {', '.join(ANALYSIS_MODELS)}.",
                input="analysis_types",
            )
        if key not in types:
            types.append(key)

    steps: list[dict[str, Any]] = []
    combined: dict[str, dict[str, str]] = {}
    for position, document in enumerate(documents):
        doc = f"doc_{position + 1}"
        source = f"${{workflow.input.documents[{position}]}}"
        if _is_pdf_source(document):
            steps.append(
                {
                    "id": f"{doc}_text",
                    "name": f"Document {position + 1}: text",
                    "type": "data_processing",
                    "function": "pdf_to_text",
                    "input": source,
                }
            )
            source = f"${{{doc}_text.result}}"
        combined[doc] = {}
        for kind in types:
            step_id = f"{doc}_{kind}"
            steps.append(
                {
                    "id": step_id,
                    "name": f"Document {position + 1}: {kind}",
                    "type": "inference",
                    "model": ANALYSIS_MODELS[kind],
                    "input": source,
                }
            )
            combined[doc][kind] = f"${{{step_id}.result}}"
    steps.append(
        {
            "id": "aggregate",
            "name": "Combine the analyses",
            "type": "aggregation",
            "function": "combine_results",
            "inputs": combined,
        }
    )
    return {"steps": steps, "final_result": "${aggregate.result}"}
