"""The registry of live workers: each real worker process registers the queues it
consumes and beats; a stopped worker leaves at once, a killed one when its entry
expires."""

from __future__ import annotations

import time
from typing import Any

import redis

from executions import workers
from tests.engine import Worker, wait_for


def _consumers(*queues: str) -> dict[str, int]:
    workers.registry_forget_cache()
    return workers.queue_consumers(queues)


def _entry_of(process_pid: int) -> dict[str, Any] | None:
    workers.registry_forget_cache()
    return next((w for w in workers.workers_live() if w["pid"] == process_pid), None)


def _redis() -> redis.Redis:
    return redis.Redis.from_url(workers.redis_url_of_broker(), decode_responses=True)


def test_the_default_queue_has_a_live_consumer_and_an_unknown_queue_none(worker: Any) -> None:
    counts = _consumers("default", "nobody-consumes-this")

    assert counts["default"] >= 1
    assert counts["nobody-consumes-this"] == 0
    entry = _entry_of(worker.process.pid)
    assert entry is not None
    assert entry["queues"] == ["default"]
    assert entry["concurrency"] == 2
    assert entry["node"].startswith("test-")
    assert time.time() - entry["at"] < 30


def test_a_stopped_worker_leaves_the_registry_at_once(transactional_db: Any) -> None:
    own = Worker(concurrency=1, queues="registry-stop")
    try:
        assert _consumers("registry-stop") == {"registry-stop": 1}
    finally:
        own.stop()

    assert _consumers("registry-stop") == {"registry-stop": 0}
    assert _entry_of(own.process.pid) is None


def test_a_killed_worker_drops_out_when_its_entry_expires(transactional_db: Any) -> None:
    own = Worker(concurrency=1, queues="registry-kill", extra_env={"PRSM_HEARTBEAT_SECONDS": "1"})
    entry = _entry_of(own.process.pid)
    assert entry is not None
    key = workers.KEY_PREFIX + entry["node"]
    assert 0 < _redis().ttl(key) <= workers.TTL_BEATS

    own.kill()  # SIGKILL: no shutdown handler runs
    assert _consumers("registry-kill") == {"registry-kill": 1}  # until the entry expires

    wait_for(
        lambda: _consumers("registry-kill") == {"registry-kill": 0},
        timeout=workers.TTL_BEATS + 3,
        message="the killed worker's entry to expire",
    )
    assert not _redis().exists(key)
    assert entry["node"] not in _redis().smembers(workers.INDEX_KEY)
