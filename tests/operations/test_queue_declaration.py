"""One source of truth for queues: the first process records its view, and a real
worker or web server whose queues differ refuses to start, naming the difference."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from executions.models import QueueDeclaration
from executions.operations.queues import (
    EXIT_QUEUES_DIFFER,
    SINGLETON,
    declaration,
    differences,
)
from tests.engine import ROOT, Worker, child_env, wait_for
from tests.live_server import DaphneServer

HERE = [
    {"name": "default", "cpu_cores": 16, "ram_gb": 64, "gpu": False},
    {"name": "gpu", "cpu_cores": 8, "ram_gb": 32, "gpu": True},
]
THERE = [
    {"name": "default", "cpu_cores": 8, "ram_gb": 64, "gpu": False},
    {"name": "bigmem", "cpu_cores": 8, "ram_gb": 512, "gpu": False},
]


@pytest.fixture
def nothing_recorded(transactional_db: Any) -> None:
    QueueDeclaration.objects.all().delete()


def _env(queues: list[dict[str, Any]]) -> dict[str, str]:
    return {"PRSM_WORKER_QUEUES": json.dumps(queues)}


CELERY_WORKER = [sys.executable, "-m", "celery", "-A", "prsm_site", "worker", "-c", "1"]


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A process expected to refuse to start: it exits by itself (bounded)."""
    return subprocess.run(
        command,
        cwd=ROOT,
        env=child_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )


def test_the_first_worker_records_its_queues_and_one_that_differs_refuses_to_start(
    nothing_recorded: None, redis_server: Any
) -> None:
    first = Worker(concurrency=1, extra_env=_env(HERE))
    try:
        recorded = QueueDeclaration.objects.get()
        assert recorded.declared["queues"] == HERE
        assert recorded.declared["routes"]["executions.deliver_webhook"] == "notifications"
        assert recorded.recorded_by.startswith("worker on ")

        same = Worker(concurrency=1, extra_env=_env(HERE))  # agrees: starts
        same.stop()

        refused = _run([*CELERY_WORKER, "-n", f"refused-{time.monotonic_ns()}@%h"], _env(THERE))
        assert first.process.poll() is None  # the first one runs on
    finally:
        first.stop()
    assert refused.returncode == EXIT_QUEUES_DIFFER
    log = refused.stdout
    assert "refusing to start" in log
    assert "queue 'gpu' (8 CPU cores, 32 GB RAM, GPU) is declared there, not here" in log
    assert "queue 'bigmem' (8 CPU cores, 512 GB RAM) is declared here, not there" in log
    assert "queue 'default' has cpu_cores 8 here, 16 there" in log
    assert "manage.py queues --declare" in log
    assert QueueDeclaration.objects.get().declared["queues"] == HERE  # unchanged


def test_a_web_process_whose_queues_differ_refuses_to_start(
    nothing_recorded: None, redis_server: Any
) -> None:
    QueueDeclaration.objects.create(
        pk=SINGLETON,
        declared={**declaration(), "queues": HERE},
        recorded_by="worker on lab-1 (pid 1)",
    )
    refused = _run(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            "0",
            "prsm_site.asgi:application",
        ],
        _env(THERE),
    )
    assert refused.returncode == EXIT_QUEUES_DIFFER
    message = refused.stdout
    assert "This web process's queues differ" in message
    assert "recorded by worker on lab-1 (pid 1)" in message
    assert "queue 'gpu' (8 CPU cores, 32 GB RAM, GPU) is declared there, not here" in message

    server = DaphneServer.start(extra_env=_env(HERE))  # the same view: it serves
    server.stop()


def test_declaring_new_queues_lets_processes_with_them_start(
    nothing_recorded: None, redis_server: Any
) -> None:
    QueueDeclaration.objects.create(
        pk=SINGLETON, declared={**declaration(), "queues": HERE}, recorded_by="x"
    )
    command = [sys.executable, "manage.py", "queues"]
    check = subprocess.run(
        command, cwd=ROOT, env=child_env(**_env(THERE)), capture_output=True, text=True, timeout=60
    )
    assert check.returncode != 0
    assert "This machine differs" in check.stderr

    declare = subprocess.run(
        [*command, "--declare"],
        cwd=ROOT,
        env=child_env(**_env(THERE)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert declare.returncode == 0, declare.stderr
    assert "Changed: queue 'gpu'" in declare.stdout
    assert QueueDeclaration.objects.get().declared["queues"] == THERE

    worker = Worker(concurrency=1, extra_env=_env(THERE))
    worker.stop()
    with pytest.raises(CommandError, match="queue 'bigmem'"):
        call_command("queues")  # this (test) process still has the old default view


def test_differences_name_the_order_and_routes() -> None:
    here = {"queues": HERE, "routes": {"t": "notifications"}}
    there = {"queues": list(reversed(HERE)), "routes": {"t": "mail"}}
    assert differences(here, here) == []
    assert differences(here, there) == [
        "the queues are declared in another order here (default, gpu) than there "
        "(gpu, default): a step goes to the first that fits",
        "task 't' is routed to 'notifications' here, 'mail' there",
    ]


def test_serve_declares_its_own_queues_since_it_is_the_whole_deployment(
    nothing_recorded: None, redis_server: Any, tmp_path: Any
) -> None:
    QueueDeclaration.objects.create(
        pk=SINGLETON, declared={**declaration(), "queues": THERE}, recorded_by="an older run"
    )
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        serve = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", "0", "--concurrency", "1"],
            cwd=ROOT,
            env=child_env(LOG_LEVEL="INFO"),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(
            lambda: (
                b"ready." in log_path.read_bytes()
                and b"Listening on TCP address" in log_path.read_bytes()
            ),
            timeout=90,
            message="serve's worker and web to start",
        )
        assert serve.poll() is None
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(60)
    row = QueueDeclaration.objects.get()
    assert row.declared == declaration()  # this machine's: the default queue
    assert row.recorded_by.startswith("manage.py serve on ")
    assert b"refusing to start" not in log_path.read_bytes()
