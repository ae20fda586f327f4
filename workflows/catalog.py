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
    )


def model_prices(user: Any = None) -> dict[str, ModelPrice]:
    rows = _endpoints_for(user).values_list("name", "input_price_per_1k", "output_price_per_1k")
    prices = {name: ModelPrice(Decimal(inp), Decimal(out)) for name, inp, out in rows}
    for name in BUILTIN_MODELS:
        prices.setdefault(name, ModelPrice(Decimal(0), Decimal(0)))
    return prices
