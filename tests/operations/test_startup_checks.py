"""Start-up checks: an external Redis that may evict keys is warned of (at start-up
and by ``check --deploy``), against real Redis servers of the test's own; a step's
unexpected file system error never records a server path."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.management import call_command

from executions.operations.startup import redis_eviction_warning
from executions.services.runner import _unexpected_error_message
from prsm_site.embedded import redis_server_binary
from tests.engine import Worker, wait_for


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def evicting_redis() -> Iterator[str]:
    """A Redis on loopback that evicts (allkeys-lru), as a default install may."""
    port = _free_port()
    process = subprocess.Popen(
        [
            redis_server_binary(),
            *("--port", str(port), "--bind", "127.0.0.1", "--save", ""),
            *("--appendonly", "no", "--maxmemory-policy", "allkeys-lru"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"

    def answers() -> bool:
        try:
            return bool(redis.Redis.from_url(url).ping())
        except redis.RedisError:
            return False

    try:
        wait_for(answers, timeout=20, message="the evicting Redis to answer")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def test_an_evicting_redis_is_named_with_what_to_set(evicting_redis: str) -> None:
    warning = redis_eviction_warning(evicting_redis)
    assert warning is not None
    assert "maxmemory-policy 'allkeys-lru'" in warning
    assert "maxmemory-policy noeviction" in warning

    redis.Redis.from_url(evicting_redis).config_set("maxmemory-policy", "noeviction")
    assert redis_eviction_warning(evicting_redis) is None


def test_a_redis_that_does_not_answer_is_said_so() -> None:
    warning = redis_eviction_warning(f"redis://127.0.0.1:{_free_port()}/0")
    assert warning is not None and "could not be asked" in warning


def test_check_deploy_and_a_starting_worker_warn_of_it(
    evicting_redis: str,
    settings: Any,
    capsys: Any,
    transactional_db: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.REDIS_URL = evicting_redis
    # set for the whole session by the browser tests' conftest; check --deploy refuses it
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    call_command("check", "--deploy")
    assert "prsm.W001" in capsys.readouterr().err

    worker = Worker(concurrency=1, queues="default", extra_env={"REDIS_URL": evicting_redis})
    try:
        log = wait_for(
            lambda: "maxmemory-policy 'allkeys-lru'" in worker.log() and worker.log(),
            timeout=10,
            message="the worker's warning",
        )
    finally:
        worker.stop()
    assert "worker: the Redis at REDIS_URL has maxmemory-policy 'allkeys-lru'" in log


def test_an_unexpected_file_error_in_a_step_names_no_path() -> None:
    error = FileNotFoundError(2, "No such file or directory", "/srv/prsm/var/media/files/x")
    assert _unexpected_error_message(error) == "FileNotFoundError: No such file or directory"
    assert _unexpected_error_message(ValueError("bad")) == "ValueError: bad"
