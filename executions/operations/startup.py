"""Checks a web or worker process makes of its surroundings when it starts.

``redis_eviction_warning``: the broker's Redis must never drop a key — a queued
step's message, a worker's registry entry — to make room, so an external Redis
(``REDIS_URL``) must run with ``maxmemory-policy noeviction``. The embedded one is
started so (``prsm_site.embedded``). A process whose Redis says otherwise starts,
and logs a warning saying what to set; ``manage.py check --deploy`` says the same
(``prsm.W001``).
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from django.conf import settings
from django.core import checks

logger = logging.getLogger(__name__)

REQUIRED_POLICY = "noeviction"


def redis_eviction_warning(url: str | None = None) -> str | None:
    """Why the broker's Redis (or the one at ``url``) may lose messages; None when
    its ``maxmemory-policy`` is ``noeviction`` or the embedded Redis is used."""
    if url is None:
        if not settings.REDIS_URL:
            return None
        url = settings.REDIS_URL
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        policy = (client.config_get("maxmemory-policy") or {}).get("maxmemory-policy")
    except redis.ResponseError as exc:  # a hosted Redis that refuses CONFIG
        return (
            f"the Redis at REDIS_URL does not tell its maxmemory-policy ({exc}); make sure it "
            f"is '{REQUIRED_POLICY}', or a full Redis drops queued steps"
        )
    except redis.RedisError as exc:
        return f"the Redis at REDIS_URL could not be asked its maxmemory-policy ({exc})"
    if policy != REQUIRED_POLICY:
        return (
            f"the Redis at REDIS_URL has maxmemory-policy '{policy}': a full Redis would "
            "evict queued steps' messages and workers' registry entries. Set "
            f"'maxmemory-policy {REQUIRED_POLICY}' in its configuration (redis.conf, or "
            f"CONFIG SET maxmemory-policy {REQUIRED_POLICY})"
        )
    return None


def startup_checks(role: str) -> None:
    """Log what a starting process should be told (never stops it)."""
    warning = redis_eviction_warning()
    if warning:
        logger.warning("%s: %s", role, warning)


@checks.register(checks.Tags.compatibility, deploy=True)
def _redis_eviction_check(**_: Any) -> list[checks.CheckMessage]:
    warning = redis_eviction_warning()
    return [checks.Warning(warning, id="prsm.W001")] if warning else []
