"""What steps may name: models, functions and worker queues.

Functions and generators come from the step catalog the engine registers
(``workflows.registry``); models from the built-in list and the ``ModelEndpoint``
table. Validation warns (not errors) about names it does not know.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from workflows import registry
from workflows.definition.estimate import ModelPrice
from workflows.definition.schema import WorkflowDefinition
from workflows.definition.validation import Catalog
from workflows.errors import DomainError
from workflows.models import ModelEndpoint

#: The built-in offline models, and what each does, exactly (the catalog's
#: ``description``). They need no network and no download; the engine runs them
#: (``executions.steps.builtin_models``).
BUILTIN_MODEL_DOCS: dict[str, str] = {
    "builtin/sentiment-vader": (
        "VADER sentiment (the vaderSentiment package): a rule-based English sentiment "
        'model that weighs a 7,500-word lexicon with negation ("not good"), intensifiers, '
        "capitals and punctuation. Returns {label, score, positive, neutral, negative}: "
        "score is VADER's compound score from -1 to 1, label POSITIVE at 0.05 or more, "
        "NEGATIVE at -0.05 or less, else NEUTRAL. Tuned for short English texts."
    ),
    "builtin/yake-keywords": (
        "YAKE keyword extraction (the yake package): statistical, unsupervised, "
        "English stopwords; ranks phrases of up to max_words words (default 3) by word "
        "position, frequency, case and context in this text alone. Returns the top_k "
        "(default 10) phrases, most relevant first, as a list of strings."
    ),
    "builtin/extractive-summary": (
        "Extractive summary by word frequency: keeps the sentences whose non-stopword "
        "words are most frequent in the text (how many: the sentences parameter, default "
        "3), in their original order. It copies sentences; it writes nothing new."
    ),
    "builtin/capitalized-phrases": (
        "Capitalized phrases: every run of capitalized words and every all-capitals "
        'word ("Marie Curie", "CERN"), once each, in order of appearance, as a list '
        "of strings. It does not tell people from places or organisations: it finds "
        "candidates for names, not typed entities, and also catches sentence-initial words."
    ),
    "mock/echo": "Returns its input unchanged (for tests and dry runs).",
}

#: Old names that still run, as the model they became. Kept because the built-in
#: templates named them and workflows made from those templates still do; validation
#: warns (``renamed_model``). ``builtin/entities`` keeps its old answer's shape
#: (``[{"text", "type": "MISC"}]``; MISC means untyped) so those workflows read it as before.
BUILTIN_MODEL_RENAMES: dict[str, str] = {
    "builtin/entities": "builtin/capitalized-phrases",
    "builtin/keywords": "builtin/yake-keywords",
}

BUILTIN_MODELS: tuple[str, ...] = tuple(BUILTIN_MODEL_DOCS)
#: Every built-in name a step may use: the models and their old names.
BUILTIN_MODEL_NAMES: frozenset[str] = frozenset(BUILTIN_MODELS) | frozenset(BUILTIN_MODEL_RENAMES)


def registered_functions() -> list[str]:
    """Names of the functions steps may call (the engine's registry)."""
    return sorted(registry.step_catalog().function_names())


def registered_generators() -> list[str]:
    """Names of the generator functions dynamic workflows may name."""
    return sorted(registry.step_catalog().generator_names())


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


def settings_model_names() -> list[str]:
    """The model names ``PRSM_OPENAI_BASE_URL``'s server serves (none when it is unset)."""
    if not getattr(settings, "PRSM_OPENAI_BASE_URL", ""):
        return []
    return list(dict.fromkeys(getattr(settings, "PRSM_OPENAI_MODELS", [])))


def _endpoints_for(user: Any) -> Any:
    """The enabled endpoints ``user`` may use: public ones, and their teams' ones.

    The one rule the catalog, validation, the execute check and the worker's
    look-up (``endpoint_usable_by``) share. Superusers may use every endpoint.
    """
    qs = ModelEndpoint.objects.filter(enabled=True)
    if user is None or not getattr(user, "is_authenticated", False):
        return qs.filter(team__isnull=True)
    if user.is_superuser:
        return qs
    return qs.filter(Q(team__isnull=True) | Q(team__in=user.groups.all()))


def endpoint_usable_by(*, team_id: int | None, user_id: int | None) -> bool:
    """Whether the user with this id may use an endpoint of this team (None: public).

    The worker's side of :func:`_endpoints_for`: it knows the endpoint's row and the
    id of the user who started the execution, not a request's user.
    """
    if team_id is None:
        return True
    if user_id is None:
        return False
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    return user_model.objects.filter(
        Q(pk=user_id, is_active=True) & (Q(is_superuser=True) | Q(groups__pk=team_id))
    ).exists()


class ModelsNotPermitted(DomainError):
    """A definition names a team's model endpoint the user may not use (→ 400).

    ``errors`` names each step and field: ``{"step", "field", "message"}``.
    """

    code = "model_not_permitted"

    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors

    def details(self) -> dict[str, Any]:
        return {"errors": self.errors}


def _named_models(definition: WorkflowDefinition) -> list[tuple[str | None, str, str]]:
    """Every literal model name a definition may run: ``(step, field, name)``.

    A step's model, its branches' and loop body's, and the fallback models of
    ``error_handling`` (which the engine switches to by itself). A name built from
    a reference (``${…}``) is known only at run time: the worker checks it then.
    """
    named: list[tuple[str | None, str, str]] = []
    for index, step in enumerate(definition.steps):
        base = f"steps[{index}]"
        if step.model:
            named.append((step.id, f"{base}.model", step.model))
        for part in ("if_true", "if_false", "step"):
            inline = getattr(step, part)
            if inline is not None and inline.model:
                named.append((step.id, f"{base}.{part}.model", inline.model))
    handling = definition.error_handling
    if handling is not None:
        for source, target in handling.effective_fallbacks().items():
            named.append((None, f"error_handling.fallback_models.{source}", target))
        for index, rule in enumerate(handling.error_handlers):
            if rule.fallback_model:
                field = f"error_handling.error_handlers[{index}].fallback_model"
                named.append((None, field, rule.fallback_model))
    return [(step, field, name) for step, field, name in named if "${" not in name]


def definition_models_check(definition: WorkflowDefinition, *, user: Any) -> None:
    """Refuse a definition naming a team's model endpoint that ``user`` may not use.

    Called when a run starts, for the user it runs for. A name no endpoint has is
    left to validation's ``unknown_model`` warning and the worker's
    ``model_unavailable``; names are unique, so a team's endpoint is never
    swapped for a public one of the same name. Raises ``ModelsNotPermitted``.
    """
    named = _named_models(definition)
    if not named:
        return
    names = {name for _, _, name in named}
    private = set(
        ModelEndpoint.objects.filter(name__in=names, team__isnull=False, enabled=True).values_list(
            "name", flat=True
        )
    )
    if not private:
        return
    usable = set(_endpoints_for(user).filter(name__in=private).values_list("name", flat=True))
    errors = [
        {
            "step": step or "",
            "field": field,
            "message": (f"step '{step}'" if step else field)
            + f" uses the model '{name}', which you may not use "
            "(it belongs to a team you are not on)",
        }
        for step, field, name in named
        if name in private and name not in usable
    ]
    if errors:
        raise ModelsNotPermitted(errors)


def catalog_for_user(user: Any) -> Catalog:
    names = (
        set(BUILTIN_MODEL_NAMES)
        | set(settings_model_names())
        | set(_endpoints_for(user).values_list("name", flat=True))
    )
    return Catalog(
        models=frozenset(names),
        functions=frozenset(registered_functions()),
        queues=tuple(worker_queues()),
        strict=False,
        generators=frozenset(registered_generators()),
        renamed_models=frozenset(BUILTIN_MODEL_RENAMES.items()),
    )


def model_prices(user: Any = None) -> dict[str, ModelPrice]:
    rows = _endpoints_for(user).values_list("name", "input_price_per_1k", "output_price_per_1k")
    prices = {name: ModelPrice(Decimal(inp), Decimal(out)) for name, inp, out in rows}
    for name in BUILTIN_MODEL_NAMES:
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
    """Models a user's steps may name: built-in ones and the endpoints they may use.

    The old names of renamed built-ins still run but are not offered here."""
    models = [
        {
            "name": name,
            "provider": "mock" if name.startswith("mock/") else "builtin",
            "description": BUILTIN_MODEL_DOCS[name],
            "available": True,
            "unavailable_reason": None,
            "input_price_per_1k": 0.0,
            "output_price_per_1k": 0.0,
            "team": None,
        }
        for name in BUILTIN_MODELS
    ]
    rows = list(_endpoints_for(user).select_related("team"))
    configured = {endpoint.name for endpoint in rows}
    remote = getattr(settings, "PRSM_OPENAI_REMOTE_MODEL", "")
    for name in settings_model_names():
        if name in configured or name in BUILTIN_MODEL_NAMES:
            continue  # a model endpoint of the same name wins
        asks = f" (asking it for '{remote}')" if remote else ""
        models.append(
            {
                "name": name,
                "provider": ModelEndpoint.Provider.OPENAI.value,
                "description": "The OpenAI-compatible server of PRSM_OPENAI_BASE_URL" + asks + ".",
                "available": True,
                "unavailable_reason": None,
                "input_price_per_1k": 0.0,
                "output_price_per_1k": 0.0,
                "team": None,
            }
        )
    for endpoint in rows:
        available, reason = endpoint_availability(endpoint)
        models.append(
            {
                "name": endpoint.name,
                "provider": endpoint.provider,
                "description": _endpoint_description(endpoint),
                "available": available,
                "unavailable_reason": reason or None,
                "input_price_per_1k": float(endpoint.input_price_per_1k),
                "output_price_per_1k": float(endpoint.output_price_per_1k),
                "team": endpoint.team.name if endpoint.team else None,
            }
        )
    return models


def _endpoint_description(endpoint: ModelEndpoint) -> str:
    """What a configured endpoint runs: its provider and the model it asks for."""
    served = endpoint.remote_model or endpoint.name
    if endpoint.provider == ModelEndpoint.Provider.BUILTIN:
        target = BUILTIN_MODEL_RENAMES.get(served, served)
        return BUILTIN_MODEL_DOCS.get(target, f"The built-in model '{served}'.")
    return f"{endpoint.get_provider_display()} endpoint serving the model '{served}'."


def endpoint_availability(endpoint: ModelEndpoint) -> tuple[bool, str]:
    """Whether a step could use the endpoint now, and if not, what to configure.

    Checked on this (web) machine: Hugging Face models need ``transformers`` and the
    weights here as on the workers; a remote server's health is not probed.
    """
    provider = endpoint.provider
    checked = registry.step_catalog().model_availability(
        provider=provider, model=endpoint.remote_model or endpoint.name
    )
    if checked is not None:
        return checked
    if provider == ModelEndpoint.Provider.OPENAI and not endpoint.base_url:
        return False, "The endpoint has no base URL (admin → Model endpoints)."
    if provider == ModelEndpoint.Provider.BUILTIN:
        target = endpoint.remote_model or endpoint.name
        if target not in BUILTIN_MODEL_NAMES:
            return False, f"There is no built-in model '{target}'."
    return True, ""


def functions() -> list[dict[str, Any]]:
    return registry.step_catalog().functions()


def generators() -> list[dict[str, Any]]:
    """Generator functions of dynamic workflows (``kind: "generator"``)."""
    return registry.step_catalog().generators()


def error_types() -> list[dict[str, str]]:
    return [{"type": name, "description": text} for name, text in ERROR_TYPE_DOCS.items()]
