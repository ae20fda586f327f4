"""Engine counters kept in the broker's Redis, so every process reads the same.

Workers and the beat are other processes than the web: a counter in one process's
memory would be seen only by a scrape of that process. So the reaper adds what
each pass did to one hash, and a worker adds each step's duration to a histogram
of buckets in Redis, keyed by step type. Writing is best effort: a Redis that is
away loses a count, never a step (the database stays the truth).

Keys: ``prsm:reaper:last_run`` (a Unix time), ``prsm:reaper:actions`` (hash:
action → total), ``prsm:reaper:slot:<seconds>:<n>`` (the interval a pass was taken
for, see ``reaper_turn_claim``), ``prsm:reaper:passes`` (passes run),
``prsm:reaper:skipped`` and ``prsm:reaper:last_skipped`` (passes not run because
another beat's pass had the interval), ``prsm:metrics:step_seconds:<type>`` (hash:
``le:<bound>`` → count of steps that took at most that, plus ``count`` and
``sum``), and the set ``prsm:metrics:step_types``.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

import redis

logger = logging.getLogger(__name__)

REAPER_LAST_RUN = "prsm:reaper:last_run"
REAPER_ACTIONS = "prsm:reaper:actions"
REAPER_SLOT_PREFIX = "prsm:reaper:slot:"
REAPER_PASSES = "prsm:reaper:passes"
REAPER_SKIPPED = "prsm:reaper:skipped"
REAPER_LAST_SKIPPED = "prsm:reaper:last_skipped"
STEP_SECONDS_PREFIX = "prsm:metrics:step_seconds:"
STEP_TYPES = "prsm:metrics:step_types"
#: Upper bounds (seconds) of the step duration histogram's buckets.
STEP_SECONDS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


def _client() -> redis.Redis:
    from executions.workers import _client as broker_redis

    return broker_redis()


def reaper_record(counts: Mapping[str, int], *, at: float | None = None) -> None:
    """Note that the reaper ran (now, or ``at``) and add what it did to the totals."""
    try:
        pipe = _client().pipeline(transaction=False)
        pipe.set(REAPER_LAST_RUN, repr(time.time() if at is None else at))
        pipe.incr(REAPER_PASSES)
        for action, count in counts.items():
            if count:
                pipe.hincrby(REAPER_ACTIONS, action, int(count))
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("reaper: could not record its pass in Redis: %s", exc)


def reaper_last_run() -> float | None:
    """When the reaper last ran (Unix time), or None if never. Raises ``RedisError``."""
    raw = _client().get(REAPER_LAST_RUN)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def reaper_turn_claim(interval: float, *, at: float | None = None) -> bool:
    """Take the reaper's pass for the current interval, if no one has: True once per
    ``interval`` seconds of wall time (the interval's number is the time divided by
    it), whichever process asks first. Two beats each publish a pass per interval;
    the later of the two finds it taken. Raises ``RedisError``."""
    now = time.time() if at is None else at
    slot = int(now // interval)
    keep = max(1, math.ceil(2 * interval))
    key = f"{REAPER_SLOT_PREFIX}{interval:g}:{slot}"
    return bool(_client().set(key, repr(now), nx=True, ex=keep))


def reaper_skip_record(*, at: float | None = None) -> None:
    """Note a pass not run because the interval's pass was taken (best effort)."""
    try:
        pipe = _client().pipeline(transaction=False)
        pipe.incr(REAPER_SKIPPED)
        pipe.set(REAPER_LAST_SKIPPED, repr(time.time() if at is None else at))
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("reaper: could not record a skipped pass in Redis: %s", exc)


def reaper_passes() -> int:
    """Reaper passes run, in total. Raises ``RedisError``."""
    return int(_client().get(REAPER_PASSES) or 0)  # type: ignore[arg-type]


def reaper_skips() -> tuple[int, float | None]:
    """(passes skipped in total, when the last was, or None). Raises ``RedisError``."""
    count, last = _client().mget(REAPER_SKIPPED, REAPER_LAST_SKIPPED)  # type: ignore[misc]
    try:
        return int(count or 0), float(last) if last is not None else None
    except ValueError:
        return 0, None


