"""Real engine components for tests: Redis and Celery worker processes.

Tests that use the worker must use ``transactional_db``, so that what they write
is committed and visible to the worker process, which shares the test database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """A DATABASE_URL for the test database this process is using."""
    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{conf['NAME']}"
    user = conf.get("USER") or ""
    password = f":{conf['PASSWORD']}" if conf.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = conf.get("HOST") or "127.0.0.1"
    port = f":{conf['PORT']}" if conf.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{conf['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_database_url(),
        PRSM_VAR_DIR=str(settings.VAR_DIR),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)  # a test may give a process a var directory of its own
    return env


class Worker:
    """A real ``celery worker`` process (prefork) consuming the engine's queues."""

    def __init__(
        self,
        *,
        concurrency: int = 2,
        queues: str = "default",
        log: Path | None = None,
        extra_env: dict[str, str] | None = None,
        beat: bool = False,
    ):
        self._started_with = {
            "concurrency": concurrency,
            "queues": queues,
            "log": log,
            "extra_env": extra_env,
            "beat": beat,
        }
        self.log_path = (
            log or Path(settings.VAR_DIR) / f"worker-{os.getpid()}-{time.monotonic_ns()}.log"
        )
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "prsm_site",
                "worker",
                "-P",
                "prefork",
                "-c",
                str(concurrency),
                "-Q",
                queues,
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"test-{time.monotonic_ns()}@%h",
                *(
                    ["-B", "-s", str(Path(settings.VAR_DIR) / f"beat-{time.monotonic_ns()}")]
                    if beat
                    else []
                ),
            ],
            cwd=ROOT,
            env=child_env(**(extra_env or {})),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()

    def restart(self) -> None:
        """Start again, as it was first started (after ``stop`` or ``kill``)."""
        self.__init__(**self._started_with)  # type: ignore[misc]

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited:\n{self.log()}")
            if b"ready." in self.log_path.read_bytes():
                return
            time.sleep(0.1)
        raise RuntimeError(f"celery worker not ready in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def children(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        )
        return [int(p) for p in out.stdout.split()]

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children) at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if not self._log.closed:
            self._log.close()


def wait_for(
    predicate: Callable[[], Any],
    *,
    timeout: float = 30,
    interval: float = 0.1,
    message: str = "condition",
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def purge_queues() -> None:
    """Drop messages left in the broker by an earlier test."""
    from prsm_site.celery import app

    with app.connection_for_write() as conn:
        for queue in ("default", "gpu", "notifications"):
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:
                pass


def wait_worker_idle(timeout: float = 30) -> None:
    """Until no worker runs a task: the database may then be flushed safely."""
    from prsm_site.celery import app

    def idle() -> bool:
        replies = app.control.inspect(timeout=0.5).active() or {}
        return all(not tasks for tasks in replies.values())

    wait_for(idle, timeout=timeout, interval=0.2, message="the workers to be idle")


def stop_open_executions() -> None:
    """Cancel what a test left running, so nothing writes while the test data is flushed."""
    from executions.models import EXECUTION_TERMINAL, Execution
    from executions.services.lifecycle import ExecutionFinished, execution_cancel

    for execution in Execution.objects.exclude(status__in=EXECUTION_TERMINAL):
        try:
            execution_cancel(execution=execution, reason="Test teardown.")
        except ExecutionFinished:
            pass


def wait_database_quiet(timeout: float = 15) -> None:
    """Until no other session on the test database runs a statement or holds a transaction.

    The test database is flushed (one TRUNCATE of every table) after a committing test;
    a server process still answering the browser's last request then locks tables in
    another order, and PostgreSQL breaks the deadlock by failing the flush. SQLite has
    one writer at a time and nothing to wait for.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return

    def busy() -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, state, left(query, 200) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')"
            )
            return cursor.fetchall()

    last: list[tuple[Any, ...]] = []

    def quiet() -> bool:
        nonlocal last
        last = busy()
        return not last

    try:
        wait_for(quiet, timeout=timeout, interval=0.05, message="the database to be quiet")
    except AssertionError as error:
        raise AssertionError(f"{error}; still busy: {last}") from None
