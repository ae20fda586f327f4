"""Guessing is limited: sign-in lockout (django-axes) and failed API keys per client.

Sign-in through the login page or the admin is django-axes' job (settings
``AXES_*``, from ``PRSM_LOGIN_FAILURE_LIMIT`` and ``PRSM_LOGIN_COOLOFF_MINUTES``):
after that many wrong passwords for one username from one address, that pair is
locked out — even the right password is refused — until the cool-off passes or
``manage.py axes_reset`` is run. A successful sign-in resets the count.

API keys: every failed ``Bearer`` key (REST or websocket) counts against the
client's address in a fixed window of ``PRSM_API_KEY_FAILURE_WINDOW_SECONDS``;
past ``PRSM_API_KEY_FAILURE_LIMIT`` failures every ``Bearer`` request from that
address is refused (429 with ``Retry-After``; a websocket closes with 4401) before
its key is looked at, so a guess cannot be told right from wrong. Counts live in
the ``ratelimit`` cache (Redis), shared by every web process. If that cache cannot
be reached the limit is not applied (logged): a Redis outage must not lock
everyone out.

The client's address is ``REMOTE_ADDR``, or with ``PRSM_TRUSTED_PROXY_COUNT``
proxies in front, the address the outermost of them saw (read from
``X-Forwarded-For``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches

from workflows.errors import DomainError

logger = logging.getLogger(__name__)

CACHE_ALIAS = "ratelimit"
_KEY = "prsm:bearer-failures:{ip}:{window}"


class TooManyFailedKeys(DomainError):
    """Too many failed API keys from this address (429, with ``Retry-After``)."""

    http_status = 429
    code = "too_many_failed_keys"

    def __init__(self, retry_after: int):
        super().__init__(
            f"Too many invalid API keys from your address; try again in {retry_after} seconds."
        )
        self.retry_after = retry_after

    def details(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


def client_ip(request: Any) -> str:
    """The client's address (see the module docstring); ``AXES_CLIENT_IP_CALLABLE``."""
    return client_ip_from_meta(request.META)


def client_ip_from_meta(meta: Mapping[str, Any]) -> str:
    remote = str(meta.get("REMOTE_ADDR") or "")
    proxies = settings.PRSM_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if h.strip()]
    # The last proxy appended the address it saw; the outermost one's is ``proxies`` from the end.
    return hops[-proxies] if len(hops) >= proxies else (hops[0] if hops else remote)


@dataclass(frozen=True)
class _Window:
    key: str
    retry_after: int


def _window(ip: str) -> _Window:
    length = settings.PRSM_API_KEY_FAILURE_WINDOW_SECONDS
    now = time.time()
    index = int(now // length)
    return _Window(
        key=_KEY.format(ip=ip or "unknown", window=index),
        retry_after=max(1, int((index + 1) * length - now) + 1),
    )


def bearer_check(ip: str) -> None:
    """Raise ``TooManyFailedKeys`` if ``ip`` has used up its failed keys this window."""
    window = _window(ip)
    try:
        failures = caches[CACHE_ALIAS].get(window.key, 0)
    except Exception:
        logger.warning("The rate-limit cache is unreachable; API keys are not limited now.")
        return
    if failures >= settings.PRSM_API_KEY_FAILURE_LIMIT:
        raise TooManyFailedKeys(window.retry_after)


def bearer_failed(ip: str) -> None:
    """Count one failed API key from ``ip``."""
    window = _window(ip)
    cache = caches[CACHE_ALIAS]
    try:
        if not cache.add(window.key, 1, timeout=settings.PRSM_API_KEY_FAILURE_WINDOW_SECONDS + 1):
            cache.incr(window.key)
    except ValueError:  # expired between add and incr: start again
        cache.add(window.key, 1, timeout=settings.PRSM_API_KEY_FAILURE_WINDOW_SECONDS + 1)
    except Exception:
        logger.warning("The rate-limit cache is unreachable; a failed API key was not counted.")


def bearer_failures_reset(ip: str) -> None:
    """Forget this window's failed keys from ``ip`` (an operator's unlock, and tests)."""
    try:
        caches[CACHE_ALIAS].delete(_window(ip).key)
    except Exception:
        logger.warning("The rate-limit cache is unreachable; nothing was reset.")
