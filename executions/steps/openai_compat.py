"""The OpenAI-compatible HTTP provider: chat completions from OpenAI, vLLM, Ollama,
llama.cpp servers and anything else that speaks ``POST {base_url}/chat/completions``.

A model name is served by the ``ModelEndpoint`` row of that name (``provider =
"openai"``, enabled) that the user who started the execution may use — a team's
endpoint serves only its members (the catalog's rule, ``workflows.catalog``):

- ``base_url`` includes the API version prefix, e.g. ``https://api.openai.com/v1``,
  ``http://localhost:11434/v1`` (Ollama), ``http://gpu-box:8000/v1`` (vLLM);
- ``remote_model`` is the model id sent to the server (default: the name);
- the API key, sent as ``Authorization: Bearer …``, is the row's stored one
  (``api_key_encrypted``, set on the Models page, decrypted with
  :mod:`executions.crypto` when a request is sent), else the environment variable
  ``credentials_ref`` names. Neither set means no ``Authorization`` header, which is
  what local servers expect.

Requests go through the outbound guard (:func:`executions.outbound.safe_client`).
A model server on a private or loopback address (``localhost``, ``10.…``, a LAN
GPU box) is refused unless ``PRSM_OUTBOUND_ALLOWLIST`` allows it, e.g.
``PRSM_OUTBOUND_ALLOWLIST=["127.0.0.1", "gpu-box.lab.internal"]``.

The prompt: a string is sent as one user message; anything else (an object, a
list) as its JSON text. A ``system`` parameter adds a system message first.
``request_timeout`` (seconds) bounds the request (default
``settings.PRSM_MODEL_REQUEST_TIMEOUT``, 120 s). Every other parameter
(``temperature``, ``max_tokens``, ``top_p``, ``stop``, ``seed``…) is passed through
in the request body as it is; ``model``, ``messages`` and ``stream`` cannot be
overridden.

The answer is ``choices[0].message.content``; token usage is read from ``usage``
(estimated from the text lengths when the server sends none). Failures become
:class:`~executions.steps.base.StepError` s the error-handling rules act on:

====================================  =====================
429                                   ``rate_limit``
5xx, connection refused/reset         ``temporary_failure``
404, or a body saying the model does  ``model_unavailable``
not exist
401 / 403                             ``model_unavailable`` (names ``credentials_ref``)
400 / 422 and other 4xx               ``invalid_input``
timeouts (and 408)                    ``timeout``
====================================  =====================
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from django.conf import settings

from executions.crypto import DecryptionFailed, decrypt_json
from executions.outbound import OutboundBlocked, OutboundUnresolvable, safe_client
from executions.steps.base import StepError
from executions.steps.providers import Completion

__all__ = [
    "ENDPOINT_CACHE_SECONDS",
    "Endpoint",
    "OpenAICompatibleProvider",
    "clear_endpoint_cache",
    "endpoint_price",
    "find_endpoint",
]

ENDPOINT_CACHE_SECONDS = 30.0
DEFAULT_REQUEST_TIMEOUT = 120.0
#: Parameters the provider itself reads; they are not sent to the server.
OWN_PARAMETERS = frozenset({"request_timeout", "system"})
#: Body fields the provider sets; a parameter of that name is ignored.
FIXED_FIELDS = frozenset({"model", "messages", "stream"})
MAX_ERROR_TEXT = 300

_MODEL_MISSING = re.compile(
    r"model_not_found|(model|does)\W.{0,120}\b(not exist|does not exist|not found|unknown)"
    r"|no such model|unknown model|model .{0,120} is not (available|loaded|served)",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Endpoint:
    """What a request needs of a ``ModelEndpoint`` row."""

    name: str
    provider: str
    base_url: str
    remote_model: str
    credentials_ref: str
    team_id: int | None = None
    #: The key itself, for the endpoint of ``PRSM_OPENAI_BASE_URL`` (a row names an
    #: environment variable in ``credentials_ref`` instead).
    api_key: str = field(default="", repr=False)
    #: Whether ``PRSM_OPENAI_BASE_URL`` made it (else it is a ``ModelEndpoint`` row).
    from_settings: bool = False
    #: The row's stored key, still encrypted (decrypted only to send a request).
    api_key_encrypted: str = field(default="", repr=False)

    @property
    def model_id(self) -> str:
        return self.remote_model or self.name

    def key(self) -> str:
        """The API key to send: ``api_key``, else the stored one, else the
        ``credentials_ref`` variable's. A stored key no listed key can decrypt is a
        ``model_unavailable`` error saying so."""
        if self.api_key:
            return self.api_key
        if self.api_key_encrypted:
            try:
                return str(decrypt_json(self.api_key_encrypted))
            except DecryptionFailed as exc:
                raise StepError(
                    "model_unavailable",
                    f"The API key stored for the model endpoint '{self.name}' cannot be "
                    f"used: {exc} Set the key again on the Models page.",
                ) from None
        return os.environ.get(self.credentials_ref, "").strip() if self.credentials_ref else ""


def settings_endpoint(model: str) -> Endpoint | None:
    """The endpoint ``PRSM_OPENAI_BASE_URL`` makes of ``model``, if it names one of
    ``PRSM_OPENAI_MODELS`` (read each time: settings are cheap, and tests change them)."""
    from django.conf import settings

    base_url = getattr(settings, "PRSM_OPENAI_BASE_URL", "")
    if not base_url or model not in getattr(settings, "PRSM_OPENAI_MODELS", []):
        return None
    return Endpoint(
        name=model,
        provider="openai",
        base_url=base_url,
        remote_model=getattr(settings, "PRSM_OPENAI_REMOTE_MODEL", ""),
        credentials_ref="PRSM_OPENAI_API_KEY",
        api_key=getattr(settings, "PRSM_OPENAI_API_KEY", ""),
        from_settings=True,
    )


_cache: dict[str, tuple[float, Endpoint | None]] = {}
#: Prices by model name, read for every step with a model (a mocked one too), so kept
#: apart from the providers' cache: pricing never caches a provider's miss.
_price_cache: dict[str, tuple[float, tuple[int | None, Decimal, Decimal] | None]] = {}
PRICE_CACHE_SECONDS = 60.0
_cache_lock = threading.Lock()


def clear_endpoint_cache() -> None:
    with _cache_lock:
        _cache.clear()
        _price_cache.clear()


def _clear_on_change(**_: Any) -> None:
    clear_endpoint_cache()


def _connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    from workflows.models import ModelEndpoint

    for signal in (post_save, post_delete):
        signal.connect(_clear_on_change, sender=ModelEndpoint, dispatch_uid=f"{__name__}.{signal}")


def find_endpoint(model: str, *, user_id: int | None) -> Endpoint | None:
    """The enabled ``ModelEndpoint`` serving ``model`` to the user with ``user_id``,
    else the endpoint of ``PRSM_OPENAI_BASE_URL`` if it serves ``model`` (to everyone).

    None if there is none, or if it is a team's endpoint and that user is not on the
    team (nor a superuser): names are unique, so there is no other endpoint to fall
    back to. Rows are cached for 30 s (misses too); membership is asked each time.
    A change saved in this process clears the cache at once; other worker
    processes see it within 30 s.
    """
    endpoint = _endpoint_row(model)
    if endpoint is None:
        return settings_endpoint(model)
    from workflows.catalog import endpoint_usable_by

    return endpoint if endpoint_usable_by(team_id=endpoint.team_id, user_id=user_id) else None


def endpoint_price(model: str, *, user_id: int | None) -> tuple[Decimal, Decimal]:
    """Input and output price per 1k tokens of the endpoint serving ``model`` to
    ``user_id`` (zero when none does: built-in models, or a team's endpoint the user
    is not on). Rows cached for 60 s, cleared as :func:`find_endpoint`'s are."""
    now = time.monotonic()
    with _cache_lock:
        hit = _price_cache.get(model)
    if hit is not None and now - hit[0] < PRICE_CACHE_SECONDS:
        row = hit[1]
    else:
        from workflows.models import ModelEndpoint

        row = (
            ModelEndpoint.objects.filter(name=model)
            .values_list("team_id", "input_price_per_1k", "output_price_per_1k")
            .first()
        )
        with _cache_lock:
            _price_cache[model] = (now, row)
    if row is None:
        return Decimal(0), Decimal(0)
    from workflows.catalog import endpoint_usable_by

    if not endpoint_usable_by(team_id=row[0], user_id=user_id):
        return Decimal(0), Decimal(0)
    return Decimal(row[1]), Decimal(row[2])


