"""Raw Celery tasks for the benchmark's baseline (loaded into the worker with -I)."""

from __future__ import annotations

import redis
from celery import shared_task
from django.conf import settings


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


@shared_task(name="bench.noop", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def noop(*_: object) -> None:
    return None


@shared_task(name="bench.mark", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def mark(*args: object, key: str) -> None:
    """A no-op that also counts itself, so the baseline knows when it is done."""
    _redis().incr(key)