def reaper_actions() -> dict[str, int]:
    """What the reaper did, in total since Redis was last emptied. Raises ``RedisError``."""
    raw: dict[str, str] = _client().hgetall(REAPER_ACTIONS) or {}  # type: ignore[assignment]
    return {k: int(v) for k, v in raw.items()}


class _DurationBuffer:
    """Step durations a worker process observed but has not yet added to Redis.

    Adding each step's duration as it ends would cost a Redis round trip on every
    step (a tenth of the engine's own bookkeeping per step); instead a process sums
    what it saw and a timer thread adds it at most every ``FLUSH_SECONDS``. What a
    process killed in that window had not added is lost: a metric, not a step.
    """

    FLUSH_SECONDS = 0.5

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[str, list[float]] = {}  # type → [≤ each bound…, count, sum]
        self.timer: threading.Timer | None = None

    def after_fork(self) -> None:
        """In a forked pool process: the parent's timer thread and lock are not ours."""
        self.lock = threading.Lock()
        self.pending, self.timer = {}, None

    def add(self, step_type: str, seconds: float) -> None:
        with self.lock:
            row = self.pending.setdefault(step_type, [0.0] * (len(STEP_SECONDS_BUCKETS) + 2))
            for i, bound in enumerate(STEP_SECONDS_BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[-2] += 1
            row[-1] += max(0.0, seconds)
            if self.timer is None:
                self.timer = threading.Timer(self.FLUSH_SECONDS, self.flush)
                self.timer.daemon = True
                self.timer.start()

    def flush(self) -> None:
        with self.lock:
            pending, self.pending, self.timer = self.pending, {}, None
        if not pending:
            return
        try:
            pipe = _client().pipeline(transaction=False)
            for step_type, row in pending.items():
                key = STEP_SECONDS_PREFIX + step_type
                pipe.sadd(STEP_TYPES, step_type)
                for bound, count in zip(STEP_SECONDS_BUCKETS, row, strict=False):
                    if count:
                        pipe.hincrby(key, f"le:{bound}", int(count))
                pipe.hincrby(key, "count", int(row[-2]))
                pipe.hincrbyfloat(key, "sum", row[-1])
            pipe.execute()
        except redis.RedisError as exc:
            logger.debug("could not add step durations to Redis: %s", exc)


_durations = _DurationBuffer()
os.register_at_fork(after_in_child=_durations.after_fork)


def step_duration_observe(*, step_type: str, seconds: float) -> None:
    """Count one step of ``step_type`` that ran for ``seconds`` (added to Redis
    within ``_DurationBuffer.FLUSH_SECONDS``, best effort)."""
    _durations.add(step_type, seconds)


def step_durations_flush() -> None:
    """Add what this process observed to Redis now."""
    _durations.flush()


def step_durations() -> dict[str, dict[str, float]]:
    """Per step type, the raw histogram hash (``le:<bound>``, ``count``, ``sum``).

    Raises ``RedisError``."""
    client = _client()
    members: set[str] = client.smembers(STEP_TYPES) or set()  # type: ignore[assignment]
    types = sorted(members)
    if not types:
        return {}
    pipe = client.pipeline(transaction=False)
    for step_type in types:
        pipe.hgetall(STEP_SECONDS_PREFIX + step_type)
    hashes: list[dict[str, str]] = pipe.execute()
    return {
        step_type: {k: float(v) for k, v in (raw or {}).items()}
        for step_type, raw in zip(types, hashes, strict=True)
    }


def queue_depths(queues: list[str]) -> dict[str, int]:
    """Messages waiting on each queue: Kombu keeps one Redis list per priority
    (``<queue>``, ``<queue>:1`` … ``<queue>:9``). Raises ``RedisError``."""
    from django.conf import settings

    options: dict[str, Any] = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    sep = str(options.get("sep", ":"))
    steps = [p for p in options.get("priority_steps", [0]) if p]
    pipe = _client().pipeline(transaction=False)
    for queue in queues:
        pipe.llen(queue)
        for priority in steps:
            pipe.llen(f"{queue}{sep}{priority}")
    lengths = iter(pipe.execute())
    return {queue: sum(next(lengths) for _ in range(1 + len(steps))) for queue in queues}