def _endpoint_row(model: str) -> Endpoint | None:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(model)
    if hit is not None and now - hit[0] < ENDPOINT_CACHE_SECONDS:
        return hit[1]
    from workflows.models import ModelEndpoint

    row = (
        ModelEndpoint.objects.filter(name=model, enabled=True)
        .values_list(
            "name",
            "provider",
            "base_url",
            "remote_model",
            "credentials_ref",
            "team_id",
            "api_key_encrypted",
        )
        .first()
    )
    endpoint = None
    if row:
        name, provider, base_url, remote_model, credentials_ref, team_id, sealed = row
        endpoint = Endpoint(
            name,
            provider,
            base_url,
            remote_model,
            credentials_ref,
            team_id,
            api_key_encrypted=sealed,
        )
    with _cache_lock:
        _cache[model] = (now, endpoint)
    return endpoint


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _prompt_text(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    return json.dumps(prompt, ensure_ascii=False, default=str)


def _timeout(parameters: Mapping[str, Any]) -> float:
    raw: Any = parameters.get("request_timeout")
    if raw is None:
        raw = getattr(settings, "PRSM_MODEL_REQUEST_TIMEOUT", DEFAULT_REQUEST_TIMEOUT)
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        raise StepError("invalid_input", "request_timeout must be a number of seconds.") from None
    if not 0 < seconds <= 3600:
        raise StepError("invalid_input", "request_timeout must be between 0 and 3600 seconds.")
    return seconds


def _error_text(response: httpx.Response) -> str:
    """The server's error message: ``error.message`` of a JSON body, or the body text."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return response.text[:MAX_ERROR_TEXT].strip()
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            parts = [str(error.get(k)) for k in ("message", "code", "type") if error.get(k)]
            if parts:
                return " / ".join(parts)[:MAX_ERROR_TEXT]
        elif isinstance(error, str):
            return error[:MAX_ERROR_TEXT]
        if "detail" in body:
            return str(body["detail"])[:MAX_ERROR_TEXT]
    return json.dumps(body)[:MAX_ERROR_TEXT]


class OpenAICompatibleProvider:
    """Chat completions over HTTP for one :class:`Endpoint`."""

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint

    @property
    def url(self) -> str:
        return self.endpoint.base_url.rstrip("/") + "/chat/completions"

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        key = self.endpoint.key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _body(self, prompt: Any, parameters: Mapping[str, Any]) -> dict[str, Any]:
        messages: list[dict[str, str]] = []
        system = parameters.get("system")
        if system:
            messages.append({"role": "system", "content": _prompt_text(system)})
        messages.append({"role": "user", "content": _prompt_text(prompt)})
        body: dict[str, Any] = {
            k: v for k, v in parameters.items() if k not in OWN_PARAMETERS and k not in FIXED_FIELDS
        }
        body.update(model=self.endpoint.model_id, messages=messages, stream=False)
        return body

    def complete(self, model: str, prompt: Any, parameters: Mapping[str, Any]) -> Completion:
        if not self.endpoint.base_url:
            raise StepError(
                "model_unavailable",
                f"The model endpoint '{self.endpoint.name}' has no base URL; set one "
                "on the Models page (/models/).",
            )
        seconds = _timeout(parameters)
        body = self._body(prompt, parameters)
        timeout = httpx.Timeout(seconds, connect=min(seconds, 10.0))
        try:
            with safe_client(timeout=timeout) as client:
                response = client.post(self.url, json=body, headers=self._headers())
        except httpx.TimeoutException:
            raise StepError(
                "timeout", f"The model server for '{model}' did not answer within {seconds:g} s."
            ) from None
        except OutboundUnresolvable as exc:
            raise StepError("temporary_failure", f"Model server for '{model}': {exc}") from None
        except OutboundBlocked as exc:
            raise StepError(
                "model_unavailable",
                f"The model server for '{model}' may not be requested: {exc}. A model server "
                "on a private or loopback address must be listed in PRSM_OUTBOUND_ALLOWLIST.",
            ) from None
        except httpx.TransportError as exc:
            raise StepError(
                "temporary_failure",
                f"Could not reach the model server for '{model}' ({type(exc).__name__}: {exc}).",
            ) from None
        self._raise_for_status(model, response)
        return self._completion(model, body, response)

    def _raise_for_status(self, model: str, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        detail = _error_text(response)
        key = self.endpoint.key()
        if len(key.strip()) >= 4:
            detail = detail.replace(key.strip(), "***")  # some servers echo the key back
        said = f": {detail}" if detail else ""
        where = f"The model server for '{model}' answered {status}{said}"
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            hint = f" (retry after {retry_after} s)" if retry_after else ""
            raise StepError("rate_limit", where + hint)
        if status in (401, 403):
            ref = self.endpoint.credentials_ref
            if self.endpoint.api_key_encrypted:
                hint = (
                    " The API key stored for this endpoint was refused; set a valid one on "
                    f"the Models page (/models/ → {self.endpoint.name} → Edit)."
                )
            elif ref:
                hint = (
                    f" Set the environment variable {ref} to a valid API key for this "
                    "server on the workers" + ("." if self.endpoint.key() else " (it is not set).")
                )
            else:
                hint = (
                    f" Set the endpoint's API key on the Models page (/models/ → "
                    f"{self.endpoint.name} → Edit)."
                )
            raise StepError("model_unavailable", where + "." + hint)
        if status == 404 or (status < 500 and _MODEL_MISSING.search(detail)):
            raise StepError(
                "model_unavailable",
                f"{where}. The server does not serve the model '{self.endpoint.model_id}'; "
                + (
                    "set PRSM_OPENAI_REMOTE_MODEL to a model it serves."
                    if self.endpoint.from_settings
                    else "check the endpoint's base URL and remote model."
                ),
            )
        if status == 408:
            raise StepError("timeout", where)
        if status >= 500:
            raise StepError("temporary_failure", where)
        raise StepError("invalid_input", where)

    def _completion(self, model: str, body: dict[str, Any], response: httpx.Response) -> Completion:
        try:
            data = response.json()
            content = data["choices"][0]["message"].get("content")
        except (ValueError, UnicodeDecodeError, KeyError, IndexError, TypeError, AttributeError):
            raise StepError(
                "execution_error",
                f"The model server for '{model}' sent an answer that is not a chat completion: "
                f"{response.text[:MAX_ERROR_TEXT]!r}",
            ) from None
        output = content if isinstance(content, str) else "" if content is None else str(content)
        usage = data.get("usage") if isinstance(data, dict) else None
        usage = usage if isinstance(usage, dict) else {}
        prompt_text = "\n".join(m["content"] for m in body["messages"])
        input_tokens = usage.get("prompt_tokens")
        output_tokens = usage.get("completion_tokens")
        return Completion(
            output,
            input_tokens if isinstance(input_tokens, int) else _estimate_tokens(prompt_text),
            output_tokens if isinstance(output_tokens, int) else _estimate_tokens(output),
        )


_connect_signals()
