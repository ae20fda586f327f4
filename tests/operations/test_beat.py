"""One reaper pass per interval however many beats run: two real ``celery beat``
processes and a real worker against real Redis and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from executions.operations import counters
from executions.services import reaper
from executions.workers import registry_forget_cache
from tests.engine import ROOT, Worker, child_env, wait_for
from tests.engine import test_database_url as database_url
from tests.operations.test_metrics import scrape, value

INTERVAL = "1"


def _forget_reaper(client: Any) -> None:
    keys = list(client.scan_iter(f"{counters.REAPER_SLOT_PREFIX}*"))
    client.delete(
        *keys,
        counters.REAPER_LAST_RUN,
        counters.REAPER_PASSES,
        counters.REAPER_SKIPPED,
        counters.REAPER_LAST_SKIPPED,
    )


@pytest.fixture
def fresh_reaper(redis_server: Any) -> Any:
    client = counters._client()
    _forget_reaper(client)
    yield client
    _forget_reaper(client)


class Beat:
    """A real ``celery beat`` process with its own schedule file."""

    def __init__(self, name: str, *, env: dict[str, str]):
        var = Path(settings.VAR_DIR)
        self.log_path = var / f"beat-{name}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "prsm_site",
                "beat",
                "--loglevel",
                "INFO",
                "-s",
                str(var / f"beat-schedule-{name}-{time.monotonic_ns()}"),
            ],
            cwd=ROOT,
            env=child_env(**env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def sent(self) -> int:
        return self.log_path.read_text(errors="replace").count("Sending due task reap")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._log.close()


def test_two_beats_run_one_reaper_pass_per_interval(
    transactional_db: Any, fresh_reaper: Any, client: Client, django_user_model: Any
) -> None:
    env = {"PRSM_REAPER_INTERVAL_SECONDS": INTERVAL}
    own = Worker(queues="default,notifications", extra_env=env)
    beats = [Beat("a", env=env), Beat("b", env=env)]
    started = time.time()
    try:
        wait_for(
            lambda: all(b.sent() >= 4 for b in beats) and counters.reaper_skips()[0] >= 2,
            timeout=90,
            interval=0.5,
            message="both beats to publish 4 passes and a pass to be skipped",
        )
        registry_forget_cache()
        ready = client.get("/readyz").json()
    finally:
        for beat in beats:
            beat.stop()
        sent = [b.sent() for b in beats]
        elapsed = time.time() - started
        # every published pass has been taken or skipped before the worker stops
        wait_for(
            lambda: counters.reaper_passes() + counters.reaper_skips()[0] >= sum(sent),
            timeout=30,
            message="the worker to take every published pass",
        )
        own.stop()

    passes = counters.reaper_passes()
    skipped, _ = counters.reaper_skips()
    assert passes + skipped == sum(sent)
    # one pass per 1 s interval at most (each beat alone sends one per interval)
    assert passes <= elapsed / float(INTERVAL) + 1
    assert passes < sum(sent)
    assert skipped >= 2
    assert ready["checks"]["reaper"]["ok"]
    assert "more than one beat is running" in ready["checks"]["reaper"]["detail"]
    assert ready["checks"]["reaper"]["skipped_passes"] >= 2
    staff = django_user_model.objects.create_user("olivia", password="pw-olivia-1!", is_staff=True)
    samples = scrape(staff)
    assert value(samples, "prsm_reaper_passes_total", outcome="ran") == passes
    assert value(samples, "prsm_reaper_passes_total", outcome="skipped") == skipped


def test_a_pass_waits_for_no_one_while_another_holds_the_lock(
    transactional_db: Any, fresh_reaper: Any
) -> None:
    from django.db import connection

    if connection.vendor == "postgresql":  # SQLite has one writer and no advisory lock
        # Another process's pass, running: it holds the advisory lock on its connection.
        other = psycopg.connect(database_url(), autocommit=True)
        try:
            other.execute("SELECT pg_advisory_lock(%s)", [reaper.REAPER_LOCK])
            assert reaper.reap_once(3600.0) is None  # the turn was free, the lock was not
            assert counters.reaper_skips()[0] == 1
            assert counters.reaper_last_run() is None
            other.execute("SELECT pg_advisory_unlock(%s)", [reaper.REAPER_LOCK])
        finally:
            other.close()
        _forget_reaper(fresh_reaper)
    counts = reaper.reap_once(3600.0)
    assert counts is not None and set(counts) >= {"lost_workers", "republished"}
    assert reaper.reap_once(3600.0) is None  # this interval's pass is taken
    assert counters.reaper_passes() == 1


def test_racing_reaper_invocations_run_one_pass(transactional_db: Any, fresh_reaper: Any) -> None:
    results: list[Any] = []
    gate = threading.Barrier(4)

    def race() -> None:
        try:
            gate.wait(10)
            results.append(reaper.reap_once(3600.0))
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(results) == 4
    assert sum(r is not None for r in results) == 1
    assert counters.reaper_passes() == 1
    assert counters.reaper_skips()[0] == 3
