"""The registry of live workers: which queues have a consumer right now.

Each worker's main process (``prsm_site.celery``, on ``worker_ready``) runs a daemon
thread that every ``PRSM_HEARTBEAT_SECONDS`` writes its entry to the broker's Redis
— ``prsm:worker:<nodename>``, JSON ``{node, host, queues, concurrency, pid, at}`` —
with a time to live of three beats, and names itself in the set ``prsm:workers``.
A worker that shuts down removes its entry; one that is killed drops out when the
entry expires. Readers take every entry in one round trip (a Lua script that also
forgets expired names) and keep the answer a second or two in-process.

The registry is advice for people and for the reaper (which does not republish to
a queue nobody consumes): the database stays the truth about steps.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "prsm:worker:"
INDEX_KEY = "prsm:workers"
#: An entry lives this many heartbeats; a worker missing them is taken for gone.
TTL_BEATS = 3
#: How long readers in one process reuse what they read.
CACHE_SECONDS = 1.5

# Every live entry, in one round trip; names whose entry expired leave the index.
_READ_ALL = """
local out = {}
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    local entry = redis.call('GET', ARGV[1] .. name)
    if entry then
        table.insert(out, entry)
    else
        redis.call('SREM', KEYS[1], name)
    end
end
return out
"""

_clients: dict[str, redis.Redis] = {}
_cache: tuple[float, str, list[dict[str, Any]]] | None = None
_beating: _Heartbeat | None = None


def redis_url_of_broker() -> str:
    """The broker's Redis as a redis-py URL (Kombu spells a unix socket ``redis+socket``)."""
    from prsm_site.celery import app

    url = str(app.conf.broker_write_url or app.conf.broker_url)
    if url.startswith("redis+socket://"):
        return "unix://" + url.removeprefix("redis+socket://")
    return url


def _client() -> redis.Redis:
    url = redis_url_of_broker()
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=2, decode_responses=True
        )
    return client


def workers_live() -> list[dict[str, Any]]:
    """Every worker whose heartbeat is current, as it registered itself.

    Raises ``redis.RedisError`` when the broker's Redis cannot be read.
    """
    global _cache
    url = redis_url_of_broker()
    now = time.monotonic()
    if _cache is not None and _cache[1] == url and now - _cache[0] < CACHE_SECONDS:
        return _cache[2]
    raw = _client().eval(_READ_ALL, 1, INDEX_KEY, KEY_PREFIX)
    found: list[dict[str, Any]] = []
    for entry in raw or []:
        try:
            found.append(json.loads(entry))
        except ValueError:
            continue
    found.sort(key=lambda w: str(w.get("node", "")))
    _cache = (now, url, found)
    return found


def queue_consumers(queues: Iterable[str]) -> dict[str, int]:
    """How many live workers consume each of ``queues`` (0: none does).

    Cheap: one Redis round trip, or none within ``CACHE_SECONDS`` of the last.
    Raises ``redis.RedisError`` when the broker's Redis cannot be read.
    """
    wanted = list(dict.fromkeys(queues))
    counts = dict.fromkeys(wanted, 0)
    if not wanted:
        return counts
    for worker in workers_live():
        for queue in worker.get("queues") or ():
            if queue in counts:
                counts[queue] += 1
    return counts


def registry_forget_cache() -> None:
    """Read the registry afresh next time (after a change this process made)."""
    global _cache
    _cache = None


# --------------------------------------------------------------------------- the worker side


class _Heartbeat(threading.Thread):
    """Writes one worker's entry every ``interval`` seconds until stopped."""

    def __init__(self, *, node: str, queues: list[str], concurrency: int, interval: float):
        super().__init__(name="prsm-worker-registry", daemon=True)
        self.node, self.interval = node, interval
        self.entry = {
            "node": node,
            "host": socket.gethostname(),
            "queues": queues,
            "concurrency": concurrency,
            "pid": os.getpid(),
        }
        self.stopped = threading.Event()

    @property
    def key(self) -> str:
        return KEY_PREFIX + self.node

    def beat(self) -> None:
        entry = json.dumps({**self.entry, "at": time.time()})
        ttl = max(1, round(TTL_BEATS * self.interval))
        pipe = _client().pipeline(transaction=False)
        pipe.set(self.key, entry, ex=ttl)
        pipe.sadd(INDEX_KEY, self.node)
        pipe.execute()

    def run(self) -> None:
        failing = False
        while not self.stopped.is_set():
            try:
                self.beat()
                if failing:
                    logger.info("worker registry: %s beats again", self.node)
                failing = False
            except redis.RedisError as exc:  # Redis away: beat again when it is back
                if not failing:
                    logger.warning("worker registry: cannot write %s: %s", self.key, exc)
                failing = True
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=self.interval + 1)
        try:
            pipe = _client().pipeline(transaction=False)
            pipe.delete(self.key)
            pipe.srem(INDEX_KEY, self.node)
            pipe.execute()
        except redis.RedisError as exc:  # the entry expires on its own
            logger.warning("worker registry: cannot remove %s: %s", self.key, exc)


def registry_start(*, node: str, queues: list[str], concurrency: int) -> None:
    """Register this worker process and keep its entry alive (a daemon thread).

    Called once, in the worker's main process, when it is ready to consume.
    """
    global _beating
    if _beating is not None:
        return
    _beating = _Heartbeat(
        node=node,
        queues=queues,
        concurrency=concurrency,
        interval=float(settings.PRSM_HEARTBEAT_SECONDS),
    )
    try:
        _beating.beat()  # registered before the first task, not a beat later
    except redis.RedisError as exc:
        logger.warning("worker registry: cannot write %s: %s", _beating.key, exc)
    _beating.start()


def registry_stop() -> None:
    """Remove this worker's entry (on shutdown)."""
    global _beating
    if _beating is not None:
        _beating.stop()
        _beating = None
