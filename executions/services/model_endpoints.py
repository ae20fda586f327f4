"""Model endpoints managed from the Models page: who may see and change which, and
the write-only, encrypted API key.

An endpoint is one ``ModelEndpoint`` row of provider ``openai`` (one row per model
name: names are what steps say, and are unique). Rules:

- a **team** endpoint (``team`` set) is managed by that team's members, and serves
  only them (``workflows.catalog``); a user may create one only for a team they are
  on;
- a **shared** endpoint (``team`` unset) serves everyone, so only staff may create,
  change or delete one; everyone sees it (read-only);
- staff (``is_staff`` or ``is_superuser``) see and manage every endpoint;
- a team endpoint of a team the caller is not on does not exist for them (404).

The key is encrypted with :func:`executions.crypto.encrypt_json` before it is saved
and is never returned: callers get only whether one is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from executions.crypto import encrypt_json
from workflows.models import ModelEndpoint

__all__ = [
    "EndpointChanges",
    "EndpointForbidden",
    "EndpointInvalid",
    "EndpointNotFound",
    "can_manage",
    "endpoint_create",
    "endpoint_delete",
    "endpoint_get",
    "endpoint_update",
    "endpoints_for_user",
    "is_staff",
]

#: A model name as steps write it: no spaces, not a built-in or mock prefix.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$")
RESERVED_PREFIXES = ("builtin/", "mock/")
API_KEY_MAX = 4096


class EndpointNotFound(Exception):
    """No such endpoint, or one of a team the caller is not on (→ 404)."""


class EndpointForbidden(Exception):
    """The caller sees the endpoint but may not change it (→ 403)."""


class EndpointInvalid(ValueError):
    """Input that cannot be saved as asked (→ 400); ``field`` names the input."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def is_staff(user: Any) -> bool:
    return bool(user.is_staff or user.is_superuser)


def endpoints_for_user(user: Any) -> QuerySet[ModelEndpoint]:
    """The OpenAI-compatible endpoints ``user`` may see: shared ones and their
    teams' ones (every one for staff)."""
    qs = ModelEndpoint.objects.filter(provider=ModelEndpoint.Provider.OPENAI).select_related("team")
    if is_staff(user):
        return qs.order_by("name")
    return qs.filter(Q(team__isnull=True) | Q(team__in=user.groups.all())).order_by("name")


def endpoint_get(user: Any, endpoint_id: int) -> ModelEndpoint:
    try:
        return endpoints_for_user(user).get(pk=endpoint_id)
    except ModelEndpoint.DoesNotExist:
        raise EndpointNotFound() from None


def can_manage(user: Any, endpoint: ModelEndpoint) -> bool:
    if is_staff(user):
        return True
    if endpoint.team_id is None:
        return False
    return user.groups.filter(pk=endpoint.team_id).exists()


@dataclass(frozen=True)
class EndpointChanges:
    """Validated fields; ``None`` leaves a field as it is (on update).

    ``api_key``: ``None`` keeps the stored key, ``""`` removes it, text replaces it.
    ``team_id``: ``MISSING`` keeps the team (update only); ``None`` makes it shared.
    """

    name: str | None = None
    base_url: str | None = None
    remote_model: str | None = None
    api_key: str | None = None
    input_price_per_1k: Decimal | None = None
    output_price_per_1k: Decimal | None = None
    enabled: bool | None = None
    team_id: int | str | None = "keep"


def _check_name(name: str) -> str:
    name = name.strip()
    if not NAME_PATTERN.match(name):
        raise EndpointInvalid(
            "name",
            "A model name is 1–200 letters, digits and . _ : / @ + - (no spaces), "
            "as steps write it, e.g. 'gpt-4o-mini' or 'lab/llama-3-8b'.",
        )
    if name.startswith(RESERVED_PREFIXES):
        raise EndpointInvalid("name", "Names starting with builtin/ or mock/ are reserved.")
    return name


def _check_base_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        raise EndpointInvalid(
            "base_url",
            "The base URL is an http:// or https:// URL with the API prefix, e.g. "
            "https://api.openai.com/v1 or http://gpu-box:8000/v1.",
        )
    return url


def _check_team(user: Any, team_id: int | None) -> Group | None:
    if team_id is None:
        if not is_staff(user):
            raise EndpointInvalid(
                "team",
                "Only staff may add a shared endpoint (it serves every user); "
                "choose one of your teams.",
            )
        return None
    team = Group.objects.filter(pk=team_id).first()
    if team is None or not (is_staff(user) or user.groups.filter(pk=team_id).exists()):
        raise EndpointInvalid("team", "Choose a team you are a member of.")
    return team


def _apply(endpoint: ModelEndpoint, changes: EndpointChanges) -> None:
    if changes.name is not None:
        endpoint.name = _check_name(changes.name)
    if changes.base_url is not None:
        endpoint.base_url = _check_base_url(changes.base_url)
    if changes.remote_model is not None:
        endpoint.remote_model = changes.remote_model.strip()
    if changes.input_price_per_1k is not None:
        endpoint.input_price_per_1k = changes.input_price_per_1k
    if changes.output_price_per_1k is not None:
        endpoint.output_price_per_1k = changes.output_price_per_1k
    if changes.enabled is not None:
        endpoint.enabled = changes.enabled
    if changes.api_key is not None:
        key = changes.api_key.strip()
        if len(key) > API_KEY_MAX:
            raise EndpointInvalid("api_key", f"An API key is at most {API_KEY_MAX} characters.")
        endpoint.api_key_encrypted = encrypt_json(key) if key else ""


def _save(endpoint: ModelEndpoint) -> ModelEndpoint:
    try:
        with transaction.atomic():
            if ModelEndpoint.objects.filter(name=endpoint.name).exclude(pk=endpoint.pk).exists():
                raise EndpointInvalid(
                    "name", f"There is already a model endpoint named '{endpoint.name}'."
                )
            endpoint.save()
    except IntegrityError:  # a concurrent save of the same name
        raise EndpointInvalid(
            "name", f"There is already a model endpoint named '{endpoint.name}'."
        ) from None
    return endpoint


def endpoint_create(user: Any, changes: EndpointChanges) -> ModelEndpoint:
    if not changes.name:
        raise EndpointInvalid("name", "Name the model this endpoint serves.")
    if not changes.base_url:
        raise EndpointInvalid("base_url", "Give the server's base URL, e.g. http://host:8000/v1.")
    team_id = None if changes.team_id == "keep" else changes.team_id
    assert not isinstance(team_id, str)
    endpoint = ModelEndpoint(provider=ModelEndpoint.Provider.OPENAI)
    endpoint.team = _check_team(user, team_id)
    _apply(endpoint, changes)
    return _save(endpoint)


def endpoint_update(user: Any, endpoint_id: int, changes: EndpointChanges) -> ModelEndpoint:
    endpoint = endpoint_get(user, endpoint_id)
    if not can_manage(user, endpoint):
        raise EndpointForbidden("Only staff may change a shared endpoint.")
    if changes.team_id != "keep":
        assert not isinstance(changes.team_id, str)
        endpoint.team = _check_team(user, changes.team_id)
    _apply(endpoint, changes)
    return _save(endpoint)


def endpoint_delete(user: Any, endpoint_id: int) -> None:
    endpoint = endpoint_get(user, endpoint_id)
    if not can_manage(user, endpoint):
        raise EndpointForbidden("Only staff may delete a shared endpoint.")
    endpoint.delete()
