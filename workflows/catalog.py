"""What steps may name: models, functions and worker queues.

Functions come from the engine's registry; models from the built-in list and the
``ModelEndpoint`` table. Validation warns (not errors) about names it does not know.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from workflows.definition.estimate import ModelPrice
from workflows.definition.validation import Catalog
from workflows.models import ModelEndpoint

BUILTIN_MODELS: tuple[str, ...] = (
    "builtin/sentiment-vader",
    "builtin/extractive-summary",
    "builtin/keywords",
    "builtin/entities",
    "mock/echo",
)


def registered_functions() -> list[str]:
    """Names of the functions steps may call (the engine's registry)."""
    from executions.steps.functions import FUNCTIONS

    return sorted(FUNCTIONS)


def registered_generators() -> list[str]:
    """Names of the generator functions dynamic workflows may name."""
    from executions.steps.generators import GENERATORS

    return sorted(GENERATORS)


@dataclass(frozen=True)
class WorkerQueue:
    """A Celery queue and the most a step routed to it may ask for."""

    name: str
    cpu_cores: float
    ram_gb: float
    gpu: bool = False


DEFAULT_QUEUES = [{"name": "default", "cpu_cores": 16, "ram_gb": 64, "gpu": False}]


def worker_queues() -> list[WorkerQueue]:
    raw: Any = getattr(settings, "PRSM_WORKER_QUEUES", None) or DEFAULT_QUEUES
    if isinstance(raw, str):
        raw = json.loads(raw)
    try:
        return [WorkerQueue(**queue) for queue in raw]
    except TypeError as exc:
        raise ImproperlyConfigured(f"PRSM_WORKER_QUEUES is malformed: {exc}") from None


def _endpoints_for(user: Any) -> Any:
    qs = ModelEndpoint.objects.filter(enabled=True)
    if user is None or not getattr(user, "is_authenticated", False):
        return qs.filter(team__isnull=True)
    if user.is_superuser:
        return qs
    return qs.filter(Q(team__isnull=True) | Q(team__in=user.groups.all()))


def catalog_for_user(user: Any) -> Catalog:
    names = set(BUILTIN_MODELS) | set(_endpoints_for(user).values_list("name", flat=True))
    return Catalog(
        models=frozenset(names),
        functions=frozenset(registered_functions()),
        queues=tuple(worker_queues()),
        strict=False,
        generators=frozenset(registered_generators()),
    )


def model_prices(user: Any = None) -> dict[str, ModelPrice]:
    rows = _endpoints_for(user).values_list("name", "input_price_per_1k", "output_price_per_1k")
    prices = {name: ModelPrice(Decimal(inp), Decimal(out)) for name, inp, out in rows}
    for name in BUILTIN_MODELS:
        prices.setdefault(name, ModelPrice(Decimal(0), Decimal(0)))
    return prices


# --- what the editor's palette and the SDK read ----------------------------------------

STEP_TYPE_DOCS: dict[str, dict[str, Any]] = {
    "inference": {"description": "Runs a model on its input.", "requires": ["model"]},
    "data_processing": {
        "description": "Runs a registered function on its input.",
        "requires": ["function"],
    },
    "aggregation": {
        "description": "Combines results (all it waits for, unless given inputs).",
        "requires": [],
    },
    "conditional": {
        "description": "Runs if_true or if_false by a CEL condition over references.",
        "requires": ["condition", "if_true|if_false"],
    },
    "loop": {
        "description": "Runs an inline step for each item of a list (in parallel if asked).",
        "requires": ["iterate_over", "step"],
    },
    "parallel_processing": {
        "description": "Maps a function over a list.",
        "requires": ["function"],
    },
    "data_collection": {
        "description": "Gathers data with a function (e.g. academic_search).",
        "requires": ["function"],
    },
}
ERROR_TYPE_DOCS: dict[str, str] = {
    "timeout": "The step ran past its timeout.",
    "rate_limit": "The model provider asked us to slow down (HTTP 429).",
    "temporary_failure": "A transient failure: a 5xx answer, a lost connection or worker.",
    "model_unavailable": "No provider serves the model, or it refused our credentials.",
    "invalid_input": "The step's input or parameters are wrong; retrying will not help.",
    "execution_error": "The step's own code failed.",
}


def step_types() -> list[dict[str, Any]]:
    """Each step type with its documentation and the JSON Schema of a step."""
    from workflows.definition.schema import STEP_TYPES, definition_json_schema

    schema = definition_json_schema()
    step_schema = {"$ref": "#/$defs/Step", "$defs": schema.get("$defs", {})}
    return [{"type": t, **STEP_TYPE_DOCS[t], "json_schema": step_schema} for t in STEP_TYPES]


def models_for_user(user: Any) -> list[dict[str, Any]]:
    """Models a user's steps may name: built-in ones and the endpoints they may use."""
    models = [
        {
            "name": name,
            "provider": "mock" if name.startswith("mock/") else "builtin",
            "available": True,
            "unavailable_reason": None,
            "input_price_per_1k": 0.0,
            "output_price_per_1k": 0.0,
            "team": None,
        }
        for name in BUILTIN_MODELS
    ]
    for endpoint in _endpoints_for(user).select_related("team"):
        available, reason = endpoint_availability(endpoint)
        models.append(
            {
                "name": endpoint.name,
                "provider": endpoint.provider,
                "available": available,
                "unavailable_reason": reason or None,
                "input_price_per_1k": float(endpoint.input_price_per_1k),
                "output_price_per_1k": float(endpoint.output_price_per_1k),
                "team": endpoint.team.name if endpoint.team else None,
            }
        )
    return models


def endpoint_availability(endpoint: ModelEndpoint) -> tuple[bool, str]:
    """Whether a step could use the endpoint now, and if not, what to configure.

    Checked on this (web) machine: Hugging Face models need ``transformers`` and the
    weights here as on the workers; a remote server's health is not probed.
    """
    provider = endpoint.provider
    if provider == ModelEndpoint.Provider.HUGGINGFACE:
        from executions.steps.huggingface import availability

        return availability(endpoint.remote_model or endpoint.name)
    if provider == ModelEndpoint.Provider.OPENAI and not endpoint.base_url:
        return False, "The endpoint has no base URL (admin → Model endpoints)."
    if provider == ModelEndpoint.Provider.BUILTIN:
        target = endpoint.remote_model or endpoint.name
        if target not in BUILTIN_MODELS:
            return False, f"There is no built-in model '{target}'."
    return True, ""


def functions() -> list[dict[str, Any]]:
    from executions.steps.functions import function_catalog

    return function_catalog()


def generators() -> list[dict[str, Any]]:
    """Generator functions of dynamic workflows (``kind: "generator"``)."""
    from executions.steps.generators import generator_catalog

    return generator_catalog()


def error_types() -> list[dict[str, str]]:
    return [{"type": name, "description": text} for name, text in ERROR_TYPE_DOCS.items()]
